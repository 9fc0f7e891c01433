package train

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/gotransformer/transformer/model"
)

// TorchModuleArgs are the keyword arguments of the PyTorch module Seq2Seq
// in docs/pytorch.md that matches a model config.
func TorchModuleArgs(c model.Config) (map[string]any, error) {
	if c.Activation == "gelu_tanh" {
		return nil, fmt.Errorf("activation gelu_tanh has no PyTorch nn.Transformer equivalent by name (use relu or gelu)")
	}
	if !c.FinalNorm {
		return nil, fmt.Errorf("final_norm: false has no equivalent: nn.Transformer always ends each stack with a layer norm")
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

// ExportTorch writes the checkpoint's weights as the safetensors state
// dict of the PyTorch module in docs/pytorch.md; the metadata key
// "seq2seq_args" holds the module's constructor arguments as JSON.
func ExportTorch(ck *Checkpoint, path string) error {
	args, err := TorchModuleArgs(ck.Model.Config)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", ck.Dir, err)
	}
	sd, err := ck.Model.TorchState()
	if err != nil {
		return err
	}
	a, _ := json.Marshal(args)
	b, err := model.EncodeSafetensors(sd, map[string]string{"format": "pt", "seq2seq_args": string(a)})
	if err != nil {
		return err
	}
	return model.WriteFileAtomic(path, b)
}

// ImportTorch turns a state dict of the PyTorch module (safetensors) into a
// run directory outDir that translate can load. The model config and the
// tokenizers come from the run directory like, whose vocabularies the
// PyTorch module must have been built with.
func ImportTorch(weights, like, outDir string) error {
	ck, err := loadRun(like)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(weights)
	if err != nil {
		return err
	}
	sd, _, err := model.DecodeSafetensors(raw)
	if err != nil {
		return fmt.Errorf("%s: not a valid safetensors file: %w", weights, err)
	}
	if err := ck.Model.LoadTorchState(sd); err != nil {
		return fmt.Errorf("%s: %w", weights, err)
	}
	return writeRunLike(ck.Model, like, outDir, State{Seed: ck.Config.Training.Seed})
}
