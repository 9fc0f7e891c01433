// Command transformer trains and runs Transformer translators from YAML
// configs. Every subcommand is a thin layer over the project's packages.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{
		Use:   "transformer",
		Short: "Train and run Transformer translators built on Gorgonia",
		Long: `transformer trains encoder-decoder Transformers from YAML configs and
translates with the trained models.

  transformer train --config configs/numbers-en-de.yaml
  transformer translate --checkpoint checkpoints/numbers-en-de "four hundred twenty-one"`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(trainCmd(), translateCmd(), generateCmd())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "transformer:", oneLine(err.Error()))
		os.Exit(1)
	}
}

// oneLine keeps an error on one line, whatever wrapped it.
func oneLine(s string) string {
	out := []rune{}
	for _, r := range s {
		if r == '\n' || r == '\r' {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}
