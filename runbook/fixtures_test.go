package runbook

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// fakeSecrets are planted in the fixtures' inputs where a careless
// implementation would print them (raw URLs, check details, a pre-signed
// backup link). No output may ever contain one.
var fakeSecrets = []string{
	"FAKE-PG-PASSWORD-7f3a",
	"FAKE-S3-TOKEN-91b2",
	"FAKE-DETAIL-SECRET-55c0",
	"FAKE-MSSQL-PASSWORD-c41d",
	"FAKE-SAS-SIGNATURE-e8d0",
	"FAKE-ACCOUNT-KEY-77aa",
	"FAKE-PRESIGNED-SIG-3b9e",
}

var snapshot = time.Date(2024, 11, 21, 1, 21, 0, 0, time.UTC)

// postgresS3Plan is a healthy plan: models match, every check passes.
func postgresS3Plan() Plan {
	return Plan{
		ToolVersion: "v1.4.0",
		Backup: BackupFacts{
			Name:         "files_and_database-fc9e126f-201811210121.tar.gz",
			Kind:         BackupFullSnapshot,
			ModelVersion: "1.0.0.40",
			SnapshotTime: snapshot,
			DumpSize:     3 << 30,
			DatabaseSize: 12 << 30,
			Tables: []TableFacts{
				{Name: "system$filedocument", Rows: 48_211},
				{Name: "system$user", Rows: 1_250},
				{Name: "sales$order", Rows: 2_400_118},
				{Name: "sales$orderline", Rows: 9_812_004},
				{Name: "mendixsystem$version", Rows: 1},
			},
			Sequences:  14,
			Indexes:    96,
			Files:      48_211,
			FilesBytes: 27 << 30,
			Anomalies:  0,
		},
		Database: TargetFacts{
			Kind: DatabasePostgres,
			// A careless caller passed the raw URL: it must be redacted here.
			URL:    "postgres://mendix:FAKE-PG-PASSWORD-7f3a@db.prod.example.internal:5432/appdb?sslmode=require",
			EnvVar: "MXMIGRATE_DB",
		},
		Files: TargetFacts{
			Kind:   FilesS3,
			URL:    "s3://acme-mendix-files/app1?region=eu-west-1&endpoint=https://s3.eu-west-1.example.com&X-Amz-Security-Token=FAKE-S3-TOKEN-91b2",
			EnvVar: "MXMIGRATE_FILES",
		},
		Checks: []Check{
			{Name: "target database reachable", OK: true, Detail: "PostgreSQL 16.4"},
			{Name: "target database empty", OK: true, Detail: "schema public has no tables"},
			{Name: "no other sessions", OK: true, Warn: true, Detail: "1 idle session from 10.0.4.7 (psql), connected with postgres://mendix:FAKE-PG-PASSWORD-7f3a@db.prod.example.internal/appdb"},
			{Name: "bucket writable", OK: true, Detail: "wrote and deleted a probe object; password=FAKE-DETAIL-SECRET-55c0"},
			{Name: "pg_restore version", OK: true, Detail: "pg_restore 17.2 reads archive 1.14 | needs 12+"},
		},
		Estimate: Estimate{
			Database: 38 * time.Minute,
			Files:    52 * time.Minute,
			Verify:   14 * time.Minute,
			Basis:    "measured on this machine: 180 MB/s",
		},
		TargetModelVersion: "1.0.0.40",
		Options: Options{
			BackupPath: "backups/files_and_database-fc9e126f-201811210121.tar.gz",
			Jobs:       4,
			Transfers:  32,
			Prefix:     "mx/",
			Window:     3 * time.Hour,
		},
	}
}

