package runbook

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestRuntimeSettings(t *testing.T) {
	tests := []struct {
		name     string
		database TargetFacts
		files    TargetFacts
		options  Options
		want     []Setting
	}{
		{
			name:     "postgres without tls, local folder",
			database: TargetFacts{Kind: DatabasePostgres, URL: "postgres://app:pw-123456@db:5432/mendix"},
			files:    TargetFacts{Kind: FilesLocal, URL: "file:///srv/mendix/files"},
			want: []Setting{
				{Name: "DatabaseType", Value: "POSTGRESQL"},
				{Name: "DatabaseHost", Value: "db:5432"},
				{Name: "DatabaseName", Value: "mendix"},
				{Name: "DatabaseUserName", Value: "app"},
				{Name: "DatabasePassword", FromEnv: EnvDatabasePassword},
				{Name: "com.mendix.core.StorageService", Value: "com.mendix.storage.localfilesystem", Note: "the default; set it when switching back from S3 or Azure"},
				{Name: "UploadedFilesPath", Value: "/srv/mendix/files"},
			},
		},
		{
			name:     "sql server with a named instance, s3 on aws with a suffix",
			database: TargetFacts{Kind: DatabaseSQLServer, URL: "sqlserver://sa:pw-123456@sql:1433/SQLEXPRESS?database=app"},
			files:    TargetFacts{Kind: FilesS3, URL: "s3://bucket"},
			options:  Options{Suffix: ".prod"},
			want: []Setting{
				{Name: "DatabaseType", Value: "SQLSERVER"},
				{Name: "DatabaseHost", Value: "sql:1433"},
				{Name: "DatabaseName", Value: "app"},
				{Name: "DatabaseUserName", Value: "sa"},
				{Name: "DatabasePassword", FromEnv: EnvDatabasePassword},
				{Name: "DatabaseHost", Note: "the URL names instance SQLEXPRESS: give DatabaseHost as the host:port that instance listens on"},
				{Name: "com.mendix.core.StorageService", Value: "com.mendix.storage.s3"},
				{Name: "com.mendix.storage.s3.BucketName", Value: "bucket"},
				{Name: "com.mendix.storage.s3.AccessKeyId", FromEnv: EnvAWSAccessKeyID},
				{Name: "com.mendix.storage.s3.SecretAccessKey", FromEnv: EnvAWSSecretKey},
				{Name: "com.mendix.storage.s3.ResourceNameSuffix", Value: ".prod"},
			},
		},
		{
			name:     "url without user or database, azblob without account",
			database: TargetFacts{Kind: DatabasePostgres, URL: "postgres://db"},
			files:    TargetFacts{Kind: FilesAzure, URL: "azblob://files"},
			want: []Setting{
				{Name: "DatabaseType", Value: "POSTGRESQL"},
				{Name: "DatabaseHost", Value: "db"},
				{Name: "DatabaseName", Note: "not in the target URL: fill in the target database's name"},
				{Name: "DatabaseUserName", Note: "not in the target URL: fill in the app's database user"},
				{Name: "DatabasePassword", FromEnv: EnvDatabasePassword},
				{Name: "com.mendix.core.StorageService", Value: "com.mendix.storage.azure"},
				{Name: "com.mendix.storage.azure.AccountName", FromEnv: EnvAzureAccount, Note: "the account named in AZURE_STORAGE_CONNECTION_STRING"},
				{Name: "com.mendix.storage.azure.AccountKey", FromEnv: EnvAzureKey},
				{Name: "com.mendix.storage.azure.Container", Value: "files"},
			},
		},
		{
			name:     "no files target",
			database: TargetFacts{Kind: DatabasePostgres, URL: "postgres://u@db/app?sslmode=disable"},
			want: []Setting{
				{Name: "DatabaseType", Value: "POSTGRESQL"},
				{Name: "DatabaseHost", Value: "db"},
				{Name: "DatabaseName", Value: "app"},
				{Name: "DatabaseUserName", Value: "u"},
				{Name: "DatabasePassword", FromEnv: EnvDatabasePassword},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RuntimeSettings(Plan{Database: tt.database, Files: tt.files, Options: tt.options})
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("RuntimeSettings =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// TestRuntimeSettingsNeverCarrySecrets checks every fixture: a secret
// setting has no value, and no value holds a planted secret.
func TestRuntimeSettingsNeverCarrySecrets(t *testing.T) {
	secretNames := []string{"DatabasePassword", "AccessKeyId", "SecretAccessKey", "AccountKey"}
	for _, f := range fixtures {
		for _, s := range RuntimeSettings(f.plan()) {
			for _, n := range secretNames {
				if strings.HasSuffix(s.Name, n) && (!s.Secret() || s.Value != "") {
					t.Errorf("%s: %s must come from the environment only: %+v", f.name, s.Name, s)
				}
			}
			assertNoFakeSecret(t, f.name+" "+s.Name, []byte(s.Value+s.Note))
		}
	}
}

func TestStorageWarnings(t *testing.T) {
	tests := []struct {
		name  string
		files TargetFacts
		opts  Options
		warn  bool
	}{
		{"azure at the container root", TargetFacts{Kind: FilesAzure, URL: "azblob://c"}, Options{}, false},
		{"azure with a folder", TargetFacts{Kind: FilesAzure, URL: "azblob://c/app1"}, Options{}, true},
		{"azure https with a folder", TargetFacts{Kind: FilesAzure, URL: "https://a.blob.core.windows.net/c/app1"}, Options{}, true},
		{"azure with a suffix", TargetFacts{Kind: FilesAzure, URL: "azblob://c"}, Options{Suffix: ".x"}, true},
		{"s3 with a prefix is supported", TargetFacts{Kind: FilesS3, URL: "s3://b/app1"}, Options{Prefix: "p/"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := storageWarnings(Plan{Files: tt.files, Options: tt.opts})
			if (len(got) > 0) != tt.warn {
				t.Errorf("storageWarnings = %q, want a warning: %v", got, tt.warn)
			}
		})
	}
}

func TestLocate(t *testing.T) {
	tests := []struct {
		in   TargetFacts
		want storeLocation
	}{
		{TargetFacts{Kind: FilesS3, URL: "s3://b/a/b/?endpoint=http://minio:9000&region=us-east-1"},
			storeLocation{Bucket: "b", Folder: "a/b/", Endpoint: "http://minio:9000", Region: "us-east-1"}},
		{TargetFacts{Kind: FilesAzure, URL: "https://acct.blob.core.windows.net/cont/dir"},
			storeLocation{Bucket: "cont", Account: "acct", Folder: "dir/"}},
		{TargetFacts{Kind: FilesAzure, URL: "azblob://cont?account=acct"},
			storeLocation{Bucket: "cont", Account: "acct"}},
		{TargetFacts{Kind: FilesLocal, URL: "file:///data/files"},
			storeLocation{Path: "/data/files"}},
	}
	for _, tt := range tests {
		if got := locate(tt.in); got != tt.want {
			t.Errorf("locate(%q) = %+v, want %+v", tt.in.URL, got, tt.want)
		}
	}
}

// TestIdentitySettingsAskForNoSecret: targets that sign in with a cloud
// identity get no password or key settings, and say why in a note.
func TestIdentitySettingsAskForNoSecret(t *testing.T) {
	for _, plan := range []func() Plan{azureWorkloadIdentityPlan, azureManagedIdentityPlan, awsIRSAPlan} {
		p := plan()
		var names []string
		for _, s := range RuntimeSettings(p) {
			names = append(names, s.Name)
			if (p.Database.usesIdentity() && s.Name == "DatabasePassword") ||
				(p.Files.usesIdentity() && (strings.HasSuffix(s.Name, "AccountKey") || strings.HasSuffix(s.Name, "AccessKeyId") || strings.HasSuffix(s.Name, "SecretAccessKey"))) {
				t.Errorf("%s: %s asks for a secret the identity replaces", p.Files.URL, s.Name)
			}
		}
		if p.Database.usesIdentity() && !slices.Contains(names, "DatabaseJdbcUrl") {
			t.Errorf("%s: no DatabaseJdbcUrl for Entra ID sign-in: %q", p.Database.URL, names)
		}
		for _, e := range credentialEnv(p) {
			if e.Name == EnvAWSAccessKeyID || e.Name == EnvAWSSecretKey || e.Name == EnvAzureConnection {
				t.Errorf("%s: the Secret still asks for %s", p.Files.URL, e.Name)
			}
		}
	}
	got := entraJDBCSetting(azureManagedIdentityPlan().Database, "hr-sql.database.windows.net", "hrapp").Value
	want := "jdbc:sqlserver://hr-sql.database.windows.net;databaseName=hrapp;encrypt=true;authentication=ActiveDirectoryManagedIdentity;msiClientId=9a8b7c6d-1111-2222-3333-444455556666"
	if got != want {
		t.Errorf("JDBC URL\n got %s\nwant %s", got, want)
	}
}
