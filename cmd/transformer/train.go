package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/sysmem"
	"github.com/gotransformer/transformer/train"
)

func trainCmd() *cobra.Command {
	var cfgPath, out, resume, dataDir string
	var seed int64
	var steps int
	var overwrite, dryRun bool
	var setFlags []string
	cmd := &cobra.Command{
		Use:   "train --config FILE | --resume RUN_DIR",
		Short: "Train a model from a YAML config",
		Long: `Train a model from a YAML config (sections data, model, training, decoding).
The run directory (training.out_dir, or --out) receives the resolved config,
the tokenizers, the last and best weights, the optimizer state and train.log.
At the end the best checkpoint is evaluated on the test split, if there is one.

A directory that already holds a run is refused unless --overwrite is given
(or --resume, to continue it); a directory inside another run, or one that
another transformer process is training, is always refused.

Under mpirun (or srun) with a binary built with -tags mpi, each process
trains on its share of every update's batches and the gradients are summed
over all of them (data-parallel training, docs/distributed.md); rank 0
writes the run directory.

SIGINT or SIGTERM saves a checkpoint and exits with status 130 or 143 (a
second signal exits at once; the last checkpoint stays intact); --resume
RUN_DIR continues from the latest checkpoint with the run's own config
(--steps may extend it), exactly as if the run had not stopped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			disp, err := display(cmd, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			path, err := runConfigPath(cmd, cfgPath, resume, "out", "seed")
			if err != nil {
				return err
			}
			sets, err := parseSets(setFlags)
			if err != nil {
				return err
			}
			c, err := rundir.LoadConfigWith(path, sets)
			if err != nil {
				return err
			}
			if resume != "" {
				c.Training.OutDir = resume
			}
			if cmd.Flags().Changed("out") {
				c.Training.OutDir = out
			}
			if cmd.Flags().Changed("seed") {
				c.Training.Seed = seed
			}
			if cmd.Flags().Changed("data-dir") {
				c.Data.Dir = dataDir
			}
			c.Training.Overwrite = overwrite
			if overwrite && resume != "" {
				return fmt.Errorf("--overwrite replaces a run and --resume continues one: give one of them")
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
			if dryRun {
				return planRun(cmd, disp, c)
			}
			newTrainer := train.NewTrainer
			if resume != "" {
				newTrainer = train.ResumeTrainer
			}
			// Under mpirun every rank runs this command; a failing rank
			// exits without finalising MPI, which makes the launcher end
			// the others.
			world, err := worldOf()
			if err != nil {
				return err
			}
			if world != nil {
				newTrainer = func(ctx context.Context, c *rundir.Config, disp *progress.Display) (*train.Trainer, error) {
					return train.NewDataParallelTrainer(ctx, c, disp, world, resume != "")
				}
				if world.Rank() > 0 {
					disp = progress.New(io.Discard, progress.Quiet)
				}
			}
			// Signals are caught from here on: one that arrives while the run
			// is prepared (data, tokenizers) stops it there, saving nothing.
			ctx, got, stopSignals := signalContext(cmd.Context())
			defer stopSignals()
			t, err := newTrainer(ctx, c, disp)
			if err != nil {
				return preparingInterrupted(ctx, got, err)
			}
			defer t.Close()
			res, err := t.Run(ctx)
			if err != nil {
				return err
			}
			if world != nil {
				if err := world.Close(); err != nil {
					return err
				}
				if world.Rank() > 0 {
					return nil
				}
			}
			report(cmd, disp, res, c.Training.OutDir)
			if res.Interrupted {
				return interrupted(got, fmt.Sprintf("at step %d; every checkpoint is saved; resume with: transformer train --resume %s", res.Steps, c.Training.OutDir))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "YAML config file")
	cmd.Flags().StringVarP(&out, "out", "o", "", "run directory (overrides training.out_dir)")
	cmd.Flags().StringVar(&resume, "resume", "", "continue the run in this directory from its latest checkpoint")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "folder of the config's relative data files (overrides data.dir)")
	cmd.Flags().Int64Var(&seed, "seed", 0, "random seed (overrides training.seed)")
	cmd.Flags().IntVar(&steps, "steps", 0, "optimizer steps (overrides training.steps)")
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace the run already in the run directory (its checkpoints are deleted)")
	addSetFlag(cmd, &setFlags, "validated exactly as the file is (with --resume: of the run's config.yaml)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the resolved config, the parameter count, the memory estimate and the first batch's shape, and exit without training or writing anything")
	return cmd
}

// planRun prints what a run of c would be (train --dry-run).
func planRun(cmd *cobra.Command, disp *progress.Display, c *rundir.Config) error {
	p, err := train.PlanRun(commandContext(cmd), c, disp)
	if err != nil {
		return err
	}
	out := results(cmd)
	if f, _ := cmd.Flags().GetString("log-format"); f == "json" {
		out.Message("plan", "", progress.F("config", string(p.Config)), progress.F("parameters", p.Parameters),
			progress.F("src_vocab", p.SrcVocab), progress.F("tgt_vocab", p.TgtVocab), progress.F("train_bytes", p.Memory.Train),
			progress.F("decode_bytes", p.Memory.Decode), progress.F("train_pairs", p.TrainPairs), progress.F("batches", p.Batches),
			progress.F("first_batch", p.FirstBatch), progress.F("first_batch_tokens", p.FirstTokens))
		return nil
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "# the resolved config (%s)\n%s\n", c.Path, p.Config)
	fmt.Fprintf(w, "model:        %d parameters (encoder %d, decoder %d)\n", p.Parameters["total"], p.Parameters["encoder"], p.Parameters["decoder"])
	fmt.Fprintf(w, "vocabularies: source %d, target %d tokens\n", p.SrcVocab, p.TgtVocab)
	fmt.Fprintf(w, "memory:       %v (available: %v)\n", p.Memory, sysmem.Available())
	fmt.Fprintf(w, "data:         %d training pairs in %d batches per epoch; the first batch is %s (%d target tokens)\n",
		p.TrainPairs, p.Batches, p.FirstBatch, p.FirstTokens)
	fmt.Fprintf(w, "dry run: nothing was trained or written (the run directory would be %s)\n", c.Training.OutDir)
	return nil
}

// sign is +1 for a metric where higher is better, −1 where lower is.
func sign(metric string) float64 {
	s, ok := rundir.MetricSign(metric)
	if !ok {
		return 1
	}
	return s
}

// report prints the outcome of a run: plain lines, or one JSON object with
// --log-format json. --quiet keeps it: it is the result, not progress.
func report(cmd *cobra.Command, disp *progress.Display, res *train.Result, dir string) {
	if disp.Mode() == progress.JSON {
		f := []progress.Field{progress.F("steps", res.Steps), progress.F("seconds", res.Duration.Seconds()),
			progress.F("interrupted", res.Interrupted), progress.F("run_dir", dir),
			progress.F("best_metric", res.Best.Metric), progress.F("best_value", res.Best.BestValue*sign(res.Best.Metric)),
			progress.F("best_step", res.Best.BestStep)}
		for _, k := range []string{"bleu", "chrf", "exact_match", "token_accuracy", "perplexity", "loss"} {
			if v, ok := res.Test[k]; ok {
				f = append(f, progress.F("test_"+k, v))
			}
		}
		disp.Message("result", "", f...)
		return
	}
	out := cmd.OutOrStdout()
	if res.Interrupted {
		fmt.Fprintf(out, "interrupted at step %d; checkpoint saved; resume with: transformer train --resume %s\n", res.Steps, dir)
		return
	}
	fmt.Fprintf(out, "done: %d steps in %s; best validation %s %s at step %d; run directory %s\n",
		res.Steps, res.Duration.Round(1e9), res.Best.Metric, formatMetric(res.Best.Metric, res.Best.BestValue*sign(res.Best.Metric)), res.Best.BestStep, dir)
	if res.Test != nil {
		fmt.Fprintf(out, "test exact match: %.2f%% (%d/%d)\n", 100*res.Test["exact_match"], int(res.Test["exact"]), int(res.Test["sentences"]))
		fmt.Fprintf(out, "test BLEU %s, chrF %.2f (greedy; transformer eval --beam 5 for beam search)\n", train.BLEUText(res.Test), res.Test["chrf"])
	}
}
