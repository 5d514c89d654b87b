package runbook

import (
	"net/url"
	"strings"

	"github.com/mxmigrate/mxmigrate/internal/redact"
)

// Setting is one Mendix runtime setting the app needs once it runs on the
// new targets. A secret setting has no Value: FromEnv names the environment
// variable (or secret key) that must supply it.
type Setting struct {
	Name    string // exactly as the Mendix runtime spells it
	Value   string // literal value; empty when secret or not known
	FromEnv string // for secrets: where the value comes from, never the value
	Note    string
}

// Secret reports whether the setting's value must never be written down.
func (s Setting) Secret() bool { return s.FromEnv != "" }

// Environment variables that the runbook asks the operator to fill from
// their secret store for the app's own secret settings. The AWS and Azure
// names are the ones the AWS CLI and the Azure CLI read.
const (
	EnvDatabasePassword = "DATABASE_PASSWORD"
	EnvAWSAccessKeyID   = "AWS_ACCESS_KEY_ID"
	EnvAWSSecretKey     = "AWS_SECRET_ACCESS_KEY"
	EnvAzureAccount     = "AZURE_STORAGE_ACCOUNT"
	EnvAzureKey         = "AZURE_STORAGE_KEY"
	EnvAzureConnection  = "AZURE_STORAGE_CONNECTION_STRING"
)

// The setting names below were checked against Mendix's "Runtime
// Customization" reference (docs.mendix.com/refguide8/custom-settings/,
// mendix/docs): "Database Settings > Common Settings" (DatabaseType with
// POSTGRESQL and SQLSERVER, DatabaseHost as host:port, DatabaseName,
// DatabaseUserName, DatabasePassword, DatabaseUseSsl), "General Settings"
// (com.mendix.core.StorageService with com.mendix.storage.localfilesystem,
// com.mendix.storage.s3 or com.mendix.storage.azure; UploadedFilesPath,
// which has no com.mendix.core prefix), "S3 Storage Service Settings"
// (com.mendix.storage.s3.AccessKeyId, SecretAccessKey, BucketName,
// ResourceNamePrefix from 8.18.29, ResourceNameSuffix, Region, EndPoint)
// and "Microsoft Azure Blob Storage Settings" (com.mendix.storage.azure.
// AccountName, AccountKey, Container; no resource-name prefix exists).
const (
	settingStorageService = "com.mendix.core.StorageService"
	s3Prefix              = "com.mendix.storage.s3."
	azurePrefix           = "com.mendix.storage.azure."
	prefixNeedsMendix     = "needs Mendix 8.18.29 or newer"
)

// RuntimeSettings lists the Mendix runtime settings the app needs after the
// migration: where its database is and where its files are. Secrets are
// named by environment variable only. An unknown target kind yields no
// settings for that target.
func RuntimeSettings(p Plan) []Setting {
	settings := databaseSettings(p.Database)
	return append(settings, storageSettings(p)...)
}

func databaseSettings(t TargetFacts) []Setting {
	u := parseRedacted(t.URL)
	var dbType, dbName string
	var notes []Setting
	switch t.Kind {
	case DatabasePostgres:
		dbType = "POSTGRESQL"
		dbName = strings.TrimPrefix(u.Path, "/")
		switch u.Query().Get("sslmode") {
		case "require", "verify-ca", "verify-full":
			notes = append(notes, Setting{Name: "DatabaseUseSsl", Value: "true",
				Note: "Mendix then uses TLS without validating the certificate; use DatabaseJdbcUrl to validate it"})
		}
	case DatabaseSQLServer:
		dbType = "SQLSERVER"
		dbName = u.Query().Get("database")
		if instance := strings.Trim(u.Path, "/"); instance != "" {
			notes = append(notes, Setting{Name: "DatabaseHost", Note: "the URL names instance " + instance + ": give DatabaseHost as the host:port that instance listens on"})
		}
	default:
		return nil
	}
	settings := []Setting{
		{Name: "DatabaseType", Value: dbType},
		known("DatabaseHost", u.Host, "host:port of the target database"),
		known("DatabaseName", dbName, "the target database's name"),
		known("DatabaseUserName", u.User.Username(), "the app's database user"),
		{Name: "DatabasePassword", FromEnv: EnvDatabasePassword},
	}
	return append(settings, notes...)
}

