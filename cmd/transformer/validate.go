package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/sysmem"
)

func validateCmd() *cobra.Command {
	var cfgPath, dataDir string
	cmd := &cobra.Command{
		Use:   "validate --config FILE",
		Short: "Check a config and its data files without training",
		Long: `Check a config and the data files it names without training, and list every
problem with its file and line: unknown keys, wrong types, invalid values,
missing files, misaligned corpora, invalid UTF-8; empty lines are warnings.
Exits with status 1 if there is any problem.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfgPath == "" {
				return fmt.Errorf("--config is required")
			}
			issues, err := rundir.ValidateConfigFileIn(cfgPath, dataDir)
			if err != nil {
				return err
			}
			problems, warnings := 0, 0
			out := cmd.OutOrStdout()
			for _, is := range issues {
				if is.Warning {
					warnings++
					fmt.Fprintln(out, "warning:", is.Err)
				} else {
					problems++
					fmt.Fprintln(out, "problem:", is.Err)
				}
			}
			if problems > 0 {
				return fmt.Errorf("%s: %s, %s", cfgPath, plural(problems, "problem"), plural(warnings, "warning"))
			}
			if c, err := rundir.LoadConfig(cfgPath); err == nil {
				fmt.Fprintf(out, "estimate: %v (vocabularies guessed from the merges; available: %v)\n", c.GuessMemory(), sysmem.Available())
			}
			fmt.Fprintf(out, "%s: ok (%s)\n", cfgPath, plural(warnings, "warning"))
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "YAML config file")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "folder of the config's relative data files (overrides data.dir)")
	return cmd
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
