package runbook

import (
	"strconv"
	"strings"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/cliflag"
	"github.com/mxmigrate/mxmigrate/internal/units"
)

// arg is one command-line argument: a literal, or a reference to an
// environment variable. Credentials only ever travel as references, so the
// same command renders safely for a shell ("$VAR") and for a Kubernetes
// container ($(VAR), expanded by the kubelet from envFrom).
type arg struct {
	literal string
	env     string
}

func lit(s string) arg       { return arg{literal: s} }
func envRef(name string) arg { return arg{env: name} }

// shell renders the argument for a POSIX shell.
func (a arg) shell() string {
	if a.env != "" {
		return `"$` + a.env + `"`
	}
	return shellQuote(a.literal)
}

// container renders the argument for a container's args, where the kubelet
// expands $(VAR) and $$ stands for a literal $.
func (a arg) container() string {
	if a.env != "" {
		return "$(" + a.env + ")"
	}
	return strings.ReplaceAll(a.literal, "$", "$$")
}

// command is an mxmigrate invocation without the program name.
type command []arg

func (c command) shell() string {
	parts := []string{"mxmigrate"}
	for _, a := range c {
		parts = append(parts, a.shell())
	}
	return strings.Join(parts, " ")
}

// container renders the command as a container's args. A flag whose value
// is the variable mxmigrate reads for it anyway (--db from MXMIGRATE_DB) is
// left out, so the value never reaches the process list.
func (c command) container() []string {
	var out []string
	for i := 0; i < len(c); i++ {
		if i+1 < len(c) && c[i+1].env != "" && c[i+1].env == cliEnvName(c[i].literal) {
			i++
			continue
		}
		out = append(out, c[i].container())
	}
	return out
}

// cliEnvName is the environment variable mxmigrate reads for a flag it was
// not given: --work-dir is MXMIGRATE_WORK_DIR.
func cliEnvName(flag string) string {
	name, ok := strings.CutPrefix(flag, "--")
	if !ok {
		return ""
	}
	return cliflag.EnvName(name)
}

// option is --name; with values, --name followed by them.
func option(name string, values ...arg) command {
	return append(command{lit("--" + name)}, values...)
}

// targets are the --db and --files flags, always by reference.
func targets(p Plan) command {
	c := option(cliflag.DB, envRef(p.Database.EnvVar))
	if p.hasFiles() {
		c = append(c, option(cliflag.Files, envRef(p.Files.EnvVar))...)
	}
	return c
}

// keyLayout are the flags that decide object keys; plan, migrate and verify
// must all agree on them.
func keyLayout(p Plan) command {
	var c command
	if p.Options.Prefix != "" {
		c = append(c, option(cliflag.Prefix, lit(p.Options.Prefix))...)
	}
	if p.Options.Suffix != "" {
		c = append(c, option(cliflag.Suffix, lit(p.Options.Suffix))...)
	}
	return c
}

// workDir is the global --work-dir flag, when the plan names another
// folder than the default.
func workDir(dir string) command {
	if dir == "" || dir == cliflag.DefaultWorkDir {
		return nil
	}
	return option(cliflag.WorkDir, lit(dir))
}

// schema is --schema, which verify takes too.
func schema(p Plan) command {
	if p.Options.Schema == "" {
		return nil
	}
	return option(cliflag.Schema, lit(p.Options.Schema))
}