// sqlServerAzurePlan is not ready: a model version mismatch, a failed
// check, and an estimate longer than the window.
func sqlServerAzurePlan() Plan {
	return Plan{
		ToolVersion: "v1.4.0",
		Backup: BackupFacts{
			Name:         "files_and_database-0a1b2c3d-202403040506.tar.gz",
			Kind:         BackupFullSnapshot,
			ModelVersion: "2.3.0.118",
			SnapshotTime: snapshot.Add(24 * time.Hour),
			DumpSize:     900 << 20,
			Tables: []TableFacts{
				{Name: "system$filedocument", Rows: 5_002},
				{Name: "hr$employee", Rows: 812},
				{Name: "hr$leave|request", Rows: 30_500},
			},
			Sequences:  6,
			Indexes:    31,
			Files:      5_002,
			FilesBytes: 2<<30 + 300<<20,
			Anomalies:  3,
		},
		Database: TargetFacts{
			Kind:   DatabaseSQLServer,
			URL:    "sqlserver://mxadmin:FAKE-MSSQL-PASSWORD-c41d@hr-sql.database.windows.net:1433?database=hrapp&encrypt=true",
			EnvVar: "MXMIGRATE_DB",
		},
		Files: TargetFacts{
			Kind:   FilesAzure,
			URL:    "https://hrfiles.blob.core.windows.net/mendix-files?sv=2022-11-02&sig=FAKE-SAS-SIGNATURE-e8d0",
			EnvVar: "HR_FILES_URL",
		},
		Checks: []Check{
			{Name: "target database reachable", OK: true, Detail: "Azure SQL 12.0.2000"},
			{Name: "target database empty", OK: false, Detail: "schema dbo has 212 tables: use --if-exists drop or an empty database"},
			{Name: "container writable", OK: true, Detail: "AccountKey=FAKE-ACCOUNT-KEY-77aa;EndpointSuffix=core.windows.net accepted"},
		},
		Estimate: Estimate{
			Database: 2*time.Hour + 10*time.Minute,
			Files:    25 * time.Minute,
			Verify:   40 * time.Minute,
		},
		TargetModelVersion: "2.4.0.7",
		Options: Options{
			BackupPath: "https://backups.example.com/hr/files_and_database-0a1b2c3d-202403040506.tar.gz?sig=FAKE-PRESIGNED-SIG-3b9e&se=2024-03-05",
			Jobs:       2,
			Transfers:  16,
			Window:     2 * time.Hour,
			WorkDir:    "/var/tmp/mxmigrate work",
			// The Job reads it from a ConfigMap (see the fixture's TypeMap).
			TypeMapFile: "rules/hr-type-map.json",
		},
	}
}

// hrTypeMap is the contents of sqlServerAzurePlan's --type-map file.
const hrTypeMap = `{
  "types": {"text": {"to": "nvarchar(4000)"}},
  "columns": {"hr$employee.notes": {"to": "nvarchar(max)"}}
}
`

// azureWorkloadIdentityPlan signs in to Azure SQL and Blob Storage with
// one Azure workload identity: no password, key or SAS anywhere.
func azureWorkloadIdentityPlan() Plan {
	p := sqlServerAzurePlan()
	p.Options.TypeMapFile = ""
	p.Database = TargetFacts{
		Kind:         DatabaseSQLServer,
		URL:          "sqlserver://hr-sql.database.windows.net:1433?database=hrapp&fedauth=ActiveDirectoryWorkloadIdentity",
		EnvVar:       "MXMIGRATE_DB",
		Identity:     "Microsoft Entra ID workload identity",
		IdentityKind: IdentityAzureWorkload,
		IdentityID:   "6f1c2a3b-0000-4d5e-8f90-123456789abc",
	}
	p.Files = TargetFacts{
		Kind:         FilesAzure,
		URL:          "https://hrfiles.blob.core.windows.net/mendix-files?identity=workload-identity",
		EnvVar:       "MXMIGRATE_FILES",
		Identity:     "Microsoft Entra ID workload identity (client id 6f1c2a3b-0000-4d5e-8f90-123456789abc)",
		IdentityKind: IdentityAzureWorkload,
		IdentityID:   "6f1c2a3b-0000-4d5e-8f90-123456789abc",
	}
	p.Checks = []Check{{Name: "store writable", OK: true, Detail: "wrote, read back and removed the probe object"}}
	return p
}

// azureManagedIdentityPlan: Azure SQL with the node's managed identity
// (a user-assigned one), files in a folder.
func azureManagedIdentityPlan() Plan {
	p := sqlServerAzurePlan()
	p.Options.TypeMapFile = ""
	p.Database = TargetFacts{
		Kind:         DatabaseSQLServer,
		URL:          "sqlserver://9a8b7c6d-1111-2222-3333-444455556666@hr-sql.database.windows.net?database=hrapp&fedauth=ActiveDirectoryManagedIdentity",
		EnvVar:       "MXMIGRATE_DB",
		Identity:     "Microsoft Entra ID managed identity (client id 9a8b7c6d-1111-2222-3333-444455556666)",
		IdentityKind: IdentityAzureManaged,
		IdentityID:   "9a8b7c6d-1111-2222-3333-444455556666",
	}
	p.Files = TargetFacts{Kind: FilesLocal, URL: "file:///srv/mendix/files", EnvVar: "MXMIGRATE_FILES"}
	p.Checks = nil
	return p
}

