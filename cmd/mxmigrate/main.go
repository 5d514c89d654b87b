// Command mxmigrate moves a Mendix app's data out of a Mendix Cloud backup
// into a target database and file store, and proves that nothing was lost.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/mxmigrate/mxmigrate/internal/escape"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/redact"
)

func main() {
	os.Exit(run())
}

// gcPercent is the collector's heap growth target unless GOGC says
// otherwise. A load allocates short-lived buffers for every row (most in
// go-mssqldb's bulk copy) while its live heap stays small, so the default
// 100 collects several times a second; 400 collects a quarter as often for
// some tens of MiB more peak memory, CPU that on a shared machine goes to
// the database server.
const gcPercent = 400

func run() int {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal, restore the default so that a second
		// Ctrl-C ends the process at once.
		<-ctx.Done()
		stop()
	}()
	stopProfiles := startProfiles()
	err := newRootCommand().ExecuteContext(ctx)
	stopProfiles()
	if err == nil {
		return exitcode.OK
	}
	code := exitcode.Of(err)
	if ctx.Err() != nil && !errors.Is(err, context.Canceled) && code == exitcode.Failure {
		code = exitcode.Interrupted
	}
	// The message may quote the backup (escape it) or a credential (redact it).
	fmt.Fprintf(os.Stderr, "mxmigrate: %s\n", escape.Lines(redact.Text(err.Error()), "  "))
	return code
}
