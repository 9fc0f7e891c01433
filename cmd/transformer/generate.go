package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/data"
)

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
			tr, va, te, err := data.Generate(g)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			src, tgt := "src", "tgt"
			if g.Task == "numbers" {
				src, tgt = "en", "de"
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
	cmd.Flags().IntVar(&g.TrainSize, "train-size", 998000, "training pairs (numbers: at most 998,000)")
	cmd.Flags().IntVar(&g.ValidSize, "valid-size", 1000, "validation pairs")
	cmd.Flags().IntVar(&g.TestSize, "test-size", 1000, "test pairs")
	cmd.Flags().IntVar(&g.MinLen, "min-len", 1, "copy/reverse: shortest sequence")
	cmd.Flags().IntVar(&g.MaxLen, "max-len", 10, "copy/reverse: longest sequence")
	cmd.Flags().IntVar(&g.Alphabet, "alphabet", 10, "copy/reverse: number of distinct letters")
	cmd.Flags().Int64Var(&g.Seed, "seed", 1, "copy/reverse: random seed")
	return cmd
}
