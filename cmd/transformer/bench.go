package main

import (
	"encoding/json"
	"fmt"

	"github.com/gotransformer/transformer/bench"
	"github.com/gotransformer/transformer/graph"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/sysmem"
)

func benchCmd() *cobra.Command {
	o := bench.DefaultOptions()
	var preset, cpuProfile, dtype string
	cmd := &cobra.Command{
		Use:   "bench [--preset tiny|small|base] [flags]",
		Short: "Measure training or decoding speed on random tokens, comparable with the PyTorch reference",
		Long: `Train a model of the given shape on random tokens (or, with --decode, decode
greedily with and without the key/value cache, or with --decode-beam N search
with a beam of N and the cache) and print the step times, then one JSON line
with target positions per second (sentences per second when decoding),
achieved GFLOP/s and peak RSS.

Flags, defaults and the model (post-LN, sinusoidal positions, tied target
embedding, label smoothing 0.1, Adam) follow ../shared/reference/ref_transformer.py,
so that its JSON line and this one compare directly when both run on the same
machine in the same session. --preset sets the reference's tiny, small or
base shape; explicit flags override it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if preset != "" {
				p, ok := bench.Presets[preset]
				if !ok {
					return fmt.Errorf("--preset must be tiny, small or base, got %q", preset)
				}
				f := cmd.Flags()
				set := func(name string, dst *int, v int) {
					if !f.Changed(name) {
						*dst = v
					}
				}
				set("d-model", &o.DModel, p.DModel)
				set("heads", &o.Heads, p.Heads)
				set("layers", &o.Layers, p.Layers)
				set("ff", &o.FF, p.FF)
				set("vocab", &o.Vocab, p.Vocab)
				set("batch", &o.Batch, p.Batch)
				set("src-len", &o.SrcLen, p.SrcLen)
				set("tgt-len", &o.TgtLen, p.TgtLen)
				if o.Name == "" {
					o.Name = preset
				}
			}
			f, quant, err := parseDtype(dtype)
			if err != nil {
				return err
			}
			o.Weights, o.Int8 = f, quant
			if o.Decode {
				useDecodingGC()
			}
			if o.Steps <= o.Warmup || o.Warmup < 0 {
				return fmt.Errorf("--steps (%d) must exceed --warmup (%d)", o.Steps, o.Warmup)
			}
			if err := o.Check(sysmem.Available()); err != nil {
				return err
			}
			stop, err := startCPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
			out := cmd.OutOrStdout()
			int8Note := ""
			if o.Int8 {
				int8Note = "; int8 products: " + graph.Int8Kernel()
			}
			fmt.Fprintf(out, "kernel %s (matrix products: %s%s)\n", graph.Kernel(), graph.BLAS, int8Note)
			res, err := bench.Run(cmd.Context(), o, func(step int, sec, loss float64) {
				warm := ""
				if step < o.Warmup {
					warm = "  [warm-up]"
				}
				fmt.Fprintf(out, "step %3d loss %.4f time %.3fs%s\n", step, loss, sec, warm)
			})
			if err != nil {
				return err
			}
			b, err := json.Marshal(res)
			if err != nil {
				return err
			}
			fmt.Fprintln(out, string(b))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&preset, "preset", "", "tiny, small or base (the reference's shapes)")
	f.StringVar(&o.Name, "name", "", "label copied into the JSON output")
	f.IntVar(&o.DModel, "d-model", o.DModel, "model width")
	f.IntVar(&o.Heads, "heads", o.Heads, "attention heads")
	f.IntVar(&o.Layers, "layers", o.Layers, "encoder layers = decoder layers")
	f.IntVar(&o.FF, "ff", o.FF, "feed-forward width")
	f.IntVar(&o.Vocab, "vocab", o.Vocab, "vocabulary size (source and target)")
	f.IntVar(&o.Batch, "batch", o.Batch, "sentences per step")
	f.IntVar(&o.SrcLen, "src-len", o.SrcLen, "source positions per sentence")
	f.IntVar(&o.TgtLen, "tgt-len", o.TgtLen, "target positions per sentence")
	f.Float64Var(&o.Dropout, "dropout", o.Dropout, "dropout")
	f.IntVar(&o.Steps, "steps", o.Steps, "training steps, warm-up included")
	f.IntVar(&o.Warmup, "warmup", o.Warmup, "steps left out of the timing")
	f.Uint64Var(&o.Seed, "seed", o.Seed, "random seed")
	f.BoolVar(&o.FixedLen, "fixed-len", false, "every sentence full length")
	f.BoolVar(&o.Decode, "decode", false, "measure greedy decoding instead of training")
	f.IntVar(&o.DecodeBatch, "decode-batch", o.DecodeBatch, "sentences decoded together")
	f.StringVar(&dtype, "dtype", "f32", "training: f32, or bf16 / f16 for mixed precision (training.dtype bfloat16 / float16); with --decode, the weights: f32, f16 / bf16 (converted as transformer convert does) or int8 (quantised per output column)")
	f.IntVar(&o.DecodeSrcLen, "decode-src-len", o.DecodeSrcLen, "source tokens per sentence")
	f.IntVar(&o.DecodeLen, "decode-len", o.DecodeLen, "decoding steps (no early stop)")
	f.IntVar(&o.DecodeReps, "decode-reps", o.DecodeReps, "timed repetitions per decoding variant")
	f.IntVar(&o.DecodeWarmup, "decode-warmup", o.DecodeWarmup, "untimed repetitions per variant")
	f.IntVar(&o.DecodeBeam, "decode-beam", o.DecodeBeam, "beam search of this width instead of greedy decoding (with the key/value cache only)")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile (go tool pprof) to this file")
	return cmd
}
