package main

import (
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/sysmem"
	"github.com/spf13/cobra"
)

func infoCmd() *cobra.Command {
	var ckpt, weights, dtype string
	var depth int
	cmd := &cobra.Command{
		Use:   "info --checkpoint DIR",
		Short: "Describe a trained model: config, parameters per module, vocabularies, training state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ckpt == "" {
				return fmt.Errorf("--checkpoint is required")
			}
			if depth < 0 {
				return fmt.Errorf("--depth must not be negative, got %d", depth)
			}
			f, quant, err := parseDtype(dtype)
			if err != nil {
				return err
			}
			ck, err := rundir.LoadCheckpoint(ckpt, weights)
			if err != nil {
				return err
			}
			// --dtype: the model as translate --dtype would hold it.
			switch {
			case quant:
				_, err = ck.Model.ToInt8()
			case dtype != "":
				_, err = ck.Model.ToHalf(f)
			}
			if err != nil {
				return fmt.Errorf("--dtype %s: %w", dtype, err)
			}
			w := cmd.OutOrStdout()
			mc := ck.Model.Config
			rel, _ := filepath.Rel(ck.Dir, ck.Path)
			if f, _ := cmd.Flags().GetString("log-format"); f == "json" {
				return infoJSON(cmd, ck, rel, weights)
			}
			fmt.Fprintf(w, "run:          %s\n", ck.Dir)
			fmt.Fprintf(w, "weights:      %s (%s)\n", rel, weights)
			fmt.Fprintf(w, "model:        d_model %d, %d heads, ff_dim %d, %d encoder + %d decoder layers, %s, %s norm, %s positions, dropout %g\n",
				mc.DModel, mc.Heads, mc.FFDim, mc.EncoderLayers, mc.DecoderLayers, mc.Activation,
				map[bool]string{true: "pre", false: "post"}[mc.NormFirst], mc.Positions, mc.Dropout)
			fmt.Fprintf(w, "embeddings:   shared %v, tied output %v, dtype %s\n", mc.ShareEmbeddings, mc.TieOutput, ck.Model.Store.Dtype())
			fmt.Fprintf(w, "precision:    %s; weights take %.1f MB in memory%s\n", weightFormat(ck), float64(ck.Model.Store.Bytes())/1e6, residentAfterLoad())
			fmt.Fprintf(w, "vocabularies: source %d tokens (%d merges), target %d tokens (%d merges)\n",
				ck.SrcTok.Size(), len(ck.SrcTok.Merges), ck.TgtTok.Size(), len(ck.TgtTok.Merges))
			st := ck.State
			fmt.Fprintf(w, "training:     step %d of %d, epoch %d, optimizer step %d, seed %d", st.Step, ck.Config.Training.Steps, st.Epoch, st.AdamStep, st.Seed)
			if st.Skipped > 0 {
				fmt.Fprintf(w, ", %d batches skipped", st.Skipped)
			}
			fmt.Fprintln(w)
			if st.BestStep > 0 {
				fmt.Fprintf(w, "best:         %s %s at step %d\n", st.Metric, formatMetric(st.Metric, st.BestValue*sign(st.Metric)), st.BestStep)
			}
			if len(st.Valid) > 0 {
				keys := make([]string, 0, len(st.Valid))
				for k := range st.Valid {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				var parts []string
				for _, k := range keys {
					parts = append(parts, k+" "+formatMetric(k, st.Valid[k]))
				}
				fmt.Fprintf(w, "validation:   %s (at step %d)\n", strings.Join(parts, ", "), st.ValidStep)
			}
			counts := ck.Model.ParamCounts()
			fmt.Fprintf(w, "parameters:   %d\n", counts["total"])
			for _, m := range ck.Model.ModuleSizes() {
				if m.Depth <= depth {
					fmt.Fprintf(w, "  %-44s %10d  %5.1f%%\n", strings.Repeat("  ", m.Depth)+m.Name, m.Params, 100*float64(m.Params)/float64(counts["total"]))
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&ckpt, "checkpoint", "k", "", "run directory written by train")
	addWeightsFlag(cmd, &weights, "load")
	cmd.Flags().IntVar(&depth, "depth", 2, "list modules down to this depth (0: top-level only)")
	cmd.Flags().StringVar(&dtype, "dtype", "", "report the model with its weight matrices converted as translate --dtype would: f16, bf16, int8 or f32")
	return cmd
}

// formatMetric writes a figure as the training log does: fractions as
// percentages, BLEU and chrF with two decimals, counts as integers.
func formatMetric(key string, v float64) string {
	switch key {
	case "exact_match", "token_accuracy", "accuracy":
		return fmt.Sprintf("%.2f%%", 100*v)
	case "bleu", "chrf":
		return fmt.Sprintf("%.2f", v)
	case "exact", "sentences", "sequences", "bleu_4grams":
		return fmt.Sprintf("%d", int(v))
	}
	return fmt.Sprintf("%.4f", v)
}

// residentAfterLoad is ", process resident N MB after loading": the
// memory this process holds once the loading buffers are returned to the
// system, or "" where that is not known.
func residentAfterLoad() string {
	runtime.GC()
	debug.FreeOSMemory()
	if n, ok := sysmem.Resident(); ok {
		return fmt.Sprintf(", process resident %.1f MB after loading", float64(n)/1e6)
	}
	return ""
}

// weightFormat is how the weight matrices are held: "f16" or "bf16"
// (transformer convert), int8 (info --dtype int8), or the model's dtype.
func weightFormat(ck *rundir.Checkpoint) string {
	if n := ck.Model.Store.Int8Count(); n > 0 {
		return fmt.Sprintf("int8 matrices (%d; the rest %v)", n, ck.Model.Store.Dtype())
	}
	if f := ck.Model.Store.Half(); f != 0 {
		return f.String() + " matrices (the rest " + ck.Model.Store.Dtype().String() + ")"
	}
	return ck.Model.Store.Dtype().String()
}

// infoJSON writes info as one JSON object.
func infoJSON(cmd *cobra.Command, ck *rundir.Checkpoint, rel, weights string) error {
	counts := ck.Model.ParamCounts()
	var modules []map[string]any
	for _, m := range ck.Model.ModuleSizes() {
		modules = append(modules, map[string]any{"name": m.Name, "depth": m.Depth, "parameters": m.Params})
	}
	st := ck.State
	results(cmd).Message("info", "", progress.F("run", ck.Dir), progress.F("weights", rel), progress.F("which", weights),
		progress.F("model", ck.Model.Config), progress.F("dtype", ck.Model.Store.Dtype().String()),
		progress.F("weights_format", weightFormat(ck)), progress.F("weight_bytes", ck.Model.Store.Bytes()),
		progress.F("src_vocab", ck.SrcTok.Size()), progress.F("tgt_vocab", ck.TgtTok.Size()),
		progress.F("step", st.Step), progress.F("steps", ck.Config.Training.Steps), progress.F("epoch", st.Epoch),
		progress.F("best_metric", st.Metric), progress.F("best_value", st.BestValue*sign(st.Metric)), progress.F("best_step", st.BestStep),
		progress.F("valid", st.Valid), progress.F("valid_step", st.ValidStep),
		progress.F("parameters", counts["total"]), progress.F("modules", modules))
	return nil
}
