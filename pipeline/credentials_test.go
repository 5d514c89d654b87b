package pipeline_test

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/mxmigrate/mxmigrate/dbcopy/sqlserver"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/pipeline"
)

// A refused credential is a configuration error a person must fix: exit 2
// for every target and store. An endpoint that does not answer is a
// failure that may pass: exit 1, for every one alike.
func TestCredentialExitCodesAreConsistent(t *testing.T) {
	isolateCredentials(t)
	cluster := testenv.Postgres(t)
	minio := testenv.MinIO(t)
	azurite := testenv.Azurite(t)
	closedPort, err := testenv.FreePort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	goodDB := testenv.NewDatabase(t, cluster)
	wrongRole, _ := url.Parse(goodDB)
	wrongRole.User = url.UserPassword("no_such_role", "hunter2")
	closedDB, _ := url.Parse(goodDB)
	closedDB.Host = fmt.Sprintf("127.0.0.1:%d", closedPort)

	type tc struct {
		name   string
		env    map[string]string
		db     string
		files  string
		want   int
		secret string
	}
	bucket := "creds"
	minio.CreateBucket(t, bucket)
	minioEnv := minio.Env()
	s3Wrong := map[string]string{"AWS_SECRET_ACCESS_KEY": "wrong-" + minio.SecretKey}
	s3Closed := map[string]string{"AWS_ENDPOINT_URL_S3": fmt.Sprintf("http://127.0.0.1:%d", closedPort)}
	const wrongKey = "d3JvbmdrZXl3cm9uZ2tleXdyb25na2V5d3JvbmdrZXl3cm9uZ2tleXdyb25na2V5d3Jvbmdrd3Jvbmc="
	cases := []tc{
		{name: "postgres refused role", db: wrongRole.String(), want: exitcode.BadInput, secret: "hunter2"},
		{name: "postgres unreachable", db: closedDB.String(), want: exitcode.Failure},
		{name: "s3 wrong secret", env: s3Wrong, files: "s3://" + bucket, want: exitcode.BadInput, secret: s3Wrong["AWS_SECRET_ACCESS_KEY"]},
		{name: "s3 unreachable", env: s3Closed, files: "s3://" + bucket, want: exitcode.Failure},
		{name: "azblob wrong key", env: map[string]string{"AZURE_STORAGE_CONNECTION_STRING": "DefaultEndpointsProtocol=http;AccountName=" + azurite.AccountName +
			";AccountKey=" + wrongKey + ";BlobEndpoint=" + azurite.Endpoint + ";"}, files: "azblob://creds", want: exitcode.BadInput, secret: wrongKey},
		{name: "azblob unreachable", env: map[string]string{"AZURE_STORAGE_CONNECTION_STRING": "DefaultEndpointsProtocol=http;AccountName=" + azurite.AccountName +
			";AccountKey=" + wrongKey + fmt.Sprintf(";BlobEndpoint=http://127.0.0.1:%d/%s;", closedPort, azurite.AccountName)}, files: "azblob://creds", want: exitcode.Failure},
	}
	if dsn := os.Getenv("MSSQL_TEST_DSN"); dsn != "" {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		wrong := *u
		wrong.User = url.UserPassword(u.User.Username(), "Wrong.Pass1")
		closed := *u
		closed.Host = fmt.Sprintf("127.0.0.1:%d", closedPort)
		cases = append(cases,
			tc{name: "sqlserver wrong password", db: wrong.String(), want: exitcode.BadInput, secret: "Wrong.Pass1"},
			tc{name: "sqlserver unreachable", db: closed.String(), want: exitcode.Failure})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range minioEnv {
				t.Setenv(k, v)
			}
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			cfg := config(t, sampleBackup, c.db, c.files)
			cfg.Create = false
			var err error
			if c.db != "" {
				_, err = run(t, "db", pipeline.DB, cfg)
			} else {
				_, err = run(t, "files", pipeline.Files, cfg)
			}
			if got := exitcode.Of(err); got != c.want {
				t.Fatalf("exit %d (%v), want %d", got, err, c.want)
			}
			if c.secret != "" && strings.Contains(err.Error(), c.secret) {
				t.Fatalf("the secret leaked: %v", err)
			}
		})
	}
}
