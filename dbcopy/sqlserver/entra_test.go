package sqlserver

import (
	"net/url"
	"strings"
	"testing"

	"github.com/microsoft/go-mssqldb/azuread"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// TestEntraURLs checks each Microsoft Entra ID flow: the canonical fedauth
// value, the description and identity (no secret), the driver, and that
// the driver's own azuread parser accepts the DSN.
func TestEntraURLs(t *testing.T) {
	tests := []struct {
		raw         string
		fedauth     string
		description string
		identity    string
	}{
		{
			raw:         "sqlserver://db.example.com?database=app&fedauth=activedirectorydefault",
			fedauth:     "ActiveDirectoryDefault",
			description: "sqlserver://db.example.com?database=app&fedauth=ActiveDirectoryDefault",
			identity:    "Microsoft Entra ID the Azure default credential chain (environment, workload identity, managed identity, Azure CLI)",
		},
		{
			raw:         "sqlserver://srv.database.windows.net?database=app&fedauth=ActiveDirectoryManagedIdentity",
			fedauth:     "ActiveDirectoryManagedIdentity",
			description: "sqlserver://srv.database.windows.net?database=app&fedauth=ActiveDirectoryManagedIdentity",
			identity:    "Microsoft Entra ID managed identity",
		},
		{
			raw:         "sqlserver://0000-cid@srv.database.windows.net?database=app&fedauth=ActiveDirectoryMSI",
			fedauth:     "ActiveDirectoryManagedIdentity",
			description: "sqlserver://0000-cid@srv.database.windows.net?database=app&fedauth=ActiveDirectoryManagedIdentity",
			identity:    "Microsoft Entra ID managed identity (client id 0000-cid)",
		},
		{
			raw:         "azuresql://srv.database.windows.net:1433?database=app&fedauth=ActiveDirectoryWorkloadIdentity",
			fedauth:     "ActiveDirectoryWorkloadIdentity",
			description: "azuresql://srv.database.windows.net:1433?database=app&fedauth=ActiveDirectoryWorkloadIdentity",
			identity:    "Microsoft Entra ID workload identity",
		},
		{
			raw:         "sqlserver://cid%40tid:Cl1entS3cret@srv.database.windows.net?database=app&fedauth=ActiveDirectoryServicePrincipal",
			fedauth:     "ActiveDirectoryServicePrincipal",
			description: "sqlserver://cid%40tid@srv.database.windows.net?database=app&fedauth=ActiveDirectoryServicePrincipal",
			identity:    "Microsoft Entra ID service principal (client id[@tenant id] cid@tid) with a client secret",
		},
		{
			raw:         "sqlserver://cid@srv.database.windows.net?database=app&fedauth=ActiveDirectoryApplication&clientcertpath=%2Fsecrets%2Fsp.pem",
			fedauth:     "ActiveDirectoryServicePrincipal",
			description: "sqlserver://cid@srv.database.windows.net?database=app&fedauth=ActiveDirectoryServicePrincipal",
			identity:    "Microsoft Entra ID service principal (client id[@tenant id] cid) with a certificate",
		},
		{
			raw:         "sqlserver://srv.database.windows.net?database=app&fedauth=ActiveDirectoryAzCli",
			fedauth:     "ActiveDirectoryAzCli",
			description: "sqlserver://srv.database.windows.net?database=app&fedauth=ActiveDirectoryAzCli",
			identity:    "Microsoft Entra ID the Azure CLI's signed-in account",
		},
	}
	for _, tc := range tests {
		u, err := url.Parse(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		info, err := parseURL(u)
		if err != nil {
			t.Errorf("%s: %v", tc.raw, err)
			continue
		}
		if info.fedauth != tc.fedauth || info.description != tc.description || info.identity != tc.identity {
			t.Errorf("%s:\n got fedauth %q description %q identity %q\nwant fedauth %q description %q identity %q",
				tc.raw, info.fedauth, info.description, info.identity, tc.fedauth, tc.description, tc.identity)
		}
		if info.driverName() != "azuresql" || !info.azure {
			t.Errorf("%s: driver %q azure %v, want azuresql and encryption", tc.raw, info.driverName(), info.azure)
		}
		if !strings.Contains(info.dsn, "fedauth="+tc.fedauth) || !strings.Contains(info.dsn, "encrypt=true") {
			t.Errorf("%s: dsn %s lacks fedauth=%s or encrypt=true", tc.raw, info.dsn, tc.fedauth)
		}
		if strings.Contains(info.description+info.identity, "S3cret") {
			t.Errorf("%s: the secret shows: %s / %s", tc.raw, info.description, info.identity)
		}
		if _, err := azuread.NewConnector(info.dsn); err != nil {
			t.Errorf("%s: the azuread driver refuses the DSN: %v", tc.raw, err)
		}
		if _, err := newConnector(info); err != nil {
			t.Errorf("%s: newConnector: %v", tc.raw, err)
		}
	}
}

func TestSQLLoginUsesThePlainDriver(t *testing.T) {
	u, _ := url.Parse("sqlserver://sa:pw@127.0.0.1:1433?database=app")
	info, err := parseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	if info.driverName() != "sqlserver" || info.fedauth != "" || info.identity != "SQL login sa" {
		t.Fatalf("got driver %q fedauth %q identity %q", info.driverName(), info.fedauth, info.identity)
	}
	if _, err := newConnector(info); err != nil {
		t.Fatal(err)
	}
}

// TestPlainDriverRefusesFedauth: go-mssqldb's plain driver ignores fedauth
// and would sign in with the URL's user and password as a SQL login; the
// SQL-login connector must refuse such a DSN rather than fall back.
func TestPlainDriverRefusesFedauth(t *testing.T) {
	for _, dsn := range []string{
		"sqlserver://cid:secret@srv.database.windows.net?database=app&fedauth=ActiveDirectoryServicePrincipal",
		"sqlserver://srv?database=app&fedauth=ActiveDirectoryManagedIdentity",
		"server=srv;database=app;fedauth=ActiveDirectoryDefault",
	} {
		c, err := sqlLoginConnector(dsn)
		if err == nil || c != nil || !strings.Contains(err.Error(), "azuresql driver") {
			t.Errorf("%s: got %v, %v; want a refusal", dsn, c, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("the error quotes the DSN: %v", err)
		}
	}
	// A parsed Entra ID URL never reaches the plain driver either.
	u, _ := url.Parse("sqlserver://cid:secret@srv?database=app&fedauth=ActiveDirectoryServicePrincipal")
	info, err := parseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	info.fedauth = "" // as if the choice of driver had lost it
	if _, err := newConnector(info); err == nil {
		t.Error("the SQL-login driver accepted a fedauth DSN")
	}
}

func TestEntraURLErrors(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"sqlserver://h?database=x&fedauth=ActiveDirectoryPassword", "is not supported"},
		{"sqlserver://h?database=x&fedauth=ActiveDirectoryDeviceCode", "is not supported"},
		{"sqlserver://h?database=x&fedauth=ActiveDirectoryIntegrated", "is not supported"},
		{"sqlserver://h?database=x&fedauth=bogus", "is not supported"},
		{"sqlserver://h?database=x&fedauth=ActiveDirectoryServicePrincipal", "needs the application's client id"},
		{"sqlserver://cid@h?database=x&fedauth=ActiveDirectoryServicePrincipal", "needs the client secret"},
		{"sqlserver://cid:Sup3rSecret@h?database=x&fedauth=ActiveDirectoryManagedIdentity", "takes no password"},
		{"sqlserver://h?database=x&fedauth=ActiveDirectoryWorkloadIdentity&password=Sup3rSecret", "takes no password"},
		{"sqlserver://sa:Sup3rSecret@h?database=x&fedauth=ActiveDirectoryAzCli", "takes no user"},
	}
	for _, tc := range tests {
		u, err := url.Parse(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		_, err = parseURL(u)
		if err == nil || !strings.Contains(err.Error(), tc.want) || exitcode.Of(err) != exitcode.BadInput {
			t.Errorf("%s: got %v, want a BadInput error containing %q", tc.raw, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "Sup3rSecret") {
			t.Errorf("%s: error shows the secret: %v", tc.raw, err)
		}
	}
}
