package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/half"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/torchio"
)

func exportCmd() *cobra.Command {
	var ckpt, out, weights, dtype string
	cmd := &cobra.Command{
		Use:   "export --checkpoint DIR --out FILE.safetensors [--dtype f32|f16|bf16]",
		Short: "Write a checkpoint as a PyTorch state dict (safetensors)",
		Long: `Write the checkpoint's weights under the names and shapes of the PyTorch
module documented in docs/pytorch.md (nn.Transformer plus src_embed, tgt_embed
and output_projection), so that load_state_dict(strict=True) succeeds. The
file's metadata "seq2seq_args" holds the module's constructor arguments.
A config that the module does not compute exactly (relative or per-stack
positions, sliding_window or linear attention, gelu_tanh, final_norm: false)
is refused with an error naming the config key. --dtype f16 or bf16 writes
the weight matrices in 16 bits and the rest in float32, as transformer
convert holds them; f32 writes every tensor in float32. The default is the
run's own.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ckpt == "" || out == "" {
				return fmt.Errorf("--checkpoint and --out are required")
			}
			if err := rundir.CheckOutputFile(out); err != nil {
				return fmt.Errorf("--out %w", err)
			}
			c, err := rundir.LoadCheckpoint(ckpt, weights)
			if err != nil {
				return err
			}
			f := c.Model.Store.Half()
			switch dtype {
			case "":
			case "f32", "float32":
				f = 0
			default:
				if f, err = half.ParseFormat(dtype); err != nil {
					return fmt.Errorf("--dtype: %w, or f32", err)
				}
			}
			if err := torchio.Export(c, out, f); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d parameters)\n", out, c.Model.Store.NumElements())
			return nil
		},
	}
	cmd.Flags().StringVarP(&ckpt, "checkpoint", "k", "", "run directory written by train")
	cmd.Flags().StringVarP(&out, "out", "o", "", "safetensors file to write")
	cmd.Flags().StringVar(&dtype, "dtype", "", "f32, f16 or bf16 (default: the run's)")
	addWeightsFlag(cmd, &weights, "export")
	return cmd
}

func importCmd() *cobra.Command {
	var weights, like, out string
	cmd := &cobra.Command{
		Use:   "import --state-dict FILE.safetensors --like RUN_DIR --out DIR",
		Short: "Turn a PyTorch state dict (safetensors) into a checkpoint",
		Long: `Read a state dict of the PyTorch module documented in docs/pytorch.md and
write a run directory that translate can use. The model config and the
tokenizers are taken from RUN_DIR; the PyTorch module must have been built
with the same sizes (see the export command's "seq2seq_args"). The file must
hold F32 or F64 tensors; its header is checked before anything is allocated,
and a file larger than the model's values (8 bytes each) plus 100 MiB is
refused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if weights == "" || like == "" || out == "" {
				return fmt.Errorf("--state-dict, --like and --out are required")
			}
			if err := torchio.Import(weights, like, out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote checkpoint %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&weights, "state-dict", "", "safetensors state dict saved from PyTorch")
	// --weights picks best or last weights in every other command.
	cmd.Flags().StringVarP(&weights, "weights", "w", "", "")
	cmd.Flags().MarkDeprecated("weights", "use --state-dict")
	cmd.Flags().StringVar(&like, "like", "", "run directory providing config and tokenizers")
	cmd.Flags().StringVarP(&out, "out", "o", "", "run directory to write")
	return cmd
}
