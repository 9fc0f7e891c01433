package train

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/model"
)

// A run directory trained for one step, and its export.
func exported(t *testing.T) (run, st string, sd map[string]*tensor.Dense) {
	t.Helper()
	run = t.TempDir()
	c := overfitConfig(run)
	c.Model.TieOutput = true
	c.Training.Steps = 1
	trainFor(t, c, false, context.Background())
	ck, err := LoadCheckpoint(run, "best")
	if err != nil {
		t.Fatal(err)
	}
	st = filepath.Join(t.TempDir(), "sd.safetensors")
	if err := ExportTorch(ck, st); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(st)
	sd, meta, err := model.DecodeSafetensors(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(meta["seq2seq_args"], `"tie_output":true`) {
		t.Errorf("metadata %v", meta)
	}
	if sd["output_projection.weight"] == nil || sd["transformer.encoder.layers.0.self_attn.in_proj_weight"] == nil {
		t.Fatalf("export lacks PyTorch names: %d tensors", len(sd))
	}
	return run, st, sd
}

func TestImportTorchRejectsBadStateDicts(t *testing.T) {
	run, _, sd := exported(t)
	cases := map[string]func(map[string]*tensor.Dense){
		`"transformer.encoder.layers.0.linear1.weight" gives`: func(m map[string]*tensor.Dense) {
			m["transformer.encoder.layers.0.linear1.weight"] = graph.Zeroed(tensor.Float32, 3, 3)
		},
		`state dict has no "transformer.decoder.norm.bias"`: func(m map[string]*tensor.Dense) {
			delete(m, "transformer.decoder.norm.bias")
		},
		`unexpected keys, first "extra.weight"`: func(m map[string]*tensor.Dense) {
			m["extra.weight"] = graph.Zeroed(tensor.Float32, 2)
		},
		`tied output: output_projection.weight differs`: func(m map[string]*tensor.Dense) {
			w := m["output_projection.weight"]
			m["output_projection.weight"] = graph.Zeroed(w.Dtype(), w.Shape()...)
		},
	}
	for want, edit := range cases {
		m := map[string]*tensor.Dense{}
		for k, v := range sd {
			m[k] = v
		}
		edit(m)
		b, err := model.EncodeSafetensors(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "bad.safetensors")
		os.WriteFile(p, b, 0o644)
		err = ImportTorch(p, run, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), p) {
			t.Errorf("error %v, want it to start with the file and mention %s", err, want)
		}
	}
}

func TestExportRefusesWhatPyTorchCannotLoad(t *testing.T) {
	c := DefaultConfig().Model
	c.Activation = "gelu_tanh"
	if _, err := TorchModuleArgs(c); err == nil {
		t.Error("gelu_tanh exported")
	}
	c = DefaultConfig().Model
	c.FinalNorm = false
	if _, err := TorchModuleArgs(c); err == nil {
		t.Error("a model without final norms exported")
	}
}
