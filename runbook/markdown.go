package runbook

import (
	"bytes"
	"cmp"
	_ "embed"
	"fmt"
	"slices"
	"text/template"

	"github.com/mxmigrate/mxmigrate/internal/cliflag"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/redact"
	"github.com/mxmigrate/mxmigrate/internal/units"
)

//go:embed runbook.md.tmpl
var runbookTemplate string

var markdownTemplate = template.Must(template.New("runbook").Funcs(template.FuncMap{
	"code":  mdCode,
	"ccode": func(s string) string { return mdCell(mdCode(s)) },
	"cell":  mdCell,
	"bytes": units.Bytes,
	"count": humanCount,
	"int64": func(n int) int64 { return int64(n) },
	"dur":   humanDuration,
	"time":  humanTime,
}).Parse(runbookTemplate))

// largestTablesShown bounds the summary: the operator needs the big ones to
// judge progress, not the whole schema.
const largestTablesShown = 10

// Model version comparison outcomes.
const (
	modelMatch         = "match"
	modelMismatch      = "mismatch"
	modelTargetMissing = "target-not-given"
	modelSourceMissing = "source-unknown"
)

// markdownView is the plan digested for the template: every string in it is
// already redacted, so the template cannot print a secret by mistake.
type markdownView struct {
	Plan          Plan
	DatabaseURL   string
	FilesURL      string
	TableCount    int64
	TotalRows     int64
	WorkDir       string
	LargestTables []TableFacts
	Model         string
	OverWindow    bool
	Failed        int
	Checks        []Check
	Env           []envLine
	BackupArg     string
	PlanCmd       string
	MigrateCmd    string
	PreseedCmd    string
	EarlierBackup string
	VerifyCmd     string
	Settings      []Setting
	Warnings      []string
	ExitCodes     []exitLine
	K8s           k8sFileNames
	ReportFile    string
}

type envLine struct{ Name, What string }

type exitLine struct {
	Code       int
	Name, What string
}

// reportFile is where the runbook's verify command writes its report.
const reportFile = "report.json"

// Markdown renders the runbook for p. It fails on a plan it cannot describe
// correctly, and, as a last defence, on output that would contain a secret
// found in the plan's inputs.
func Markdown(p Plan) ([]byte, error) {
	p, err := normalize(p)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := markdownTemplate.Execute(&out, newMarkdownView(p)); err != nil {
		return nil, fmt.Errorf("runbook: render: %w", err)
	}
	if err := errIfLeaks("the runbook", out.Bytes(), secretValues(p)); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func newMarkdownView(p Plan) markdownView {
	v := markdownView{
		Plan:          p,
		DatabaseURL:   redact.URL(p.Database.URL),
		FilesURL:      redact.URL(p.Files.URL),
		LargestTables: largestTables(p.Backup.Tables, largestTablesShown),
		Model:         compareModels(p.Backup.ModelVersion, p.TargetModelVersion),
		OverWindow:    p.Options.Window > 0 && p.Estimate.Total() > p.Options.Window,
		Failed:        len(p.failedChecks()),
		Env:           credentialEnv(p),
		BackupArg:     shellQuote(p.backupArg()),
		PlanCmd:       planCommand(p, p.backupArg(), p.Options.WorkDir).shell(),
		MigrateCmd:    migrateCommand(p, p.backupArg(), p.Options.WorkDir).shell(),
		PreseedCmd:    preseedCommand(p, EarlierBackup, p.Options.WorkDir).shell(),
		EarlierBackup: EarlierBackup,
		VerifyCmd:     verifyCommand(p, p.backupArg(), p.Options.WorkDir, reportFile).shell(),
		Settings:      RuntimeSettings(p),
		Warnings:      storageWarnings(p),
		ExitCodes:     exitCodes(),
		K8s:           fileNames,
		ReportFile:    reportFile,
		TableCount:    int64(len(p.Backup.Tables)),
		WorkDir:       cmp.Or(p.Options.WorkDir, cliflag.DefaultWorkDir),
	}
	for _, t := range p.Backup.Tables {
		v.TotalRows += t.Rows
	}
	for _, c := range p.Checks {
		c.Name, c.Detail = redact.Text(c.Name), redact.Text(c.Detail)
		v.Checks = append(v.Checks, c)
	}
	return v
}

func largestTables(tables []TableFacts, n int) []TableFacts {
	sorted := slices.Clone(tables)
	slices.SortStableFunc(sorted, func(a, b TableFacts) int {
		return cmp.Or(cmp.Compare(b.Rows, a.Rows), cmp.Compare(a.Name, b.Name))
	})
	return sorted[:min(n, len(sorted))]
}

func compareModels(source, target string) string {
	switch {
	case source == "":
		return modelSourceMissing
	case target == "":
		return modelTargetMissing
	case source == target:
		return modelMatch
	default:
		return modelMismatch
	}
}

// credentialEnv lists the environment variables the commands read, with
// what goes in each; the values themselves never appear anywhere.
func credentialEnv(p Plan) []envLine {
	dbWhat := "the target database URL, with its password"
	if p.Database.usesIdentity() {
		dbWhat = "the target database URL, without a password: it signs in as " + p.Database.Identity
	}
	env := []envLine{{p.Database.EnvVar, dbWhat}}
	switch p.Files.Kind {
	case FilesS3:
		env = append(env, envLine{p.Files.EnvVar, "the target bucket URL"})
		if !p.Files.usesIdentity() {
			env = append(env,
				envLine{EnvAWSAccessKeyID, "the S3 access key id"},
				envLine{EnvAWSSecretKey, "the S3 secret access key"})
		}
	case FilesAzure:
		env = append(env, envLine{p.Files.EnvVar, "the target container URL"})
		if !p.Files.usesIdentity() {
			env = append(env, envLine{EnvAzureConnection, "the storage account's connection string"})
		}
	case FilesLocal:
		env = append(env, envLine{p.Files.EnvVar, "the target folder URL (file:///...)"})
	}
	return env
}

func exitCodes() []exitLine {
	what := []struct {
		code int
		what string
	}{
		{exitcode.OK, "Done and verified. Go on with the next step."},
		{exitcode.Failure, "Unexpected error (I/O, network, server). Read the message, fix the cause, run the same command again: it resumes."},
		{exitcode.BadInput, "The backup, a URL or a flag is wrong. Fix the input; nothing was written."},
		{exitcode.VerifyFailed, "The data moved but verification found a difference. Do not start the app; read the report, rerun migrate (it resumes), then verify again."},
		{exitcode.LockHeld, "Another migration holds the target's lock. Find it (another terminal, a Kubernetes Job) and let it finish or stop it; never run two."},
		{exitcode.PreflightRefused, "A safety check refused to write (target not empty, app still connected, ...). Fix what it names; nothing was written."},
		{exitcode.Interrupted, "Stopped by Ctrl-C or SIGTERM. The lock is released; the same command resumes where it stopped."},
	}
	lines := make([]exitLine, len(what))
	for i, w := range what {
		lines[i] = exitLine{Code: w.code, Name: exitcode.Name(w.code), What: w.what}
	}
	return lines
}
