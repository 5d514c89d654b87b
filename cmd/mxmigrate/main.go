// Command mxmigrate moves a Mendix app's data out of a Mendix Cloud backup
// into a target database and file store, and proves that nothing was lost.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/mxmigrate/mxmigrate/internal/escape"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/redact"
)

func main() {
	os.Exit(run())
}

func run() int {
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
	// The message may quote the backup: escape it.
	fmt.Fprintf(os.Stderr, "mxmigrate: %s\n", escape.Lines(redact.Text(err.Error()), "  "))
	return code
}
