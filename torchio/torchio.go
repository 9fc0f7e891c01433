// Package torchio moves trained runs to and from PyTorch: Export writes a
// run's weights as the safetensors state dict of the reference module
// Seq2Seq (docs/pytorch.md), Import turns such a state dict back into a run
// directory, and ModuleArgs gives the module's constructor arguments for a
// model config (refusing what the module cannot compute).
package torchio

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/half"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/rundir"
)

// ModuleArgs are the keyword arguments of the PyTorch module Seq2Seq
// in docs/pytorch.md that matches a model config. A config that the module
// does not compute exactly is refused with a one-line error naming the
// config key: relative or per-stack positions, attention other than full,
// activation gelu_tanh and final_norm: false.
func ModuleArgs(c model.Config) (map[string]any, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Activation == "gelu_tanh" {
		return nil, fmt.Errorf("activation: gelu_tanh has no PyTorch nn.Transformer equivalent by name (use relu or gelu)")
	}
	if !c.FinalNorm {
		return nil, fmt.Errorf("final_norm: false has no equivalent: nn.Transformer always ends each stack with a layer norm")
	}
	if c.Positions != "sinusoidal" && c.Positions != "learned" {
		return nil, fmt.Errorf("positions: %s has no equivalent: the PyTorch module adds sinusoidal or learned absolute positions only", c.Positions)
	}
	for _, st := range []struct {
		name string
		s    model.StackConfig
	}{{"encoder", c.Encoder}, {"decoder", c.Decoder}} {
		if st.s.Positions != "" && st.s.Positions != c.Positions {
			return nil, fmt.Errorf("%s.positions: %s differs from positions: %s, and the PyTorch module uses one kind of positions for both stacks", st.name, st.s.Positions, c.Positions)
		}
		if k := st.s.Attention.Kind; k != "" && k != "full" {
			return nil, fmt.Errorf("%s.attention.kind: %s has no equivalent: nn.Transformer computes full attention only", st.name, k)
		}
	}
	maxPos := c.MaxPositions
	if maxPos <= 0 {
		maxPos = 256
	}
	return map[string]any{
		"src_vocab": c.SrcVocab, "tgt_vocab": c.TgtVocab, "d_model": c.DModel, "nhead": c.Heads,
		"num_encoder_layers": c.EncoderLayers, "num_decoder_layers": c.DecoderLayers,
		"dim_feedforward": c.FFDim, "dropout": c.Dropout, "activation": c.Activation,
		"norm_first": c.NormFirst, "layer_norm_eps": c.LayerNormEps, "positions": c.Positions,
		"max_positions": maxPos, "tie_output": c.TieOutput, "share_embeddings": c.ShareEmbeddings,
	}, nil
}

// Export writes the checkpoint's weights as the safetensors state
// dict of the PyTorch module in docs/pytorch.md; the metadata key
// "seq2seq_args" holds the module's constructor arguments as JSON. With f
// (half.F16 or half.BF16) the weight matrices are written in that format
// and the rest in float32, as transformer convert holds them (a module
// loading them casts them to its own dtype); 0 writes float32 (float64
// for a float64 run).
func Export(ck *rundir.Checkpoint, path string, f half.Format) error {
	args, err := ModuleArgs(ck.Model.Config)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", ck.Dir, err)
	}
	if ck.Model.Store.Half() != 0 {
		// 16-bit values are exact in float32; the state dict is built there.
		if _, err := ck.Model.ToHalf(0); err != nil {
			return err
		}
	}
	sd, err := ck.Model.TorchState()
	if err != nil {
		return err
	}
	if f != 0 {
		for k, t := range sd {
			if t.Dims() == 2 && !strings.HasSuffix(k, "_pos.weight") {
				sd[k] = graph.ToHalf(f, t)
			}
		}
	}
	a, _ := json.Marshal(args)
	b, err := model.EncodeSafetensors(sd, map[string]string{"format": "pt", "seq2seq_args": string(a)})
	if err != nil {
		return err
	}
	return model.WriteFileAtomic(path, b)
}

// Import turns a state dict of the PyTorch module (safetensors) into a
// run directory outDir that translate can load. The model config and the
// tokenizers come from the run directory like, whose vocabularies the
// PyTorch module must have been built with.
func Import(weights, like, outDir string) error {
	if err := rundir.CheckOutputDir(outDir, false, like); err != nil {
		return err
	}
	ck, err := rundir.LoadRun(like)
	if err != nil {
		return err
	}
	raw, err := model.ReadSafetensorsFile(weights, model.WeightsLimit(torchElements(ck.Model.Config, ck.Model.Store.NumElements()), 8))
	if err != nil {
		return err
	}
	sd, _, err := model.DecodeSafetensors(raw)
	if err != nil {
		return fmt.Errorf("%s: not a valid safetensors file: %w", weights, err)
	}
	for name, t := range sd {
		for i, v := range graph.Float64s(t) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%s: tensor %q holds %v at index %d: a model with non-finite weights translates nothing", weights, name, v, i)
			}
		}
	}
	if err := ck.Model.LoadTorchState(sd); err != nil {
		return fmt.Errorf("%s: %w", weights, err)
	}
	return rundir.WriteRunLike(ck.Model, like, outDir, rundir.State{Seed: ck.Config.Training.Seed})
}

// torchElements is the number of values in the module's state dict for a
// model of n parameters: PyTorch lists a shared embedding under both
// src_embed and tgt_embed, and a tied output projection under
// output_projection.weight too.
func torchElements(c model.Config, n int) int {
	if c.ShareEmbeddings {
		n += c.SrcVocab * c.DModel
	}
	if c.TieOutput {
		n += c.TgtVocab * c.DModel
	}
	return n
}
