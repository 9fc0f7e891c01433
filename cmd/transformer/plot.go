package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/runlog"
)

func plotCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "plot RUN_DIR... [--out BASE]",
		Short: "Overlay the learning curves of one or more runs (PNG and SVG)",
		Long: `Read metrics.jsonl of each run directory and draw training loss,
validation loss, the validation metric and the learning rate against the
step, one line per run, to BASE.png and BASE.svg.

Each run also keeps its own curves.png and curves.svg, redrawn at every
validation while it trains.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, dirs []string) error {
			if err := runlog.PlotRuns(dirs, out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s.png and %s.svg\n", out, out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "curves", "output path without extension")
	return cmd
}