// loadOptions are the database and store options plan was given, as
// migrate (and plan again) take them: a runbook command must do what was
// planned.
func loadOptions(p Plan) command {
	o := p.Options
	var c command
	if o.Jobs > 0 {
		c = append(c, option(cliflag.Jobs, lit(strconv.Itoa(o.Jobs)))...)
	}
	c = append(c, schema(p)...)
	if o.IfExists != dbcopy.IfExistsFail {
		c = append(c, option(cliflag.IfExists, lit(o.IfExists.String()))...)
	}
	if o.AllowConnected {
		c = append(c, option(cliflag.AllowConnected)...)
	}
	if o.WaitLock > 0 {
		c = append(c, option(cliflag.WaitLock, lit(o.WaitLock.String()))...)
	}
	if o.Loader != "" && o.Loader != cliflag.DefaultLoader {
		c = append(c, option(cliflag.Loader, lit(o.Loader))...)
	}
	if o.TypeMapFile != "" {
		c = append(c, option(cliflag.TypeMap, lit(o.TypeMapFile))...)
	}
	if o.Checksums {
		c = append(c, option(cliflag.Checksums)...)
	}
	if !p.hasFiles() {
		return c
	}
	c = append(c, storeOptions(p)...)
	if o.Prune {
		c = append(c, option(cliflag.Prune)...)
	}
	return c
}

// storeOptions are the store options files and migrate share.
func storeOptions(p Plan) command {
	o := p.Options
	var c command
	if o.Transfers > 0 {
		c = append(c, option(cliflag.Transfers, lit(strconv.Itoa(o.Transfers)))...)
	}
	if o.MemoryBudget > 0 && o.MemoryBudget != cliflag.DefaultMemoryBudget {
		c = append(c, option(cliflag.MemoryBudget, lit(units.ExactBytes(o.MemoryBudget)))...)
	}
	if o.Overwrite {
		c = append(c, option(cliflag.Overwrite)...)
	}
	if o.Create {
		c = append(c, option(cliflag.Create)...)
	}
	if o.MaxBlobSize > 0 {
		c = append(c, option(cliflag.MaxBlobSize, lit(strconv.FormatInt(o.MaxBlobSize, 10)))...)
	}
	if o.StoreGiveUp > 0 {
		c = append(c, option(cliflag.StoreGiveUp, lit(o.StoreGiveUp.String()))...)
	}
	if o.StoreMaxFailures > 0 {
		c = append(c, option(cliflag.StoreMaxFailures, lit(strconv.Itoa(o.StoreMaxFailures)))...)
	}
	return c
}

func planCommand(p Plan, backup, work string) command {
	c := append(command{lit("plan"), lit(backup)}, targets(p)...)
	c = append(c, workDir(work)...)
	if p.TargetModelVersion != "" {
		c = append(c, option(cliflag.ModelVersion, lit(p.TargetModelVersion))...)
	}
	if p.Options.Window > 0 {
		c = append(c, option(cliflag.Window, lit(p.Options.Window.String()))...)
	}
	c = append(c, loadOptions(p)...)
	return append(c, keyLayout(p)...)
}

func migrateCommand(p Plan, backup, work string) command {
	c := append(command{lit("migrate"), lit(backup)}, targets(p)...)
	c = append(c, workDir(work)...)
	c = append(c, loadOptions(p)...)
	return append(c, keyLayout(p)...)
}

// EarlierBackup stands for the earlier backup a pre-seed moves: the
// operator takes it while the app still serves.
const EarlierBackup = "EARLIER-BACKUP.tar.gz"

// preseedCommand moves the files of an earlier backup before the window:
// files only, with the store options migrate will use, so that migrate in
// the window finds them and moves only the difference.
func preseedCommand(p Plan, backup, work string) command {
	c := command{lit("files"), lit(backup), lit("--" + cliflag.Files), envRef(p.Files.EnvVar)}
	c = append(c, workDir(work)...)
	c = append(c, storeOptions(p)...)
	return append(c, keyLayout(p)...)
}

// verifyCommand writes a report only when reportPath is set: in a
// Kubernetes Job the summary in the pod's log is what survives.
func verifyCommand(p Plan, backup, work, reportPath string) command {
	c := append(command{lit("verify"), lit(backup)}, targets(p)...)
	c = append(c, workDir(work)...)
	c = append(c, schema(p)...)
	c = append(c, option(cliflag.Checksums)...)
	if reportPath != "" {
		c = append(c, option(cliflag.Report, lit(reportPath))...)
	}
	return append(c, keyLayout(p)...)
}

// shellQuote quotes s for a POSIX shell unless it is plainly safe.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
