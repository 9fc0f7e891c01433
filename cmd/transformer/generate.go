package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/rundir"
)

// generateFlags renames the config keys in data.Generated's errors to the
// flags of transformer generate.
var generateFlags = strings.NewReplacer("train_size", "--train-size", "valid_size", "--valid-size", "test_size", "--test-size",
	"min_len", "--min-len", "max_len", "--max-len", "alphabet", "--alphabet")

func generateCmd() *cobra.Command {
	g := data.Generated{}
	var out string
	cmd := &cobra.Command{
		Use:   "generate TASK --out DIR",
		Short: "Write a generated dataset (numbers, copy, reverse) to aligned text files",
		Long: `Write a dataset the project generates itself to DIR as aligned files
train.src/train.tgt, valid.*, test.* (for numbers: train.en/train.de, ...).

  numbers  English number words to German ones, 0..999,999, split by number
  copy     sequences of letters copied
  reverse  sequences of letters reversed`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			g.Task = args[0]
			if err := g.Validate(); err != nil {
				return errors.New(generateFlags.Replace(err.Error()))
			}
			if st, err := os.Stat(out); err == nil && !st.IsDir() {
				return fmt.Errorf("--out %s: exists and is not a directory", out)
			}
			src, tgt := "src", "tgt"
			if g.Task == "numbers" {
				src, tgt = "en", "de"
			}
			if err := checkGenerateOut(out, src, tgt); err != nil {
				return err
			}
			tr, va, te, err := data.Generate(g)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return fmt.Errorf("--out: %v", err)
			}
			for _, s := range []struct {
				name  string
				pairs []data.Pair
			}{{"train", tr}, {"valid", va}, {"test", te}} {
				if err := data.WriteParallel(s.pairs, filepath.Join(out, s.name+"."+src), filepath.Join(out, s.name+"."+tgt)); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d train, %d valid, %d test pairs to %s\n", len(tr), len(va), len(te), out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "output directory")
	cmd.Flags().IntVar(&g.TrainSize, "train-size", 998000, fmt.Sprintf("training pairs (numbers: at most %d; copy/reverse: at most %d pairs in all)", data.MaxNumbersTrain, data.MaxSymbolPairs))
	cmd.Flags().IntVar(&g.ValidSize, "valid-size", 1000, fmt.Sprintf("validation pairs (numbers: at most %d)", data.MaxNumbersHeldOut))
	cmd.Flags().IntVar(&g.TestSize, "test-size", 1000, fmt.Sprintf("test pairs (numbers: at most %d)", data.MaxNumbersHeldOut))
	cmd.Flags().IntVar(&g.MinLen, "min-len", 1, "copy/reverse: shortest sequence")
	cmd.Flags().IntVar(&g.MaxLen, "max-len", 10, fmt.Sprintf("copy/reverse: longest sequence (at most %d)", data.MaxSymbolLen))
	cmd.Flags().IntVar(&g.Alphabet, "alphabet", 10, fmt.Sprintf("copy/reverse: number of distinct letters (2 to %d)", data.MaxAlphabet))
	cmd.Flags().Int64Var(&g.Seed, "seed", 1, "copy/reverse: random seed")
	return cmd
}

// checkGenerateOut refuses an --out that generate would damage: one that
// already holds any of the files it writes (train, valid and test, with
// the extensions src and tgt), or that is or lies inside a run directory,
// whose files only training writes.
func checkGenerateOut(out, src, tgt string) error {
	for _, split := range []string{"train", "valid", "test"} {
		for _, ext := range []string{src, tgt} {
			p := filepath.Join(out, split+"."+ext)
			if _, err := os.Lstat(p); err == nil {
				return fmt.Errorf("%s exists: remove it or choose another --out", p)
			} else if !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("--out %s: %v", out, err)
			}
		}
	}
	if rundir.IsRun(out) {
		return fmt.Errorf("--out %s: is a run directory, which only training writes: choose a directory outside it", out)
	}
	if run := rundir.EnclosingRun(out); run != "" {
		return fmt.Errorf("--out %s: is inside the run %s, which only training writes: choose a directory outside it", out, run)
	}
	return nil
}
