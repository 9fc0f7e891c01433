package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/gotransformer/transformer/bench"
	"github.com/gotransformer/transformer/rundir"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/sysmem"
	"github.com/gotransformer/transformer/train"
)

func classifyCmd() *cobra.Command {
	var cfgPath, out, resume string
	var steps int
	var ckpt, overwrite bool
	cmd := &cobra.Command{
		Use:   "classify --config FILE | --resume RUN_DIR",
		Short: "Train an encoder classifier on the generated long-range task",
		Long: `Train an encoder-only classifier from a YAML config (sections model,
data.longrange, training) on sequences whose label depends on their first
and last token. It trains through the same trainer as translation: the run
directory (training.out_dir, or --out) receives the config, checkpoints
(latest and best by validation accuracy every training.eval_every steps),
train.log, metrics.jsonl and learning curves, and at the end result.json
with the best checkpoint's test accuracy.
configs/longrange-global.yaml uses sliding-window attention with a global
first token; configs/longrange-window.yaml the same window without it.

A directory that already holds a run is refused unless --overwrite (or
--resume) is given. SIGINT or SIGTERM saves a checkpoint and exits with
status 130 or 143; --resume RUN_DIR continues exactly from it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			disp, err := display(cmd, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			path, err := runConfigPath(cmd, cfgPath, resume, "out", "checkpoint-activations", "overwrite")
			if err != nil {
				return err
			}
			f := cmd.Flags()
			c, err := rundir.LoadClassifyConfig(path)
			if err != nil {
				return err
			}
			if resume != "" {
				c.Training.OutDir = resume
			}
			if f.Changed("steps") {
				if steps <= 0 {
					return fmt.Errorf("--steps must be positive, got %d", steps)
				}
				if steps > rundir.MaxSteps {
					return fmt.Errorf("--steps must be at most %d, got %d", rundir.MaxSteps, steps)
				}
				c.Training.Steps = steps
			}
			if f.Changed("out") {
				c.Training.OutDir = out
			}
			if f.Changed("checkpoint-activations") {
				c.Training.CheckpointActivations = ckpt
			}
			c.Training.Overwrite = overwrite
			ctx, got, stopSignals := signalContext(cmd.Context())
			defer stopSignals()
			res, err := train.RunClassify(ctx, c, disp, resume != "")
			if err != nil {
				return preparingInterrupted(ctx, got, err)
			}
			if res.Interrupted {
				return interrupted(got, fmt.Sprintf("at step %d; every checkpoint is saved; resume with: transformer classify --resume %s", res.Steps, c.Training.OutDir))
			}
			if disp.Mode() == progress.JSON {
				disp.Message("result", "", progress.F("steps", res.Steps), progress.F("test_accuracy", res.TestAccuracy),
					progress.F("final_loss", res.FinalLoss), progress.F("seconds", res.Seconds), progress.F("run_dir", c.Training.OutDir))
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "test accuracy %.2f%% after %d steps (%.0f s); run directory %s\n", 100*res.TestAccuracy, res.Steps, res.Seconds, c.Training.OutDir)
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "classify config (YAML)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "run directory (overrides training.out_dir)")
	cmd.Flags().StringVar(&resume, "resume", "", "continue the run in this directory from its latest checkpoint")
	cmd.Flags().IntVar(&steps, "steps", 0, "training steps (overrides training.steps)")
	cmd.Flags().BoolVar(&ckpt, "checkpoint-activations", false, "recompute layers during backward (overrides training.checkpoint_activations)")
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace the run already in the run directory (its checkpoints are deleted)")
	return cmd
}

func benchLongCmd() *cobra.Command {
	o := bench.DefaultLongOptions()
	var report, plotBase, cpuProfile string
	cmd := &cobra.Command{
		Use:   "bench-long [flags]",
		Short: "Measure a training step of a long-sequence encoder: time and peak memory",
		Long: `Train an encoder classifier on random tokens of length --seq with full,
sliding-window (global first token) or linear self-attention (full attention
in blocks with --chunk), with or without gradient checkpointing, and print one JSON line with the median step time and
the process's peak RSS. Run one configuration per process, as
tools/bench/long.sh does, so that peak RSS belongs to it alone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if plotBase != "" && report == "" {
				return fmt.Errorf("--plot draws the results of --report FILE: give --report too")
			}
			if report != "" {
				return longReport(cmd, report, plotBase)
			}
			o.Dtype = bench.TrainingDtype(o.Dtype)
			if err := o.Check(sysmem.Available()); err != nil {
				return err
			}
			stop, err := startCPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
			res, err := bench.Long(cmd.Context(), o)
			if err != nil {
				return err
			}
			js, _ := json.Marshal(res)
			fmt.Fprintln(cmd.OutOrStdout(), string(js))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Attention, "attention", o.Attention, "full | sliding_window | linear")
	f.IntVar(&o.Window, "window", o.Window, "sliding-window half width")
	f.IntVar(&o.Chunk, "chunk", o.Chunk, "full attention in blocks of this many queries × keys, never forming the seq×seq weights (0: none)")
	f.IntVar(&o.SeqLen, "seq", o.SeqLen, "sequence length")
	f.IntVar(&o.Batch, "batch", o.Batch, "sequences per step")
	f.IntVar(&o.Layers, "layers", o.Layers, "encoder layers")
	f.IntVar(&o.DModel, "d-model", o.DModel, "model width")
	f.IntVar(&o.Heads, "heads", o.Heads, "attention heads")
	f.IntVar(&o.FFDim, "ff", o.FFDim, "feed-forward width")
	f.BoolVar(&o.Checkpoint, "checkpoint-activations", o.Checkpoint, "gradient checkpointing: recompute each layer during backward")
	// --checkpoint names a run directory in every other command.
	f.BoolVar(&o.Checkpoint, "checkpoint", o.Checkpoint, "")
	f.MarkDeprecated("checkpoint", "use --checkpoint-activations")
	f.IntVar(&o.Steps, "steps", o.Steps, "timed steps after one warm-up step")
	f.StringVar(&o.Dtype, "dtype", o.Dtype, "float32 (f32), or bfloat16 (bf16) / float16 (f16) for mixed-precision training")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile (go tool pprof) to this file")
	f.StringVar(&report, "report", "", "instead of measuring, print a Markdown table of the JSON lines in this file")
	f.StringVar(&plotBase, "plot", "", "with --report, also draw PLOT.png and PLOT.svg")
	return cmd
}

// longReport prints the table of a results file and draws its plot.
func longReport(cmd *cobra.Command, path, plotBase string) error {
	res, err := bench.ReadLong(path)
	if err != nil {
		return err
	}
	if len(res) == 0 {
		return fmt.Errorf("%s: no results", path)
	}
	fmt.Fprint(cmd.OutOrStdout(), bench.LongTable(res))
	if plotBase == "" {
		return nil
	}
	for _, format := range []string{"png", "svg"} {
		img, err := bench.DrawLong(res, format)
		if err != nil {
			return err
		}
		if err := os.WriteFile(plotBase+"."+format, img, 0o644); err != nil {
			return err
		}
	}
	return nil
}
