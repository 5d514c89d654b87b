package main

import (
	"encoding/json"
	"os"

	"github.com/spf13/cobra"

	"github.com/mxmigrate/mxmigrate/pipeline"
)

func newInspectCommand(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect BACKUP",
		Short: "Describe what a backup holds: metadata, dump versions, tables and rows, files, anomalies",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := pipeline.Inspect(cmd.Context(), args[0])
			if in != nil && (err == nil || in.Dump != nil) {
				if asJSON {
					enc := json.NewEncoder(os.Stdout)
					enc.SetIndent("", "  ")
					if jerr := enc.Encode(in); jerr != nil && err == nil {
						err = jerr
					}
				} else {
					in.WriteText(os.Stdout)
				}
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}
