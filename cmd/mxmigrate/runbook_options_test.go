package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/mxmigrate/mxmigrate/internal/cliflag"
	"github.com/mxmigrate/mxmigrate/pipeline"
	"github.com/mxmigrate/mxmigrate/runbook"
)

// TestRunbookCommandsCarryEveryPlannedOption sets every option plan takes
// to a value other than its default, renders the runbook and the
// Kubernetes manifests, parses each mxmigrate command in them with the
// real command tree, and checks that the command has every option it
// accepts with the value plan was given. A new flag that the runbook does
// not pass on fails here.
func TestRunbookCommandsCarryEveryPlannedOption(t *testing.T) {
	var pf planFlags
	fs := pflag.NewFlagSet("plan", pflag.ContinueOnError)
	pf.add(fs)
	var args []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name == cliflag.DB || f.Name == cliflag.Files {
			return // by environment variable: checked below
		}
		args = append(args, "--"+f.Name+"="+nonDefault(t, f))
	})
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	const workDir = "/var/tmp/mx work"
	cfg := pf.cfg
	cfg.Backup, cfg.WorkDir = "backups/app.tar.gz", workDir

	for _, kinds := range [][2]string{
		{runbook.DatabasePostgres, runbook.FilesS3},
		{runbook.DatabaseSQLServer, runbook.FilesAzure},
		{runbook.DatabasePostgres, runbook.FilesLocal},
	} {
		t.Run(kinds[0]+"-"+kinds[1], func(t *testing.T) {
			plan := runbook.Plan{
				ToolVersion: "test",
				Backup:      runbook.BackupFacts{Name: "app.tar.gz", Kind: runbook.BackupFullSnapshot, DumpSize: 1 << 20, Files: 3, Tables: []runbook.TableFacts{{Name: "system$user", Rows: 2}}},
				Database:    runbook.TargetFacts{Kind: kinds[0], EnvVar: runbook.DefaultDatabaseEnv, URL: map[string]string{runbook.DatabasePostgres: "postgres://app@db:5432/app", runbook.DatabaseSQLServer: "sqlserver://app@sql:1433?database=app"}[kinds[0]]},
				Files:       runbook.TargetFacts{Kind: kinds[1], EnvVar: runbook.DefaultFilesEnv, URL: map[string]string{runbook.FilesS3: "s3://bucket/app", runbook.FilesAzure: "azblob://container", runbook.FilesLocal: "file:///srv/files"}[kinds[1]]},
				Options:     pipeline.PlanOptions(cfg, pf.window),

				TargetModelVersion: pf.modelVersion,
			}
			doc, err := runbook.Markdown(plan)
			if err != nil {
				t.Fatal(err)
			}
			typeMap := []byte(`{"types": {"text": "nvarchar(max)"}}`)
			manifests, err := runbook.KubernetesManifests(plan, runbook.K8sOptions{AppName: "app", FilesClaim: "files", TypeMap: typeMap})
			if err != nil {
				t.Fatal(err)
			}

			seen := map[string]bool{}
			for _, line := range strings.Split(string(doc), "\n") {
				if line = strings.TrimSpace(line); strings.HasPrefix(line, "mxmigrate ") {
					words := shellWords(t, line)
					seen[words[1]] = true
					checkCommand(t, "runbook.md", words[1:], fs, map[string]string{cliflag.WorkDir: workDir}, plan)
				}
			}
			for _, m := range manifests {
				if m.Name == "cutover.sh" {
					for _, line := range strings.Split(string(m.Content), "\n") {
						if line = strings.TrimSpace(line); strings.HasPrefix(line, "mxmigrate ") {
							words := shellWords(t, line)
							seen["cutover "+words[1]] = true
							checkCommand(t, m.Name, words[1:], fs, map[string]string{cliflag.WorkDir: workDir}, plan)
						}
					}
					continue
				}
				checkTypeMapConfigMap(t, m, typeMap)
				var job batchv1.Job
				if err := yaml.Unmarshal(lastDocument(m.Content), &job); err != nil || job.Kind != "Job" {
					continue
				}
				for _, c := range job.Spec.Template.Spec.Containers {
					if len(c.Command) == 0 || c.Command[0] != "mxmigrate" {
						continue
					}
					var words []string
					for _, a := range c.Args {
						words = append(words, strings.ReplaceAll(a, "$$", "$"))
					}
					seen["job "+words[0]] = true
					// The Job reads the type map from its ConfigMap.
					inJob := map[string]string{cliflag.WorkDir: "/work", cliflag.TypeMap: "/etc/mxmigrate/type-map.json"}
					checkCommand(t, m.Name, words, fs, inJob, plan)
					if words[0] == "migrate" && !mountsTypeMap(job) {
						t.Errorf("%s: the migration Job does not mount the type map's ConfigMap at /etc/mxmigrate", m.Name)
					}
				}
			}
			for _, want := range []string{"plan", "migrate", "verify", "job migrate", "job verify"} {
				if !seen[want] {
					t.Errorf("no %q command found (found %v)", want, seen)
				}
			}
		})
	}
}

