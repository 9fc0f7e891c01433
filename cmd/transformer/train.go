package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/train"
)

func trainCmd() *cobra.Command {
	var cfgPath, out string
	var seed int64
	var steps int
	cmd := &cobra.Command{
		Use:   "train --config FILE",
		Short: "Train a model from a YAML config",
		Long: `Train a model from a YAML config (sections data, model, training, decoding).
The run directory (training.out_dir, or --out) receives the resolved config,
the tokenizers, the last and best weights, the optimizer state and train.log.
At the end the best checkpoint is evaluated on the test split, if there is one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfgPath == "" {
				return fmt.Errorf("--config is required")
			}
			c, err := train.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("out") {
				c.Training.OutDir = out
			}
			if cmd.Flags().Changed("seed") {
				c.Training.Seed = seed
			}
			if cmd.Flags().Changed("steps") {
				if steps <= 0 {
					return fmt.Errorf("--steps must be positive, got %d", steps)
				}
				c.Training.Steps = steps
			}
			if err := c.Validate(); err != nil {
				return err
			}
			t, err := train.NewTrainer(c, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			defer t.Close()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := t.Run(ctx)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "done: %d steps in %s; best validation %s %.4g at step %d; run directory %s\n",
				res.Steps, res.Duration.Round(1e9), res.Best.Metric, res.Best.BestValue*sign(res.Best.Metric), res.Best.BestStep, c.Training.OutDir)
			if res.Test != nil {
				fmt.Fprintf(out, "test exact match: %.2f%% (%d/%d)\n", 100*res.Test["exact_match"], int(res.Test["exact"]), int(res.Test["sentences"]))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "YAML config file")
	cmd.Flags().StringVarP(&out, "out", "o", "", "run directory (overrides training.out_dir)")
	cmd.Flags().Int64Var(&seed, "seed", 0, "random seed (overrides training.seed)")
	cmd.Flags().IntVar(&steps, "steps", 0, "optimizer steps (overrides training.steps)")
	return cmd
}

func sign(metric string) float64 {
	if metric == "loss" || metric == "perplexity" {
		return -1
	}
	return 1
}
