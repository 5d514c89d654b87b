package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/mxmigrate/mxmigrate/internal/cliflag"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/pgserver"
)

// execute runs the command line args and returns its stdout and error.
func execute(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCommand()
	root.SetArgs(args)
	stdout := os.Stdout
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout = w
	done := make(chan []byte)
	go func() {
		data, _ := io.ReadAll(r)
		done <- data
	}()
	err = root.ExecuteContext(context.Background())
	w.Close()
	os.Stdout = stdout
	return string(<-done), err
}

func TestInspectJSON(t *testing.T) {
	out, err := execute(t, "inspect", "--json", "../../testdata/sample.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Kind      string `json:"kind"`
		TotalRows int64  `json:"totalRows"`
		Files     int    `json:"files"`
		Tables    []struct {
			Name string `json:"name"`
			Rows int64  `json:"rows"`
		} `json:"tables"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("inspect --json printed no JSON: %v\n%s", err, out)
	}
	if got.Kind != "full-snapshot" || got.TotalRows != 556 || got.Files != 24 || len(got.Tables) != 11 {
		t.Fatalf("inspect --json = %+v", got)
	}
}

// TestPGBinIsAFlag: MXMIGRATE_PG_BIN, which the PostgreSQL tool lookups
// read, is the variable of a flag like every MXMIGRATE_ variable, and the
// flag sets it.
func TestPGBinIsAFlag(t *testing.T) {
	if got := cliflag.EnvName(cliflag.PGBin); got != pgserver.BinDirEnv {
		t.Fatalf("--%s reads %s, but the lookups read %s", cliflag.PGBin, got, pgserver.BinDirEnv)
	}
	dir := t.TempDir()
	t.Setenv(pgserver.BinDirEnv, "")
	_, _ = execute(t, "--"+cliflag.PGBin, dir, "--work-dir", t.TempDir(), "local", "status")
	if got := os.Getenv(pgserver.BinDirEnv); got != dir {
		t.Errorf("after --%s %s, %s = %q", cliflag.PGBin, dir, pgserver.BinDirEnv, got)
	}
}

func TestFlagsFromEnvironment(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"env fills --if-exists", map[string]string{"MXMIGRATE_IF_EXISTS": "truncate"},
			[]string{"db", "../../testdata/sample.tar.gz", "--db", "local"}, exitcode.BadInput, "--if-exists"},
		{"a bad env value names the variable, not the value", map[string]string{"MXMIGRATE_WAIT_LOCK": "s3cr3t-value"},
			[]string{"db", "../../testdata/sample.tar.gz", "--db", "local"}, exitcode.BadInput, "MXMIGRATE_WAIT_LOCK"},
		{"flags win over env", map[string]string{"MXMIGRATE_DB": "mysql://nowhere"},
			[]string{"db", "../../testdata/sample.tar.gz", "--db", "oracle://nowhere"}, exitcode.BadInput, "oracle"},
		{"an option the target does not use", nil,
			[]string{"db", "../../testdata/sample.tar.gz", "--db", "postgres://u:hunter2@127.0.0.1:1/db", "--type-map", "types.json"}, exitcode.BadInput, "--type-map does not apply to a PostgreSQL target"},
		{"bad log format", nil, []string{"db", "../../testdata/sample.tar.gz", "--log-format", "xml"}, exitcode.BadInput, "--log-format"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := execute(t, append(tc.args, "--work-dir", t.TempDir(), "--progress", "none")...)
			if exitcode.Of(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v (exit %d), want exit %d mentioning %q", err, exitcode.Of(err), tc.code, tc.want)
			}
			for _, v := range tc.env {
				if strings.Contains(err.Error(), "s3cr3t") && strings.Contains(v, "s3cr3t") {
					t.Fatalf("an environment value leaked into the error: %v", err)
				}
			}
		})
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	root := newRootCommand()
	var buf bytes.Buffer
	root.SetOut(&buf)
	root.SetArgs([]string{"--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"inspect", "db", "files", "migrate", "verify", "plan", "runbook"} {
		if !strings.Contains(buf.String(), "\n  "+name+" ") {
			t.Errorf("--help does not list %s:\n%s", name, buf.String())
		}
	}
}
