package main

import (
	"fmt"
	"math"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/gradcheck"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/safeio"
	"github.com/gotransformer/transformer/sysmem"
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

Layers: ` + fmt.Sprint(gradcheck.Names()),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			f := cmd.Flags()
			switch {
			case math.IsNaN(tol) || math.IsInf(tol, 0):
				return fmt.Errorf("--tol must be a finite number, got %g", tol)
			case tol <= 0:
				return fmt.Errorf("--tol must be positive, got %g", tol)
			case math.IsNaN(step) || math.IsInf(step, 0):
				return fmt.Errorf("--step must be a finite number, got %g", step)
			case step <= 0:
				return fmt.Errorf("--step must be positive, got %g", step)
			case step >= 1:
				return fmt.Errorf("--step must be below 1 (a central-difference step h, such as 1e-5), got %g", step)
			case perTensor < 0:
				return fmt.Errorf("--per-tensor must not be negative, got %d", perTensor)
			case perTensor > gradcheck.MaxPerTensor:
				return fmt.Errorf("--per-tensor must be at most %d (0: every element), got %d", gradcheck.MaxPerTensor, perTensor)
			case cfgPath != "" && f.Changed("layer"):
				return fmt.Errorf("give --layer or --config, not both")
			case cfgPath == "" && f.Changed("per-tensor"):
				return fmt.Errorf("--per-tensor applies to --config only: a --layer check perturbs every element")
			}
			type check struct {
				name string
				res  []graph.GradResult
			}
			var checks []check
			if cfgPath != "" {
				c, err := rundir.LoadConfig(cfgPath)
				if err != nil {
					return err
				}
				if err := gradCheckFits(c.Model, 23, 29); err != nil {
					return fmt.Errorf("%s: %w", cfgPath, err)
				}
				res, err := gradcheck.Model(cmd.Context(), c.Model, 23, 29, graph.GradCheckOptions{MaxPerTensor: perTensor, Seed: 1, Step: step})
				if err != nil {
					return fmt.Errorf("%s: %w", cfgPath, err)
				}
				checks = append(checks, check{cfgPath, res})
			} else {
				names := []string{layer}
				if layer == "all" {
					names = gradcheck.Names()
				}
				for _, n := range names {
					res, err := gradcheck.Run(cmd.Context(), n, graph.GradCheckOptions{Step: step})
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
	cmd.Flags().IntVar(&perTensor, "per-tensor", 4, "with --config: elements perturbed per parameter, at most 100000 (0: every element; at most 10000 in all)")
	cmd.Flags().Float64Var(&tol, "tol", 1e-6, "largest accepted relative error")
	cmd.Flags().Float64Var(&step, "step", 1e-5, "central-difference step h")
	return cmd
}

// gradCheckFits refuses a model too large for a float64 finite-difference
// check: more than gradcheck.MaxParams parameters, or more memory than
// this process may use for its float64 values, gradients and the copies
// the check keeps.
func gradCheckFits(mc model.Config, srcVocab, tgtVocab int) error {
	mc.SrcVocab, mc.TgtVocab = srcVocab, tgtVocab
	if mc.ShareEmbeddings {
		mc.SrcVocab = tgtVocab
	}
	n := mc.ParamCount()
	if n > gradcheck.MaxParams {
		return fmt.Errorf("the model has %d parameters, more than the %d a float64 finite-difference check handles: use a smaller config (lower model.d_model, ff_dim or the layer counts)", n, gradcheck.MaxParams)
	}
	const copies = 6 // values, gradients, analytic gradients, graph buffers
	need := n*8*copies + 200<<20
	if avail := sysmem.Available(); avail.Bytes > 0 && need > avail.Bytes {
		return fmt.Errorf("the check of %d parameters needs about %s, more than the %s available: use a smaller config", n, safeio.Size(need), avail)
	}
	return nil
}
