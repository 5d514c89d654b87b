package main

import (
	"encoding/json"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/mxmigrate/mxmigrate/internal/testenv"
)

// TestReportToStdoutIsJSON: with --report - stdout holds the JSON report
// and nothing else (the Kubernetes verify Job and scripts parse it), for
// every command that takes --report.
func TestReportToStdoutIsJSON(t *testing.T) {
	cluster := testenv.Postgres(t)
	const backup = "../../testdata/sample.tar.gz"
	files := (&url.URL{Scheme: "file", Path: filepath.Join(t.TempDir(), "files")}).String()
	migrated := testenv.NewDatabase(t, cluster)

	cases := []struct {
		command string
		args    []string
	}{
		{"db", []string{"db", backup, "--db", testenv.NewDatabase(t, cluster)}},
		{"files", []string{"files", backup, "--files", files, "--create"}},
		{"migrate", []string{"migrate", backup, "--db", migrated, "--files", files, "--create"}},
		{"verify", []string{"verify", backup, "--db", migrated, "--files", files, "--checksums"}},
	}
	for _, tc := range cases {
		t.Run(tc.command, func(t *testing.T) {
			// "bar" would draw on stderr; stdout must stay clean either way.
			args := append(tc.args, "--report", "-", "--work-dir", t.TempDir(), "--progress", "log")
			out, err := execute(t, args...)
			if err != nil {
				t.Fatalf("%s: %v", tc.command, err)
			}
			var report struct {
				Command string `json:"command"`
				OK      bool   `json:"ok"`
			}
			var raw json.RawMessage
			if err := json.Unmarshal([]byte(out), &raw); err != nil {
				t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
			}
			if err := json.Unmarshal(raw, &report); err != nil || report.Command != tc.command || !report.OK {
				t.Fatalf("report = %+v (%v), want command %q and ok", report, err, tc.command)
			}
		})
	}
}
