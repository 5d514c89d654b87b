package main

import (
	"testing"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// Every kind of usage error exits 2 (bad input), not 1.
func TestUsageErrorsExitBadInput(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"unknown flag", []string{"inspect", "--no-such-flag", "../../testdata/sample.tar.gz"}},
		{"unknown global flag", []string{"--no-such-flag", "inspect"}},
		{"unknown command", []string{"no-such-command"}},
		{"no argument", []string{"inspect"}},
		{"too many arguments", []string{"inspect", "a.tar.gz", "b.tar.gz"}},
		{"migrate without backup", []string{"migrate", "--db", "postgres://x@127.0.0.1/db", "--files", "file:///tmp/x"}},
		{"invalid int flag", []string{"files", "--transfers", "many", "x.tar.gz"}},
		{"invalid duration flag", []string{"db", "--wait-lock", "soon", "x.tar.gz"}},
		{"flag without value", []string{"inspect", "x.tar.gz", "--log-level"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := execute(t, c.args...)
			if err == nil {
				t.Fatalf("%v: no error", c.args)
			}
			if got := exitcode.Of(err); got != exitcode.BadInput {
				t.Fatalf("%v: exit code %d, want %d (%v)", c.args, got, exitcode.BadInput, err)
			}
		})
	}
	// Plain help still works and exits 0.
	if _, err := execute(t); err != nil {
		t.Fatalf("no arguments: %v", err)
	}
}
