package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	mssql "github.com/microsoft/go-mssqldb"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// openTarget opens a database target. A server that refuses the
// credentials gets the exit code of a configuration error (BadInput), as
// the stores' access-denied errors do: a person must fix the URL or the
// secret. A server that does not answer stays a Failure.
func openTarget(ctx context.Context, url string, opts dbcopy.Options) (dbcopy.Target, error) {
	target, err := dbcopy.Open(ctx, url, opts)
	return target, refusedCredentials(err)
}

// refusedCredentials marks err as BadInput when it is a database server's
// refusal of the credentials (targets may connect lazily: apply it to the
// first calls that connect too).
func refusedCredentials(err error) error {
	if err != nil && credentialRefused(err) && exitcode.Of(err) != exitcode.BadInput {
		return exitcode.With(exitcode.BadInput, fmt.Errorf("%w: the server refused the credentials; check the user name and password of --db", err))
	}
	return err
}

// credentialRefused reports whether err is a server's refusal of the user
// or password: SQLSTATE class 28 (invalid authorization) from PostgreSQL,
// error 18456 (login failed) from SQL Server.
func credentialRefused(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "28")
	}
	var msErr mssql.Error
	if errors.As(err, &msErr) {
		return msErr.Number == 18456
	}
	var msErrPtr *mssql.Error
	if errors.As(err, &msErrPtr) {
		return msErrPtr.Number == 18456
	}
	return false
}
