package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/half"
	"github.com/gotransformer/transformer/rundir"
)

func convertCmd() *cobra.Command {
	var ckpt, out, dtype, weights string
	cmd := &cobra.Command{
		Use:   "convert --checkpoint RUN_DIR --dtype f16|bf16|f32 --out DIR",
		Short: "Write a run's weights in float16 or bfloat16 as a new run directory for translation",
		Long: `Write the weights of a run (--weights: best, last or a step) as a new run
directory whose weight matrices (attention and feed-forward projections,
embeddings, output projection) are float16 (--dtype f16) or bfloat16
(bf16); biases, layer norms and position tables stay float32. Its
safetensors file holds F16 or BF16 tensors that PyTorch loads as they are.

translate, eval, serve and info load the new run like any other and compute
in float32, converting the 16-bit weights inside each matrix product, on
half the weight memory. Training cannot resume it. --dtype f32 converts a
16-bit run back to float32.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ckpt == "" || out == "" || dtype == "" {
				return fmt.Errorf("--checkpoint, --dtype and --out are required")
			}
			var f half.Format
			if dtype == "int8" || dtype == "i8" {
				return fmt.Errorf("--dtype int8: convert writes f16, bf16 or f32 runs; int8 weights are quantised on loading (translate, eval, serve and bench --dtype int8)")
			}
			if dtype != "f32" && dtype != "float32" {
				var err error
				if f, err = half.ParseFormat(dtype); err != nil {
					return fmt.Errorf("--dtype: %w, or f32", err)
				}
			}
			from, n, err := rundir.ConvertRun(ckpt, weights, f, out)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "converted %d weight matrices of %s to %v into %s\n", n, from, f, out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&ckpt, "checkpoint", "k", "", "run directory to convert")
	cmd.Flags().StringVarP(&out, "out", "o", "", "new run directory for the converted weights")
	cmd.Flags().StringVar(&dtype, "dtype", "", "f16, bf16 or f32")
	addWeightsFlag(cmd, &weights, "convert")
	return cmd
}
