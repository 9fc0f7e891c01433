package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/sysmem"
)

func validateCmd() *cobra.Command {
	var cfgPath, dataDir string
	var setFlags []string
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
			sets, err := parseSets(setFlags)
			if err != nil {
				return err
			}
			issues, err := rundir.ValidateConfigFileWith(cfgPath, dataDir, sets)
			if err != nil {
				return err
			}
			problems, warnings := 0, 0
			out := results(cmd)
			for _, is := range issues {
				kind := "problem"
				if is.Warning {
					kind = "warning"
					warnings++
				} else {
					problems++
				}
				out.Message(kind, kind+": "+is.Err.Error(), progress.F("message", is.Err.Error()))
			}
			if problems > 0 {
				return fmt.Errorf("%s: %s, %s", cfgPath, plural(problems, "problem"), plural(warnings, "warning"))
			}
			if c, err := rundir.LoadConfigWith(cfgPath, sets); err == nil {
				e, avail := c.GuessMemory(), sysmem.Available()
				out.Message("estimate", fmt.Sprintf("estimate: %v (vocabularies guessed from the merges; available: %v)", e, avail),
					progress.F("parameters", e.Params), progress.F("train_bytes", e.Train), progress.F("decode_bytes", e.Decode), progress.F("available_bytes", avail.Bytes))
			}
			out.Message("result", fmt.Sprintf("%s: ok (%s)", cfgPath, plural(warnings, "warning")),
				progress.F("config", cfgPath), progress.F("ok", true), progress.F("warnings", warnings))
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "YAML config file")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "folder of the config's relative data files (overrides data.dir)")
	addSetFlag(cmd, &setFlags, "checked as train would")
	return cmd
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
