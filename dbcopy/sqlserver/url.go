package sqlserver

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strings"

	mssql "github.com/microsoft/go-mssqldb"
	"github.com/microsoft/go-mssqldb/azuread"
	"github.com/microsoft/go-mssqldb/msdsn"

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
	// fedauth is the Microsoft Entra ID flow the URL names, spelled as
	// go-mssqldb's azuread package spells it; empty for a SQL login.
	fedauth string
	// identity says who signs in, for plans and logs: never a secret.
	identity string
}

// Driver names: the plain go-mssqldb driver signs in with SQL logins, its
// azuread package ("azuresql") with Microsoft Entra ID tokens.
const (
	driverSQLLogin = "sqlserver"
	driverEntraID  = azuread.DriverName
)

// entraFlow is one Microsoft Entra ID sign-in that works without a person
// present.
type entraFlow struct {
	name string // azuread's spelling
	// user: what the URL's user is ("" = none allowed); needsUser: it
	// must be given; secret: the password or clientcertpath is required;
	// noSecret: a password would be ignored, so it is refused.
	user      string
	needsUser bool
	secret    bool
	describe  string
}

// entraFlows are the fedauth values accepted. The interactive ones
// (ActiveDirectoryInteractive, ActiveDirectoryDeviceCode) need a person,
// ActiveDirectoryPassword is a user's password (refused by tenants with
// MFA) and ActiveDirectoryIntegrated is not implemented by the driver.
var entraFlows = map[string]entraFlow{
	"activedirectorydefault":          {name: azuread.ActiveDirectoryDefault, describe: "the Azure default credential chain (environment, workload identity, managed identity, Azure CLI)"},
	"activedirectorymanagedidentity":  {name: azuread.ActiveDirectoryManagedIdentity, user: "client id", describe: "managed identity"},
	"activedirectorymsi":              {name: azuread.ActiveDirectoryManagedIdentity, user: "client id", describe: "managed identity"},
	"activedirectoryworkloadidentity": {name: azuread.ActiveDirectoryWorkloadIdentity, user: "client id[@tenant id]", describe: "workload identity"},
	"activedirectoryserviceprincipal": {name: azuread.ActiveDirectoryServicePrincipal, user: "client id[@tenant id]", needsUser: true, secret: true, describe: "service principal"},
	"activedirectoryapplication":      {name: azuread.ActiveDirectoryServicePrincipal, user: "client id[@tenant id]", needsUser: true, secret: true, describe: "service principal"},
	"activedirectoryazcli":            {name: azuread.ActiveDirectoryAzCli, describe: "the Azure CLI's signed-in account"},
}

// parseURL reads sqlserver://USER:PASS@HOST[:PORT][/INSTANCE]?database=DB
// (or azuresql:// with the same shape), and with Microsoft Entra ID
// sqlserver://[CLIENTID[:SECRET]@]HOST?database=DB&fedauth=FLOW. Errors
// never quote the URL: it may hold a password.
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
	user, password := q.Get("user id"), q.Get("password")
	if u.User != nil {
		user = u.User.Username()
		if p, ok := u.User.Password(); ok {
			password = p
		}
	}
	info := connInfo{database: database, identity: "SQL login " + user}
	if raw := q.Get("fedauth"); raw != "" {
		flow, ok := entraFlows[strings.ToLower(raw)]
		if !ok {
			return bad(fmt.Sprintf("fedauth=%s is not supported: use one of ActiveDirectoryDefault, ActiveDirectoryManagedIdentity, "+
				"ActiveDirectoryWorkloadIdentity, ActiveDirectoryServicePrincipal or ActiveDirectoryAzCli "+
				"(interactive and user-password sign-ins need a person)", raw))
		}
		switch {
		case flow.user == "" && user != "":
			return bad("fedauth=" + flow.name + " takes no user in the URL: it signs in as " + flow.describe)
		case flow.needsUser && user == "":
			return bad("fedauth=" + flow.name + " needs the application's " + flow.user + " as the URL's user")
		case flow.secret && password == "" && q.Get("clientcertpath") == "":
			return bad("fedauth=" + flow.name + " needs the client secret as the URL's password or a certificate in clientcertpath=")
		case !flow.secret && password != "":
			return bad("fedauth=" + flow.name + " takes no password: it signs in as " + flow.describe)
		}
		q.Set("fedauth", flow.name)
		info.fedauth = flow.name
		info.identity = "Microsoft Entra ID " + flow.describe
		if user != "" {
			info.identity += " (" + flow.user + " " + user + ")"
		}
		if flow.secret {
			if q.Get("clientcertpath") != "" {
				info.identity += " with a certificate"
			} else {
				info.identity += " with a client secret"
			}
		}
	}
	info.azure = scheme == "azuresql" || info.fedauth != "" || strings.HasSuffix(strings.ToLower(u.Hostname()), ".database.windows.net")
	if info.azure && q.Get("encrypt") == "" {
		q.Set("encrypt", "true") // Azure SQL refuses unencrypted sessions
	}
	q.Set("app name", AppName)
	// uniqueidentifier values are sent in SQL Server's own byte order (see
	// typemap): the driver must not reorder them again.
	q.Del("guid conversion")

	c := *u
	c.Scheme = "sqlserver"
	c.RawQuery = q.Encode()
	info.dsn = c.String()

	desc := url.URL{Scheme: scheme, Host: u.Host, Path: u.Path}
	if user != "" {
		desc.User = url.User(user)
	}
	dq := url.Values{"database": {database}}
	if info.fedauth != "" {
		dq.Set("fedauth", info.fedauth)
	}
	desc.RawQuery = dq.Encode()
	info.description = desc.String()
	return info, nil
}

// driverName is the go-mssqldb driver that signs in the way the URL says.
func (c connInfo) driverName() string {
	if c.fedauth != "" {
		return driverEntraID
	}
	return driverSQLLogin
}

// newConnector returns the connector of the driver the URL needs.
func newConnector(info connInfo) (driver.Connector, error) {
	if info.driverName() == driverEntraID {
		return azuread.NewConnector(info.dsn)
	}
	return sqlLoginConnector(info.dsn)
}

// sqlLoginConnector is the plain driver's connector. It refuses a DSN that
// asks for Entra ID: the plain driver ignores fedauth and would sign in
// with the URL's user and password as a SQL login instead.
func sqlLoginConnector(dsn string) (*mssql.Connector, error) {
	cfg, err := msdsn.Parse(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.Parameters["fedauth"] != "" {
		return nil, errors.New("a fedauth (Microsoft Entra ID) connection needs the azuresql driver, not the SQL-login one")
	}
	return mssql.NewConnectorConfig(cfg), nil
}
