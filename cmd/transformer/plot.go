package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/runlog"
)

func plotCmd() *cobra.Command {
	var out, metric string
	cmd := &cobra.Command{
		Use:   "plot RUN_DIR... [--out BASE]",
		Short: "Overlay the learning curves of one or more runs (PNG and SVG)",
		Long: `Read metrics.jsonl of each run directory and draw training loss,
validation loss, the validation metric and the learning rate against the
step, one line per run, to BASE.png and BASE.svg. The validation metric is
--metric, or the first run's training.best_metric (accuracy for a classify
run).

Each run also keeps its own curves.png and curves.svg, redrawn at every
validation while it trains.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, dirs []string) error {
			if metric == "" {
				m, err := rundir.BestMetric(dirs[0])
				if err != nil {
					return err
				}
				metric = m
			} else if _, ok := rundir.MetricSign(metric); !ok {
				return fmt.Errorf("--metric: unknown metric %q (want bleu, chrf, exact_match, token_accuracy, accuracy, loss or perplexity)", metric)
			}
			if err := runlog.PlotRuns(dirs, out, metric); err != nil {
				return err
			}
			results(cmd).Message("result", fmt.Sprintf("wrote %s.png and %s.svg", out, out),
				progress.F("png", out+".png"), progress.F("svg", out+".svg"), progress.F("metric", metric))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "curves", "output path without extension")
	cmd.Flags().StringVar(&metric, "metric", "", "validation metric to draw (default: the first run's training.best_metric)")
	return cmd
}
