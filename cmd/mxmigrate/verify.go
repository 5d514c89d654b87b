package main

import (
	"github.com/spf13/cobra"

	"github.com/mxmigrate/mxmigrate/internal/cliflag"
	"github.com/mxmigrate/mxmigrate/pipeline"
	"github.com/mxmigrate/mxmigrate/report"
)

func newVerifyCommand(g *globals) *cobra.Command {
	var cfg pipeline.Config
	var reportPath string
	cmd := &cobra.Command{
		Use:   "verify BACKUP --db URL [--files URL]",
		Short: "Check a target database and file store against the backup; writes nothing",
		Long: `Compares every table's row count (and with --checksums every row's content) with the dump,
every sequence, index and constraint, and every file document with contents against an object
of the right size in the store. Usable on its own after a migration done any other way.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var report *report.Report
			err := g.run(cfg, args[0], func(c pipeline.Config) (err error) {
				report, err = pipeline.Verify(cmd.Context(), c)
				return err
			})
			return finish(report, err, reportPath)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DB, cliflag.DB, "", "the migrated database (URL, or 'local')")
	f.StringVar(&cfg.Files, cliflag.Files, "", "the migrated file store (URL)")
	f.StringVar(&cfg.Schema, cliflag.Schema, "", "the migrated schema (default: public / dbo)")
	addNamingFlags(f, &cfg)
	f.BoolVar(&cfg.Checksums, cliflag.Checksums, false, "compare every row's content, not only counts")
	f.StringVar(&reportPath, cliflag.Report, "", "write a JSON report to this file ('-' for stdout)")
	return cmd
}
