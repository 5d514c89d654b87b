package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/mxmigrate/mxmigrate/internal/cliflag"
	"github.com/mxmigrate/mxmigrate/pipeline"
	"github.com/mxmigrate/mxmigrate/report"
)

// flagGroups names the groups of flags a transfer command takes.
type flagGroups int

const (
	dbFlags flagGroups = 1 << iota
	filesFlags
)

// transferCommand builds db, files and migrate: they differ only in the
// flags they take and the pipeline function they call.
func transferCommand(g *globals, use, short, long string, groups flagGroups, runFn func(context.Context, pipeline.Config) (*report.Report, error)) *cobra.Command {
	var cfg pipeline.Config
	var reportPath string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var report *report.Report
			err := g.run(cfg, args[0], func(c pipeline.Config) (err error) {
				report, err = runFn(cmd.Context(), c)
				return err
			})
			return finish(report, err, reportPath)
		},
	}
	if groups&dbFlags != 0 {
		addDBFlags(cmd.Flags(), &cfg)
	}
	if groups&filesFlags != 0 {
		addFilesFlags(cmd.Flags(), &cfg)
	}
	if groups&dbFlags != 0 && groups&filesFlags != 0 {
		addPruneFlag(cmd.Flags(), &cfg)
	}
	cmd.Flags().StringVar(&reportPath, cliflag.Report, "", "write a JSON report to this file ('-' for stdout)")
	return cmd
}

func newDBCommand(g *globals) *cobra.Command {
	return transferCommand(g, "db BACKUP --db URL", "Move the backup's database into a PostgreSQL or SQL Server target, then verify it",
		`Restores the dump straight into a PostgreSQL target (natively, without client tools; or with
--loader pg_restore), or bulk-copies it from the dump straight into SQL Server / Azure SQL (no
PostgreSQL needed). Before writing it checks that the target is reachable,
empty (or --if-exists drop) and that no app is connected; it holds a lock on the target for the
whole run, so parallel runs cannot both write. An interrupted run resumes when started again.
Every table's row count, sequence, index and constraint is checked against the dump at the end.`,
		dbFlags, pipeline.DB)
}

func newFilesCommand(g *globals) *cobra.Command {
	return transferCommand(g, "files BACKUP --files URL", "Upload the backup's files (tree/xx/yy/<uuid>) to S3, Azure Blob Storage or a folder",
		`Streams every blob from the backup to the store under its UUID, many in flight, with the MD5
checked by the store. Objects already there with the same content are skipped, so a rerun
uploads only what is missing.`,
		filesFlags, pipeline.Files)
}

func newMigrateCommand(g *globals) *cobra.Command {
	cmd := transferCommand(g, "migrate BACKUP --db URL --files URL", "Move the database and the files in one pass over the backup, then verify both",
		`Reads the backup once: the dump goes to the database while the files are already uploading.
Ends with verification of every table and of every file document's object.`,
		dbFlags|filesFlags, pipeline.Migrate)
	return cmd
}
