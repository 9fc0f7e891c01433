package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/half"
	"github.com/gotransformer/transformer/inference"
	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/rundir"
)

// runConfigPath is the config a training command reads: cfgPath for a new
// run, or RUN/config.yaml for --resume RUN, whose run the flags named in
// fixed may not change.
func runConfigPath(cmd *cobra.Command, cfgPath, resume string, fixed ...string) (string, error) {
	if (cfgPath == "") == (resume == "") {
		return "", fmt.Errorf("give either --config or --resume")
	}
	if resume == "" {
		return cfgPath, nil
	}
	var changed []string
	for _, name := range fixed {
		if cmd.Flags().Changed(name) {
			changed = append(changed, "--"+name)
		}
	}
	if len(changed) > 0 {
		return "", fmt.Errorf("--resume continues a run as it was: %s cannot change it", strings.Join(changed, " and "))
	}
	if !rundir.IsRun(resume) {
		return "", fmt.Errorf("cannot resume %s: it holds no run (no %s with tokenizers or checkpoints)", resume, rundir.ConfigFile)
	}
	return filepath.Join(resume, rundir.ConfigFile), nil
}

// addWeightsFlag adds --weights: which weights of a run the command uses.
// parseDtype reads --dtype: f16 or bf16, or f32 (and "", as the run holds
// its weights) as 0, or int8 (quant true).
func parseDtype(dtype string) (f half.Format, quant bool, err error) {
	switch dtype {
	case "", "f32", "float32":
		return 0, false, nil
	case "int8", "i8":
		return 0, true, nil
	}
	f, err = half.ParseFormat(dtype)
	if err != nil {
		return 0, false, fmt.Errorf("--dtype: %w, f32 or int8", err)
	}
	return f, false, nil
}

// convertLoaded applies --dtype (parsed as f and quant) to a loaded model;
// it closes m on error.
func convertLoaded(m *inference.Model, dtype string, f half.Format, quant bool) error {
	if dtype == "" {
		return nil
	}
	var err error
	if quant {
		err = m.ToInt8()
	} else {
		err = m.ToHalf(f)
	}
	if err != nil {
		m.Close()
		return fmt.Errorf("--dtype %s: %w", dtype, err)
	}
	return nil
}

// addDtypeFlag adds --dtype, which converts the loaded weights.
func addDtypeFlag(cmd *cobra.Command, dtype *string) {
	cmd.Flags().StringVar(dtype, "dtype", "", "decode with the weight matrices in f16 or bf16 (converted on loading, as transformer convert does), int8 (quantised on loading, per output column; activations per row), or f32 (default: as the run holds them)")
}

func addWeightsFlag(cmd *cobra.Command, weights *string, verb string) {
	cmd.Flags().StringVar(weights, "weights", "best", "which weights to "+verb+": best, last or a saved step (step-0000750 or 750; -k RUN/checkpoints/step-0000750 also names one)")
}

// results is where a command writes its results: one JSON object a line
// with --log-format json, plain lines otherwise (--quiet too: results are
// not progress).
func results(cmd *cobra.Command) *progress.Display {
	if f, _ := cmd.Flags().GetString("log-format"); f == "json" {
		return progress.New(cmd.OutOrStdout(), progress.JSON)
	}
	return progress.New(cmd.OutOrStdout(), progress.Lines)
}

// addSetFlag adds --set KEY=VALUE (repeatable).
func addSetFlag(cmd *cobra.Command, sets *[]string, what string) {
	cmd.Flags().StringArrayVar(sets, "set", nil, "set a config key, as section.key=value in YAML (repeat for several); "+what)
}

// parseSets reads the --set flags.
func parseSets(sets []string) ([]rundir.Set, error) {
	var out []rundir.Set
	for _, s := range sets {
		set, err := rundir.ParseSet(s)
		if err != nil {
			return nil, err
		}
		out = append(out, set)
	}
	return out, nil
}

// loadDecoding loads what translate and eval decode with: the checkpoint
// of each -k (an ensemble when several), with the --set flags applied to
// the first one's decoding section.
func loadDecoding(ckpts []string, weights string, setFlags []string, dtype string) (*inference.Model, error) {
	sets, err := parseSets(setFlags)
	if err != nil {
		return nil, err
	}
	f, quant, err := parseDtype(dtype)
	if err != nil {
		return nil, err
	}
	m, err := inference.LoadEnsemble(weights, ckpts...)
	if err != nil {
		return nil, err
	}
	if err := convertLoaded(m, dtype, f, quant); err != nil {
		return nil, err
	}
	if err := m.Checkpoint.WithSets(sets); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}