// awsIRSAPlan reaches its bucket with an IAM role for the service account.
func awsIRSAPlan() Plan {
	p := postgresS3Plan()
	p.Files = TargetFacts{
		Kind:         FilesS3,
		URL:          "s3://acme-mendix-files/app1?region=eu-west-1&sse=aws:kms&sse-kms-key-id=alias/mendix-files",
		EnvVar:       "MXMIGRATE_FILES",
		Identity:     "AWS web identity role arn:aws:iam::123456789012:role/mendix-migration (IAM roles for service accounts), region eu-west-1, SSE-KMS with key alias/mendix-files",
		IdentityKind: IdentityAWSWebIdentity,
		IdentityID:   "arn:aws:iam::123456789012:role/mendix-migration",
	}
	return p
}

// fixtures are the plans the golden tests render, by golden folder name.
var fixtures = []struct {
	name string
	plan func() Plan
	k8s  K8sOptions
}{
	{
		name: "postgres-s3",
		plan: postgresS3Plan,
		k8s: K8sOptions{
			Namespace:        "sales",
			AppName:          "sales-app",
			Image:            "ghcr.io/example/mxmigrate:v1.4.0",
			LeaderDeployment: "sales-app-leader",
			WorkerDeployment: "sales-app-worker",
			LeaderContainer:  "mendix",
			AppImage:         "registry.example.com/sales-app:2024.11.2",
		},
	},
	{
		// The same app after its files were pre-seeded from an earlier
		// backup: the window holds the database and the difference.
		name: "postgres-s3-preseeded",
		plan: func() Plan {
			p := postgresS3Plan()
			p.Store = StoreFacts{Listed: true, Objects: 48_100, Present: 47_730, PresentBytes: 61_400_000_000,
				NotInBackup: 370, PruneCandidates: 369, PruneKeys: []string{"0a0a0a0a-1111-4222-8333-444444444444"}}
			p.Estimate.FilesLeft = 4 * time.Minute
			return p
		},
		k8s: K8sOptions{
			Namespace:        "sales",
			AppName:          "sales-app",
			Image:            "ghcr.io/example/mxmigrate:v1.4.0",
			LeaderDeployment: "sales-app-leader",
			WorkerDeployment: "sales-app-worker",
			LeaderContainer:  "mendix",
			AppImage:         "registry.example.com/sales-app:2024.11.2",
		},
	},
	{
		name: "sqlserver-azure",
		plan: sqlServerAzurePlan,
		k8s: K8sOptions{
			Namespace:            "hr",
			AppName:              "hr",
			SecretName:           "hr-migration-credentials",
			BackupClaim:          "hr-backup",
			WorkClaim:            "hr-work",
			LeaderServiceAccount: "hr-app",
			TypeMap:              []byte(hrTypeMap),
		},
	},
	{
		name: "azure-workload-identity",
		plan: azureWorkloadIdentityPlan,
		k8s:  K8sOptions{Namespace: "hr", AppName: "hr", BackupClaim: "hr-backup"},
	},
	{
		name: "azure-managed-identity",
		plan: azureManagedIdentityPlan,
		k8s:  K8sOptions{Namespace: "hr", AppName: "hr", FilesClaim: "hr-files"},
	},
	{
		name: "aws-irsa",
		plan: awsIRSAPlan,
		k8s:  K8sOptions{Namespace: "sales", AppName: "sales-app", JobServiceAccount: "sales-migration"},
	},
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./runbook -update to create it)", err)
	}
	if string(got) != string(want) {
		line, g, w := firstDifference(string(got), string(want))
		t.Errorf("%s differs from the golden file at line %d:\n got: %q\nwant: %q\n(run go test ./runbook -update and review the diff)", path, line, g, w)
	}
}

// firstDifference finds the first line where got and want differ.
func firstDifference(got, want string) (line int, g, w string) {
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(gl), len(wl)) {
		g, w = "<end>", "<end>"
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			return i + 1, g, w
		}
	}
	return 0, "", ""
}

// assertNoFakeSecret fails when out contains any planted secret.
func assertNoFakeSecret(t *testing.T, what string, out []byte) {
	t.Helper()
	for _, s := range fakeSecrets {
		if containsFold(string(out), s) {
			t.Errorf("%s contains the secret %q", what, s)
		}
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
