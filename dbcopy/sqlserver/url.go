package sqlserver

import (
	"errors"
	"net/url"
	"strings"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// AppName is the program name mxmigrate's own sessions announce, so that
// the check for other sessions can leave them out.
const AppName = "mxmigrate"

// connInfo is what a --db URL says, split into the DSN go-mssqldb takes
// and a description without secrets.
type connInfo struct {
	dsn         string
	description string
	database    string
	azure       bool
}

// parseURL reads sqlserver://USER:PASS@HOST[:PORT][/INSTANCE]?database=DB
// (or azuresql:// with the same shape). Errors never quote the URL: it may
// hold a password.
func parseURL(u *url.URL) (connInfo, error) {
	bad := func(msg string) (connInfo, error) {
		return connInfo{}, exitcode.With(exitcode.BadInput, errors.New("--db: "+msg))
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "sqlserver" && scheme != "azuresql" {
		return bad("not a sqlserver:// or azuresql:// URL")
	}
	if u.Hostname() == "" {
		return bad("no host (expected sqlserver://user:password@host:1433?database=db)")
	}
	q := u.Query()
	database := q.Get("database")
	if database == "" {
		// Without it the login's default database, often master, would
		// receive the tables.
		return bad("name the database: add ?database=NAME")
	}
	if q.Get("fedauth") != "" {
		return bad("Azure AD (fedauth) sign-in is not supported: use SQL authentication (user and password in the URL)")
	}
	azure := scheme == "azuresql" || strings.HasSuffix(strings.ToLower(u.Hostname()), ".database.windows.net")
	if azure && q.Get("encrypt") == "" {
		q.Set("encrypt", "true") // Azure SQL refuses unencrypted sessions
	}
	q.Set("app name", AppName)
	// uniqueidentifier values are sent in SQL Server's own byte order (see
	// typemap): the driver must not reorder them again.
	q.Del("guid conversion")

	c := *u
	c.Scheme = "sqlserver"
	c.RawQuery = q.Encode()

	desc := url.URL{Scheme: scheme, Host: u.Host, Path: u.Path}
	if u.User != nil {
		desc.User = url.User(u.User.Username())
	}
	desc.RawQuery = url.Values{"database": {database}}.Encode()
	return connInfo{dsn: c.String(), description: desc.String(), database: database, azure: azure}, nil
}
