package runbook

import (
	"strings"
	"testing"
	"time"
)

func TestMarkdownGolden(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			out, err := Markdown(f.plan())
			if err != nil {
				t.Fatal(err)
			}
			golden(t, f.name+"/runbook.md", out)
			assertNoFakeSecret(t, "runbook", out)
		})
	}
}

// TestMarkdownContent pins the statements an operator relies on, so that a
// careless -update cannot silently drop them.
func TestMarkdownContent(t *testing.T) {
	tests := []struct {
		name    string
		plan    Plan
		want    []string
		notWant []string
	}{
		{
			name: "healthy postgres plan",
			plan: postgresS3Plan(),
			want: []string{
				"**Same app model version.** The backup and the app on the target both run model version `1.0.0.40`",
				`mxmigrate migrate backups/files_and_database-fc9e126f-201811210121.tar.gz --db "$MXMIGRATE_DB" --files "$MXMIGRATE_FILES" --jobs 4 --transfers 32 --prefix mx/`,
				`mxmigrate verify backups/files_and_database-fc9e126f-201811210121.tar.gz --db "$MXMIGRATE_DB" --files "$MXMIGRATE_FILES" --checksums --report report.json --prefix mx/`,
				"`postgres://mendix:REDACTED@db.prod.example.internal:5432/appdb?sslmode=require`",
				"| `com.mendix.storage.s3.ResourceNamePrefix` | `app1/mx/` |",
				"| `DatabasePassword` | secret: from `DATABASE_PASSWORD` |",
				"| **Total** | **1h 6m** |",
				"| no other sessions | warning |",
				`pg_restore 17.2 reads archive 1.14 \| needs 12+`,
				"| 4 | lock-held |",
				"| 130 | interrupted |",
				"DROP SCHEMA IF EXISTS mxmigrate CASCADE",
				"Delete the work folder `.mxmigrate`",
				"read -rs AWS_SECRET_ACCESS_KEY && export AWS_SECRET_ACCESS_KEY",
			},
			notWant: []string{"Not ready", "STOP", "FAILED"},
		},
		{
			name: "sql server plan with a mismatch and a failed check",
			plan: sqlServerAzurePlan(),
			want: []string{
				"> **Not ready for the window.**",
				"**STOP: the app model versions differ.** The backup comes from model version `2.3.0.118`; the app that will run on the target is `2.4.0.7`.",
				"| target database empty | **FAILED** |",
				"1 preflight check(s) failed",
				"The estimate (2h 50m) is longer than the window (2h).",
				// The pre-signed backup link is printed, but not its signature.
				"'https://backups.example.com/hr/files_and_database-0a1b2c3d-202403040506.tar.gz?sig=REDACTED&se=2024-03-05'",
				`--db "$MXMIGRATE_DB" --files "$HR_FILES_URL"`,
				"--work-dir '/var/tmp/mxmigrate work'",
				"| `DatabaseType` | `SQLSERVER` |",
				"| `DatabaseName` | `hrapp` |",
				"| `com.mendix.storage.azure.AccountName` | `hrfiles` |",
				"| `com.mendix.storage.azure.Container` | `mendix-files` |",
				"| `hr$leave\\|request` | 30,500 |",
				"AccountKey=REDACTED",
				"drop the tables in schema `mxmigrate`, then `DROP SCHEMA mxmigrate;`",
			},
			notWant: []string{"psql", "ResourceNamePrefix", "staging"},
		},
		{
			name: "model version not given, window not given",
			plan: func() Plan {
				p := postgresS3Plan()
				p.TargetModelVersion = ""
				p.Options.Window = 0
				return p
			}(),
			want: []string{
				"**Same app model version: not given.**",
				"Window: **not given.**",
			},
			notWant: []string{"--model-version 1.0.0.40"},
		},
		{
			name: "database-only backup without files",
			plan: func() Plan {
				p := postgresS3Plan()
				p.Backup.Kind = BackupDatabaseOnly
				p.Backup.ModelVersion = ""
				p.Backup.Files, p.Backup.FilesBytes = 0, 0
				p.Files = TargetFacts{}
				return p
			}(),
			want: []string{
				"**Same app model version: unknown.**",
				"| Files | none (no files target) |",
			},
			notWant: []string{"--files", "--transfers", "com.mendix.core.StorageService", "MXMIGRATE_FILES"},
		},
		{
			name: "a full path as the backup name keeps only the base name",
			plan: func() Plan {
				p := postgresS3Plan()
				p.Backup.Name = `C:\Users\ops\Downloads\files_and_database-fc9e126f-201811210121.tar.gz`
				return p
			}(),
			want:    []string{"# Migration runbook: `files_and_database-fc9e126f-201811210121.tar.gz`"},
			notWant: []string{"Users", "Downloads"},
		},
		{
			name: "azure target with a prefix warns",
			plan: func() Plan {
				p := sqlServerAzurePlan()
				p.Options.Prefix = "hr/"
				return p
			}(),
			want: []string{"> **Warning:** Mendix's Azure Blob Storage settings have no resource-name prefix"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Markdown(tt.plan)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("runbook lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(string(out), w) {
					t.Errorf("runbook should not contain %q", w)
				}
			}
			assertNoFakeSecret(t, "runbook", out)
		})
	}
}

func TestMarkdownRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Plan)
		want   string
	}{
		{"unknown database", func(p *Plan) { p.Database.Kind = "mysql" }, `unknown database kind "mysql"`},
		{"unknown store", func(p *Plan) { p.Files.Kind = "gcs" }, `unknown files kind "gcs"`},
		{"files but no store", func(p *Plan) { p.Files = TargetFacts{} }, "has 48211 files but no files target"},
		{"env var that is shell code", func(p *Plan) { p.Database.EnvVar = "X; rm -rf /" }, "not a valid environment variable name"},
		{"no backup name", func(p *Plan) { p.Backup.Name = "" }, "no name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := postgresS3Plan()
			tt.change(&p)
			_, err := Markdown(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestEstimateTotalOverlapsDatabaseAndFiles(t *testing.T) {
	tests := []struct {
		e    Estimate
		want time.Duration
	}{
		{Estimate{Database: 30 * time.Minute, Files: 10 * time.Minute, Verify: 5 * time.Minute}, 35 * time.Minute},
		{Estimate{Database: 10 * time.Minute, Files: 40 * time.Minute, Verify: 0}, 40 * time.Minute},
		{Estimate{}, 0},
	}
	for _, tt := range tests {
		if got := tt.e.Total(); got != tt.want {
			t.Errorf("%+v.Total() = %v, want %v", tt.e, got, tt.want)
		}
	}
}
