package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/pgserver"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/pipeline"
)

// TestLocalStatusAndStop: the commands --db local prints work for whoever
// ran it, root included (pg_ctl itself refuses root).
func TestLocalStatusAndStop(t *testing.T) {
	testenv.Postgres(t) // skips or fails as the other server tests do when PostgreSQL is missing
	work := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cluster, err := pgserver.Start(ctx, pgserver.Options{Dir: pipeline.LocalClusterDir(work)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Remove(context.Background()) })

	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"local", "status"}, exitcode.OK, "running on port"},
		{[]string{"local", "status"}, exitcode.OK, "connect: postgres://"},
		{[]string{"local", "stop"}, exitcode.OK, "stopped"},
		{[]string{"local", "status"}, exitcode.OK, "stopped (migrate --db local starts it again)"},
	}
	for _, s := range steps {
		out, err := execute(t, append(s.args, "--work-dir", work)...)
		if exitcode.Of(err) != s.code || !strings.Contains(out, s.want) {
			t.Fatalf("%v: exit %d (%v), output %q; want %q", s.args, exitcode.Of(err), err, out, s.want)
		}
	}
	if cluster.Running(ctx) {
		t.Fatal("local stop left the cluster running")
	}
	_, err = execute(t, "local", "status", "--work-dir", t.TempDir())
	if exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), "no local PostgreSQL") {
		t.Fatalf("status without a cluster: %v", err)
	}
}
