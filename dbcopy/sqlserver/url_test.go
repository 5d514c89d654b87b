package sqlserver

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw         string
		description string
		dsnHas      []string
		dsnLacks    []string
		azure       bool
		wantErr     string
	}{
		{
			raw:         "sqlserver://sa:s3cret@db.example.com:1433?database=app",
			description: "sqlserver://sa@db.example.com:1433?database=app",
			dsnHas:      []string{"sqlserver://sa:s3cret@db.example.com:1433", "database=app", "app+name=mxmigrate"},
			dsnLacks:    []string{"encrypt"},
		},
		{
			raw:         "sqlserver://sa:p%40ss@host/SQLEXPRESS?database=app&guid+conversion=true&app+name=other",
			description: "sqlserver://sa@host/SQLEXPRESS?database=app",
			dsnHas:      []string{"/SQLEXPRESS", "app+name=mxmigrate"},
			dsnLacks:    []string{"guid", "other"},
		},
		{
			raw:         "sqlserver://u:pw@myserver.database.windows.net?database=app",
			description: "sqlserver://u@myserver.database.windows.net?database=app",
			dsnHas:      []string{"encrypt=true"},
			azure:       true,
		},
		{
			raw:         "azuresql://u:pw@myserver.database.windows.net:1433?database=app&encrypt=strict",
			description: "azuresql://u@myserver.database.windows.net:1433?database=app",
			dsnHas:      []string{"sqlserver://u:pw@", "encrypt=strict"},
			azure:       true,
		},
		{raw: "sqlserver://sa:pw@host:1433", wantErr: "add ?database=NAME"},
		{raw: "sqlserver:///?database=x", wantErr: "no host"},
		{raw: "sqlserver://u:pw@h?database=x&fedauth=ActiveDirectoryDefault", wantErr: "takes no user"},
		{raw: "sqlserver://h?database=x&fedauth=ActiveDirectoryInteractive", wantErr: "fedauth=ActiveDirectoryInteractive is not supported"},
		{raw: "postgres://u:pw@h/db", wantErr: "not a sqlserver://"},
	}
	for _, tc := range tests {
		u, err := url.Parse(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		info, err := parseURL(u)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || exitcode.Of(err) != exitcode.BadInput {
				t.Errorf("%s: got %v, want a BadInput error containing %q", tc.raw, err, tc.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), "s3cret")) {
				t.Errorf("%s: error shows the password: %v", tc.raw, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.raw, err)
			continue
		}
		if info.description != tc.description || info.azure != tc.azure || info.database == "" {
			t.Errorf("%s: got %+v", tc.raw, info)
		}
		for _, s := range tc.dsnHas {
			if !strings.Contains(info.dsn, s) {
				t.Errorf("%s: dsn %s lacks %q", tc.raw, info.dsn, s)
			}
		}
		for _, s := range tc.dsnLacks {
			if strings.Contains(info.dsn, s) {
				t.Errorf("%s: dsn %s has %q", tc.raw, info.dsn, s)
			}
		}
		if strings.Contains(info.description, "s3cret") || strings.Contains(info.description, ":pw") || strings.Contains(info.description, "p%40ss") {
			t.Errorf("%s: description shows the password: %s", tc.raw, info.description)
		}
	}
}

func TestOpenNeverShowsThePassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tests := []struct {
		raw  string
		code int
	}{
		// Nothing listens on port 1 of the loopback: the connection fails.
		{"sqlserver://sa:Sup3rSecret@127.0.0.1:1?database=app", exitcode.Failure},
		// The driver refuses the parameter before connecting.
		{"sqlserver://sa:Sup3rSecret@127.0.0.1:1?database=app&connection+timeout=notanumber", exitcode.BadInput},
	}
	for _, tc := range tests {
		_, err := dbcopy.Open(ctx, tc.raw, dbcopy.Options{})
		if err == nil {
			t.Fatalf("%s: connected to nothing", tc.raw)
		}
		if strings.Contains(err.Error(), "Sup3rSecret") {
			t.Errorf("error shows the password: %v", err)
		}
		if exitcode.Of(err) != tc.code {
			t.Errorf("%s: exit code %d, want %d (%v)", tc.raw, exitcode.Of(err), tc.code, err)
		}
	}
	_, err := dbcopy.Open(ctx, "sqlserver://sa:x@127.0.0.1:1?database=app", dbcopy.Options{Schema: "mxmigrate"})
	if exitcode.Of(err) != exitcode.BadInput {
		t.Errorf("schema mxmigrate accepted: %v", err)
	}
}

func TestRegisteredSchemes(t *testing.T) {
	schemes := strings.Join(dbcopy.Schemes(), ",")
	for _, s := range []string{"sqlserver", "azuresql"} {
		if !strings.Contains(schemes, s) {
			t.Errorf("scheme %s not registered: %s", s, schemes)
		}
	}
}

func TestTargetStringHasNoPassword(t *testing.T) {
	u, _ := url.Parse("sqlserver://sa:Sup3rSecret@db:1433?database=app&password=also")
	info, err := parseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{info: info, schema: "dbo"}
	if got, want := tg.String(), "sqlserver://sa@db:1433?database=app schema dbo"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
