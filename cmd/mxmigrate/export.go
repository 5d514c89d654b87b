package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mxmigrate/mxmigrate/pipeline"
)

func newExportCommand(g *globals) *cobra.Command {
	var cfg pipeline.ExportConfig
	var reportPath string
	cmd := &cobra.Command{
		Use:   "export --db URL --files URL -o BACKUP.tar.gz",
		Short: "Write a Mendix full-snapshot backup (.tar.gz) from a PostgreSQL or SQL Server database and a file store",
		Long: `Reads the database in one snapshot and every file document's object from the store, and writes
the backup Mendix Cloud restores: .metadata, db/db.backup (a pg_dump custom-format archive, version
1.14, readable by pg_restore 12 and later) and tree/xx/yy/<uuid>. It refuses while other sessions
(the app) are connected, unless --allow-connected, and holds the migration lock so that no load
writes meanwhile. -o - writes the backup to stdout, to pipe it into an upload.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.run(cfg.Config, "-", func(c pipeline.Config) error {
				cfg.Config = c
				res, err := pipeline.Export(cmd.Context(), cfg)
				if err != nil {
					return err
				}
				// stdout may be the backup itself: the summary goes to stderr.
				fmt.Fprintf(os.Stderr, "Exported %d tables (%d rows) and %d files (%d bytes) to %s\n",
					res.Tables, res.Rows, res.Blobs, res.FilesSize, cfg.Output)
				if len(res.MissingBlobs) > 0 {
					fmt.Fprintf(os.Stderr, "%d file documents had no object in the store and are not in the backup (first: %s)\n",
						len(res.MissingBlobs), res.MissingBlobs[0])
				}
				if reportPath != "" {
					data, err := json.MarshalIndent(res, "", "  ")
					if err != nil {
						return err
					}
					return os.WriteFile(reportPath, append(data, '\n'), 0o644)
				}
				return nil
			})
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&cfg.Output, "output", "o", "", "the backup file to write (.tar.gz), or - for stdout")
	fs.StringVar(&cfg.ModelVersion, "model-version", "", "model version for .metadata (default: mendixsystem$version's)")
	fs.StringVar(&cfg.DB, "db", "", "source database: postgres://USER@HOST:PORT/DB or sqlserver://USER@HOST:PORT?database=DB")
	fs.StringVar(&cfg.Files, "files", "", "source file store: s3://BUCKET[/PREFIX], azblob://CONTAINER[/PREFIX], https://ACCOUNT.blob.core.windows.net/CONTAINER, or file:///PATH")
	fs.IntVar(&cfg.Jobs, "jobs", 2, "tables read in parallel")
	fs.IntVar(&cfg.Transfers, "transfers", 16, "downloads in flight")
	fs.Int64Var(&cfg.MemoryBudget, "memory-budget", 64<<20, "bytes of blobs held in memory at once; larger blobs wait in --work-dir")
	fs.DurationVar(&cfg.WaitLock, "wait-lock", 0, "how long to wait when a migration holds the database's lock (0: fail at once)")
	fs.BoolVar(&cfg.AllowConnected, "allow-connected", false, "export although other sessions are connected to the database")
	fs.StringVar(&cfg.Schema, "schema", "", "schema to export (default: public for PostgreSQL, dbo for SQL Server)")
	addNamingFlags(fs, &cfg.Config)
	fs.StringVar(&reportPath, "report", "", "write a JSON summary to this file")
	return cmd
}
