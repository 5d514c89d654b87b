package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/pgserver"
	"github.com/mxmigrate/mxmigrate/pipeline"
)

// newLocalCommand manages the PostgreSQL cluster that --db local starts
// under the work folder and leaves running. It runs pg_ctl as the account
// the cluster runs as, so it works for whoever started it, root included.
func newLocalCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "local status|stop",
		Short: "Show or stop the PostgreSQL cluster that --db local started under --work-dir",
	}
	find := func() (*pgserver.Cluster, error) {
		c, err := pgserver.Find(pgserver.Options{Dir: pipeline.LocalClusterDir(g.workDir)})
		if errors.Is(err, pgserver.ErrNoCluster) {
			return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("no local PostgreSQL under %s (--db local creates it there)", pipeline.LocalClusterDir(g.workDir)))
		}
		return c, err
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "Say whether the local PostgreSQL runs, and how to connect to it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := find()
			if err != nil {
				return err
			}
			if !c.Running(cmd.Context()) {
				fmt.Fprintf(os.Stdout, "local PostgreSQL in %s: stopped (migrate --db local starts it again)\n", c.Dir())
				return nil
			}
			fmt.Fprintf(os.Stdout, "local PostgreSQL in %s: running on port %d\nconnect: %s\n", c.Dir(), c.Port(), pipeline.LocalURL(c))
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "stop",
		Short: "Stop the local PostgreSQL (its data stays; --db local starts it again)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := find()
			if err != nil {
				return err
			}
			if err := c.Stop(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(os.Stdout, "local PostgreSQL in %s: stopped\n", c.Dir())
			return nil
		},
	})
	return cmd
}