// checkCommand parses one mxmigrate command line (without the program
// name) with the real command tree and compares its options with plan's.
func checkCommand(t *testing.T, where string, words []string, planned *pflag.FlagSet, globals map[string]string, plan runbook.Plan) {
	t.Helper()
	root := newRootCommand()
	cmd, rest, err := root.Find(words)
	if err != nil || cmd == root {
		t.Errorf("%s: %q is no mxmigrate command: %v", where, words, err)
		return
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s: mxmigrate %s: %v", where, strings.Join(words, " "), err)
		return
	}
	line := where + ": mxmigrate " + strings.Join(words, " ")
	if n := len(cmd.Flags().Args()); n != 1 {
		t.Errorf("%s: %d arguments, want the backup alone", line, n)
	}
	for name, want := range globals {
		f := cmd.Flags().Lookup(name)
		if f == nil {
			continue // this command has no such option
		}
		if got := f.Value.String(); got != want {
			t.Errorf("%s: --%s = %q, want %q", line, name, got, want)
		}
	}
	planned.VisitAll(func(f *pflag.Flag) {
		got := cmd.Flags().Lookup(f.Name)
		if _, given := globals[f.Name]; got == nil || given {
			return // this command has no such option, or it was checked above
		}
		want := f.Value.String()
		switch f.Name {
		case cliflag.DB:
			want = "$" + plan.Database.EnvVar
		case cliflag.Files:
			want = "$" + plan.Files.EnvVar
		}
		if (f.Name == cliflag.DB || f.Name == cliflag.Files) && !got.Changed {
			// A Job leaves the flag out: mxmigrate reads the variable.
			if !strings.HasSuffix(where, ".yaml") {
				t.Errorf("%s: no --%s", line, f.Name)
			}
			return
		}
		if got.Value.String() != want {
			t.Errorf("%s: --%s = %q, but plan was made with %q", line, f.Name, got.Value.String(), want)
		}
	})
}

// lastDocument is the last document of a YAML stream: a manifest file's
// Job comes after what it needs (a ServiceAccount, a ConfigMap).
func lastDocument(content []byte) []byte {
	docs := strings.Split(string(content), "\n---\n")
	return []byte(docs[len(docs)-1])
}

// checkTypeMapConfigMap checks that the migration Job's file brings the
// type map's ConfigMap with the file's contents.
func checkTypeMapConfigMap(t *testing.T, m runbook.Manifest, typeMap []byte) {
	t.Helper()
	if m.Name != "migration-job.yaml" {
		return
	}
	for _, doc := range strings.Split(string(m.Content), "\n---\n") {
		var cm corev1.ConfigMap
		if err := yaml.Unmarshal([]byte(doc), &cm); err == nil && cm.Kind == "ConfigMap" {
			if got := cm.Data["type-map.json"]; got != string(typeMap) {
				t.Errorf("%s: ConfigMap %s holds %q, want the type map %q", m.Name, cm.Name, got, typeMap)
			}
			return
		}
	}
	t.Errorf("%s: no ConfigMap with the type map", m.Name)
}

// mountsTypeMap reports whether the Job mounts a ConfigMap at
// /etc/mxmigrate.
func mountsTypeMap(job batchv1.Job) bool {
	pod := job.Spec.Template.Spec
	for _, v := range pod.Volumes {
		if v.ConfigMap == nil {
			continue
		}
		for _, m := range pod.Containers[0].VolumeMounts {
			if m.Name == v.Name && m.MountPath == "/etc/mxmigrate" {
				return true
			}
		}
	}
	return false
}

// nonDefault is a valid value for f other than its default.
func nonDefault(t *testing.T, f *pflag.Flag) string {
	switch f.Name {
	case cliflag.IfExists:
		return "drop"
	case cliflag.Loader:
		return "pg_restore"
	}
	switch f.Value.Type() {
	case "bool":
		return "true"
	case "int", "int64":
		n, _ := strconv.Atoi(f.DefValue)
		return strconv.Itoa(n + 3)
	case "duration":
		return "7m0s"
	case "size":
		return "128MiB"
	case "string":
		return "x-" + f.Name
	}
	t.Fatalf("no test value for --%s of type %s: add one", f.Name, f.Value.Type())
	return ""
}

// shellWords splits a POSIX shell command line as the runbook writes
// them: single and double quotes, no expansion.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				t.Fatalf("unclosed quote in %q", line)
			}
			cur.WriteString(line[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			end := strings.IndexByte(line[i+1:], '"')
			if end < 0 {
				t.Fatalf("unclosed quote in %q", line)
			}
			cur.WriteString(line[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) < 2 || slices.Contains(words, "") {
		t.Fatalf("cannot read %q as a command", line)
	}
	return words
}
