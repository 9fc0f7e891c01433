package main

import (
	"fmt"

	"github.com/gotransformer/transformer/rundir"
	"github.com/spf13/cobra"
)

func averageCmd() *cobra.Command {
	var ckpt, out string
	var last, best int
	cmd := &cobra.Command{
		Use:   "average --checkpoint RUN_DIR (--last N | --best N) --out DIR",
		Short: "Average the weights of several checkpoints of a run into a new run directory",
		Long: `Average the weights of the newest N checkpoints (--last N) or of the N with the
best validation metric (--best N) of a run, and write them as a new run
directory that translate, eval and info load like any other. Keep enough
checkpoints while training: training.keep_checkpoints for --last,
training.keep_best for --best.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case ckpt == "" || out == "":
				return fmt.Errorf("--checkpoint and --out are required")
			case (last > 0) == (best > 0):
				return fmt.Errorf("give one of --last N and --best N, with N positive")
			}
			which, n := "last", last
			if best > 0 {
				which, n = "best", best
			}
			names, err := rundir.AverageCheckpoints(ckpt, which, n, out)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "averaged %d checkpoints (%v) into %s\n", len(names), names, out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&ckpt, "checkpoint", "k", "", "run directory written by train")
	cmd.Flags().StringVarP(&out, "out", "o", "", "new run directory for the averaged weights")
	cmd.Flags().IntVar(&last, "last", 0, "average the newest N checkpoints")
	cmd.Flags().IntVar(&best, "best", 0, "average the N checkpoints with the best validation metric")
	return cmd
}
