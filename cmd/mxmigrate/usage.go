package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// usageErrorsAreBadInput makes every usage error of root and its
// subcommands (an unknown flag or command, a wrong number of arguments, a
// flag value that does not parse) exit with BadInput, as the README
// documents: cobra returns them as plain errors, which would exit 1.
func usageErrorsAreBadInput(root *cobra.Command) {
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return exitcode.With(exitcode.BadInput, err)
	})
	// cobra checks the root's subcommand name in Find, before any hook,
	// unless the root validates its own arguments; a root that runs
	// (showing help) is needed for that check to be reached.
	root.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
		}
		return nil
	}
	if root.RunE == nil && root.Run == nil {
		root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
	wrapArgs(root)
}

func wrapArgs(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			return exitcode.With(exitcode.BadInput, check(c, args))
		}
	}
	for _, sub := range cmd.Commands() {
		wrapArgs(sub)
	}
}
