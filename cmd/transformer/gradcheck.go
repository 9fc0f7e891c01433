package main

import (
	"fmt"
	"math"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/train"
)

func gradcheckCmd() *cobra.Command {
	var layer, cfgPath string
	var perTensor int
	var tol, step float64
	cmd := &cobra.Command{
		Use:   "gradcheck [--layer NAME|all] [--config FILE]",
		Short: "Compare symbolic gradients with float64 finite differences",
		Long: `Check Gorgonia's symbolic gradients against central finite differences in
float64, printing the worst relative error per parameter and a pass/fail
summary. --layer checks a built-in layer (all of them by default); --config
checks the whole model of a config (dropout off, small random batch,
--per-tensor elements sampled from each parameter).

Layers: ` + fmt.Sprint(train.GradCaseNames()),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if tol <= 0 {
				return fmt.Errorf("--tol must be positive, got %g", tol)
			}
			if step <= 0 {
				return fmt.Errorf("--step must be positive, got %g", step)
			}
			if perTensor < 0 {
				return fmt.Errorf("--per-tensor must not be negative, got %d", perTensor)
			}
			type check struct {
				name string
				res  []graph.GradResult
			}
			var checks []check
			if cfgPath != "" {
				c, err := train.LoadConfig(cfgPath)
				if err != nil {
					return err
				}
				res, err := train.GradCheckModel(c.Model, 23, 29, graph.GradCheckOptions{MaxPerTensor: perTensor, Seed: 1, Step: step})
				if err != nil {
					return err
				}
				checks = append(checks, check{cfgPath, res})
			} else {
				names := []string{layer}
				if layer == "all" {
					names = train.GradCaseNames()
				}
				for _, n := range names {
					res, err := train.GradCheckCase(n, graph.GradCheckOptions{Step: step})
					if err != nil {
						return err
					}
					checks = append(checks, check{n, res})
				}
			}
			failed := 0
			for _, c := range checks {
				worst := 0.0
				for _, r := range c.res {
					worst = math.Max(worst, r.MaxRelErr)
				}
				status := "PASS"
				if !(worst <= tol) {
					status = "FAIL"
					failed++
				}
				fmt.Fprintf(out, "%s %s (worst relative error %.2e)\n", status, c.name, worst)
				for _, r := range c.res {
					fmt.Fprintf(out, "    %-50s %.2e  (%d elements)\n", r.Name, r.MaxRelErr, r.Checked)
				}
			}
			fmt.Fprintf(out, "%d passed, %d failed (tolerance %g)\n", len(checks)-failed, failed, tol)
			if failed > 0 {
				return fmt.Errorf("%d gradient checks failed", failed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&layer, "layer", "all", "built-in layer to check, or all")
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "check the whole model of this config instead")
	cmd.Flags().IntVar(&perTensor, "per-tensor", 4, "with --config: elements perturbed per parameter (0: all)")
	cmd.Flags().Float64Var(&tol, "tol", 1e-6, "largest accepted relative error")
	cmd.Flags().Float64Var(&step, "step", 1e-5, "central-difference step h")
	return cmd
}
