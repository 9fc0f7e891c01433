package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/model"
)

// Files of a run directory.
const (
	ConfigFile       = "config.yaml"           // the resolved config
	SrcTokenizerFile = "src_tokenizer.json"    // source BPE
	TgtTokenizerFile = "tgt_tokenizer.json"    // target BPE
	LastWeightsFile  = "model.safetensors"     // weights at the last save
	OptimizerFile    = "optimizer.safetensors" // Adam moments at the last save
	StateFile        = "state.json"            // training state at the last save
	BestWeightsFile  = "best.safetensors"      // weights of the best validation
	BestStateFile    = "best.json"             // metrics of the best validation
	LogFile          = "train.log"             // the log
)

// State is the training state saved with a checkpoint.
type State struct {
	Step      int                `json:"step"`
	Epoch     int                `json:"epoch"`
	AdamStep  int                `json:"adam_step"`
	Seed      int64              `json:"seed"`
	Metric    string             `json:"best_metric"`
	BestValue float64            `json:"best_value"`
	BestStep  int                `json:"best_step"`
	Valid     map[string]float64 `json:"valid,omitempty"`
}

// Checkpoint is a loaded run: config, tokenizers and model.
type Checkpoint struct {
	Dir            string
	Config         *Config
	SrcTok, TgtTok *data.BPE
	Model          *model.Transformer
	// Weights is the file the weights came from.
	Weights string
}

// LoadCheckpoint loads a run directory written by training. which is
// "best" (the default; falls back to the last weights when no validation
// has run) or "last".
func LoadCheckpoint(dir, which string) (*Checkpoint, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("checkpoint %s: not a directory", dir)
	}
	cfg, err := LoadConfig(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	src, err := data.LoadBPE(filepath.Join(dir, SrcTokenizerFile))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	tgt, err := data.LoadBPE(filepath.Join(dir, TgtTokenizerFile))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	mc := cfg.Model
	mc.SrcVocab, mc.TgtVocab = src.Size(), tgt.Size()
	m, err := model.New(mc, dtypeOf(cfg.Training.Dtype), cfg.Training.Seed)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	var weights string
	switch which {
	case "", "best":
		weights = filepath.Join(dir, BestWeightsFile)
		if _, err := os.Stat(weights); errors.Is(err, os.ErrNotExist) {
			weights = filepath.Join(dir, LastWeightsFile)
		}
	case "last":
		weights = filepath.Join(dir, LastWeightsFile)
	default:
		return nil, fmt.Errorf("unknown weights %q (want best or last)", which)
	}
	if err := model.LoadWeights(weights, m.Store); err != nil {
		return nil, err
	}
	return &Checkpoint{Dir: dir, Config: cfg, SrcTok: src, TgtTok: tgt, Model: m, Weights: weights}, nil
}

func dtypeOf(name string) tensor.Dtype {
	if name == "float64" {
		return tensor.Float64
	}
	return tensor.Float32
}

// writeJSON writes v as indented JSON, atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return model.WriteFileAtomic(path, append(b, '\n'))
}

// saveOptimizer writes Adam's moments as "m.<param>" and "v.<param>".
func saveOptimizer(path string, a *Adam) error {
	vals := map[string]*tensor.Dense{}
	for n, t := range a.M {
		vals["m."+n] = t
	}
	for n, t := range a.V {
		vals["v."+n] = t
	}
	b, err := model.EncodeSafetensors(vals, map[string]string{"format": "adam", "step": fmt.Sprint(a.Step)})
	if err != nil {
		return err
	}
	return model.WriteFileAtomic(path, b)
}
