package runbook

import (
	"strconv"
	"strings"
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
	return "MXMIGRATE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// targets are the --db and --files flags, always by reference.
func targets(p Plan) command {
	c := command{lit("--db"), envRef(p.Database.EnvVar)}
	if p.hasFiles() {
		c = append(c, lit("--files"), envRef(p.Files.EnvVar))
	}
	return c
}

// keyLayout are the flags that decide object keys; plan, migrate and verify
// must all agree on them.
func keyLayout(p Plan) command {
	var c command
	if p.Options.Prefix != "" {
		c = append(c, lit("--prefix"), lit(p.Options.Prefix))
	}
	if p.Options.Suffix != "" {
		c = append(c, lit("--suffix"), lit(p.Options.Suffix))
	}
	return c
}

// defaultWorkDir is mxmigrate's --work-dir default.
const defaultWorkDir = ".mxmigrate"

// workDir is the global --work-dir flag, when the plan names another
// folder than the default.
func workDir(dir string) command {
	if dir == "" || dir == defaultWorkDir {
		return nil
	}
	return command{lit("--work-dir"), lit(dir)}
}

func planCommand(p Plan, backup, work string) command {
	c := append(command{lit("plan"), lit(backup)}, targets(p)...)
	c = append(c, workDir(work)...)
	if p.TargetModelVersion != "" {
		c = append(c, lit("--model-version"), lit(p.TargetModelVersion))
	}
	return append(c, keyLayout(p)...)
}

func migrateCommand(p Plan, backup, work string) command {
	c := append(command{lit("migrate"), lit(backup)}, targets(p)...)
	c = append(c, workDir(work)...)
	if p.Options.Jobs > 0 {
		c = append(c, lit("--jobs"), lit(strconv.Itoa(p.Options.Jobs)))
	}
	if p.Options.Transfers > 0 && p.hasFiles() {
		c = append(c, lit("--transfers"), lit(strconv.Itoa(p.Options.Transfers)))
	}
	return append(c, keyLayout(p)...)
}

// verifyCommand writes a report only when reportPath is set: in a
// Kubernetes Job the summary in the pod's log is what survives.
func verifyCommand(p Plan, backup, work, reportPath string) command {
	c := append(command{lit("verify"), lit(backup)}, targets(p)...)
	c = append(c, workDir(work)...)
	c = append(c, lit("--checksums"))
	if reportPath != "" {
		c = append(c, lit("--report"), lit(reportPath))
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
