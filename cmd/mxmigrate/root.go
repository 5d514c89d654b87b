package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/pgserver"
	"github.com/mxmigrate/mxmigrate/internal/ui"
	"github.com/mxmigrate/mxmigrate/pipeline"
	"github.com/mxmigrate/mxmigrate/report"

	// Targets and stores register themselves by URL scheme.
	_ "github.com/mxmigrate/mxmigrate/dbcopy/postgres"
	_ "github.com/mxmigrate/mxmigrate/dbcopy/sqlserver"
	"github.com/mxmigrate/mxmigrate/internal/cliflag"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func toolVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

// globals are the flags every command shares.
type globals struct {
	logFormat string
	logLevel  string
	workDir   string
	progress  string
	pgBin     string
}

func newRootCommand() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "mxmigrate",
		Short: "Move a Mendix app's database and files from a backup into new environments, and prove it",
		Long: `mxmigrate reads a Mendix Cloud backup (full-snapshot .tar.gz, database-only .backup, or an
extracted folder) and moves it into a PostgreSQL or SQL Server database and an S3, Azure Blob
or local file store in one streaming pass, then verifies every table and file.

Every flag can also be set from the environment: --wait-lock is MXMIGRATE_WAIT_LOCK, --db is
MXMIGRATE_DB, so that a Kubernetes Job can take credentials from a Secret.

Exit codes: 0 done and verified, 1 failure, 2 bad input, 3 verification failed,
4 another migration holds the lock, 5 a preflight check refused, 130 interrupted.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       toolVersion(),
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd); err != nil {
				return err
			}
			if g.pgBin != "" {
				// Every lookup of the PostgreSQL tools reads the variable.
				return os.Setenv(pgserver.BinDirEnv, g.pgBin)
			}
			return nil
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.logFormat, "log-format", "text", "log format on stderr: text or json")
	pf.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	pf.StringVar(&g.workDir, cliflag.WorkDir, cliflag.DefaultWorkDir, "folder for temporary files and the --db local cluster")
	pf.StringVar(&g.progress, "progress", "auto", "progress display: auto (bar on a terminal, log lines otherwise), bar, log, none")
	pf.StringVar(&g.pgBin, cliflag.PGBin, "", "folder of the PostgreSQL tools: pg_restore, and initdb, pg_ctl and postgres for --db local (default: the newest /usr/lib/postgresql/*/bin, else PATH)")

	root.AddCommand(
		newInspectCommand(g),
		newDBCommand(g),
		newFilesCommand(g),
		newMigrateCommand(g),
		newVerifyCommand(g),
		newPlanCommand(g),
		newRunbookCommand(g),
		newExportCommand(g),
		newLocalCommand(g),
	)
	usageErrorsAreBadInput(root)
	return root
}

// applyEnv fills every flag the user did not set from MXMIGRATE_<FLAG>.
func applyEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		name := cliflag.EnvName(f.Name)
		if v, ok := os.LookupEnv(name); ok {
			if serr := f.Value.Set(v); serr != nil {
				// The value may be a secret: name the variable, not the value.
				err = exitcode.With(exitcode.BadInput, fmt.Errorf("environment variable %s is not a valid --%s", name, f.Name))
			}
			f.Changed = true
		}
	})
	return err
}

// session is what a command run needs from the globals.
type session struct {
	log      *slog.Logger
	progress *ui.Progress
}

func (g *globals) start() (*session, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--log-level %q: use debug, info, warn or error", g.logLevel))
	}
	bars := false
	switch g.progress {
	case "none", "log":
	case "bar":
		bars = true
	case "auto":
		bars = ui.IsTerminal(os.Stderr) && g.logFormat != "json"
	default:
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--progress %q: use auto, bar, log or none", g.progress))
	}
	s := &session{}
	logTo := io.Writer(os.Stderr)
	if bars {
		// Log lines go above the bar, never onto its line.
		s.progress = ui.NewProgress(nil, os.Stderr, 0)
		logTo = s.progress.LogWriter(os.Stderr)
	}
	log, err := ui.NewLogger(logTo, g.logFormat, level)
	if err != nil {
		if s.progress != nil {
			s.progress.Close()
		}
		return nil, exitcode.With(exitcode.BadInput, err)
	}
	s.log = log
	switch {
	case bars:
		s.progress.SetLogger(log)
	case g.progress != "none":
		s.progress = ui.NewProgress(log, nil, 10*time.Second)
	}
	return s, nil
}

// run starts a session, hands work the flags' configuration completed
// with the backup and the globals, and stops the progress display when
// work returns, so that what the command prints next is not overdrawn.
func (g *globals) run(flags pipeline.Config, backup string, work func(pipeline.Config) error) error {
	s, err := g.start()
	if err != nil {
		return err
	}
	defer s.close()
	return work(g.complete(flags, s, backup))
}

func (s *session) close() {
	if s.progress != nil {
		s.progress.Close()
	}
}

// finish prints the report for people, writes the JSON report when asked,
// and passes the run's error on. With --report - stdout holds the JSON
// report alone, for scripts, and the summary goes to stderr.
func finish(report *report.Report, runErr error, reportPath string) error {
	if report == nil {
		return runErr
	}
	summary := io.Writer(os.Stdout)
	if reportPath == cliflag.ReportToStdout {
		summary = os.Stderr
	}
	report.WriteText(summary)
	if reportPath != "" {
		if err := report.WriteJSON(reportPath); err != nil && runErr == nil {
			return err
		}
	}
	return runErr
}

// complete adds the backup and the globals to a configuration the
// command's flags filled in.
func (g *globals) complete(c pipeline.Config, s *session, backup string) pipeline.Config {
	c.Backup, c.WorkDir, c.Version, c.Log, c.Progress = backup, g.workDir, toolVersion(), s.log, s.progress
	return c
}