func storageSettings(p Plan) []Setting {
	loc := locate(p.Files)
	prefix := loc.Folder + p.Options.Prefix
	switch p.Files.Kind {
	case FilesS3:
		s := []Setting{
			{Name: settingStorageService, Value: "com.mendix.storage.s3"},
			known(s3Prefix+"BucketName", loc.Bucket, "the bucket's name"),
		}
		if loc.Endpoint != "" {
			s = append(s, Setting{Name: s3Prefix + "EndPoint", Value: loc.Endpoint, Note: "custom endpoint: Mendix enables path-style access"})
		}
		if loc.Region != "" {
			s = append(s, Setting{Name: s3Prefix + "Region", Value: loc.Region})
		}
		s = append(s,
			Setting{Name: s3Prefix + "AccessKeyId", FromEnv: EnvAWSAccessKeyID},
			Setting{Name: s3Prefix + "SecretAccessKey", FromEnv: EnvAWSSecretKey},
		)
		if prefix != "" {
			s = append(s, Setting{Name: s3Prefix + "ResourceNamePrefix", Value: prefix, Note: prefixNeedsMendix})
		}
		if p.Options.Suffix != "" {
			s = append(s, Setting{Name: s3Prefix + "ResourceNameSuffix", Value: p.Options.Suffix})
		}
		return s
	case FilesAzure:
		account := Setting{Name: azurePrefix + "AccountName", Value: loc.Account}
		if loc.Account == "" {
			account = Setting{Name: azurePrefix + "AccountName", FromEnv: EnvAzureAccount, Note: "the account named in " + EnvAzureConnection}
		}
		return []Setting{
			{Name: settingStorageService, Value: "com.mendix.storage.azure"},
			account,
			{Name: azurePrefix + "AccountKey", FromEnv: EnvAzureKey},
			known(azurePrefix+"Container", loc.Bucket, "the container's name"),
		}
	case FilesLocal:
		return []Setting{
			{Name: settingStorageService, Value: "com.mendix.storage.localfilesystem", Note: "the default; set it when switching back from S3 or Azure"},
			known("UploadedFilesPath", loc.Path, "the folder the files were copied to"),
		}
	}
	return nil
}

// storageWarnings are the ways the files could land where the app will not
// find them.
func storageWarnings(p Plan) []string {
	loc := locate(p.Files)
	if p.Files.Kind == FilesAzure && (loc.Folder != "" || p.Options.Prefix != "" || p.Options.Suffix != "") {
		return []string{"Mendix's Azure Blob Storage settings have no resource-name prefix or suffix: " +
			"the app looks for each blob by its bare UUID at the root of the container. " +
			"Migrate without a folder, --prefix or --suffix, or the app will not find its files."}
	}
	return nil
}

// known is a literal setting, or a fill-in note when the URL lacks it.
func known(name, value, what string) Setting {
	if value == "" {
		return Setting{Name: name, Note: "not in the target URL: fill in " + what}
	}
	return Setting{Name: name, Value: value}
}

// storeLocation is where a files URL points, split into the parts the
// runtime settings need.
type storeLocation struct {
	Bucket   string // S3 bucket or Azure container
	Account  string // Azure storage account, when the URL names it
	Folder   string // key prefix from the URL's path: "" or ending in "/"
	Endpoint string // custom S3 endpoint (?endpoint=)
	Region   string // S3 region (?region=)
	Path     string // local folder
}

// locate reads s3://bucket/folder?endpoint=..&region=..,
// azblob://container/folder, https://ACCOUNT.blob.core.windows.net/container/folder
// and file:///path.
func locate(t TargetFacts) storeLocation {
	u := parseRedacted(t.URL)
	q := u.Query()
	loc := storeLocation{Bucket: u.Host, Endpoint: q.Get("endpoint"), Region: q.Get("region")}
	folder := strings.Trim(u.Path, "/")
	switch {
	case t.Kind == FilesLocal:
		return storeLocation{Path: u.Path}
	case t.Kind == FilesAzure && (u.Scheme == "https" || u.Scheme == "http"):
		loc.Account, _, _ = strings.Cut(u.Hostname(), ".")
		loc.Bucket, folder, _ = strings.Cut(folder, "/")
	case t.Kind == FilesAzure:
		loc.Account = q.Get("account")
	}
	if folder != "" {
		loc.Folder = folder + "/"
	}
	return loc
}

// parseRedacted parses a URL after redacting it, so nothing taken from it
// can be a secret; an unparseable URL yields an empty one.
func parseRedacted(raw string) *url.URL {
	u, err := url.Parse(redact.URL(raw))
	if err != nil {
		return &url.URL{}
	}
	return u
}
