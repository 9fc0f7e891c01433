package torchio

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/half"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/train"
)

// A run directory trained for one step, and its export.
func exported(t *testing.T) (run, st string, sd map[string]*tensor.Dense) {
	t.Helper()
	run = t.TempDir()
	c := rundir.DefaultConfig()
	c.Path = "tiny"
	c.Data.Generate = &data.Generated{Task: "reverse", TrainSize: 8, ValidSize: 4, TestSize: 4, MinLen: 2, MaxLen: 5, Alphabet: 6, Seed: 3}
	c.Data.SrcTokenizer, c.Data.TgtTokenizer = rundir.TokenizerConfig{}, rundir.TokenizerConfig{}
	c.Model.DModel, c.Model.Heads, c.Model.FFDim, c.Model.EncoderLayers, c.Model.DecoderLayers = 32, 4, 64, 1, 1
	c.Model.TieOutput = true
	c.Training.Steps, c.Training.BatchTokens, c.Training.OutDir = 1, 128, run
	tr, err := train.NewTrainer(context.Background(), &c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	ck, err := rundir.LoadCheckpoint(run, "best")
	if err != nil {
		t.Fatal(err)
	}
	st = filepath.Join(t.TempDir(), "sd.safetensors")
	if err := Export(ck, st, 0); err != nil {
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
		err = Import(p, run, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), p) {
			t.Errorf("error %v, want it to start with the file and mention %s", err, want)
		}
	}
}

func TestExportRefusesWhatPyTorchCannotLoad(t *testing.T) {
	base := func() model.Config {
		c := model.DefaultConfig()
		c.SrcVocab, c.TgtVocab = 50, 60
		return c
	}
	if _, err := ModuleArgs(base()); err != nil {
		t.Fatalf("the default config is refused: %v", err)
	}
	cases := map[string]func(c *model.Config){
		"activation: gelu_tanh":                  func(c *model.Config) { c.Activation = "gelu_tanh" },
		"final_norm: false":                      func(c *model.Config) { c.FinalNorm = false },
		"positions: relative":                    func(c *model.Config) { c.Positions = "relative" },
		"encoder.positions: relative differs":    func(c *model.Config) { c.Encoder.Positions = "relative" },
		"decoder.positions: learned differs":     func(c *model.Config) { c.Decoder.Positions = "learned" },
		"encoder.attention.kind: sliding_window": func(c *model.Config) { c.Encoder.Attention = model.AttentionConfig{Kind: "sliding_window", Window: 4} },
		"encoder.attention.kind: linear":         func(c *model.Config) { c.Encoder.Attention.Kind = "linear" },
		"decoder.attention.kind: linear":         func(c *model.Config) { c.Decoder.Attention.Kind = "linear" },
		"decoder.attention.kind: sliding_window": func(c *model.Config) { c.Decoder.Attention = model.AttentionConfig{Kind: "sliding_window", Window: 4} },
		"d_model: 128 is not divisible by heads": func(c *model.Config) { c.Heads = 3 },
	}
	for want, edit := range cases {
		c := base()
		edit(&c)
		_, err := ModuleArgs(c)
		if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v", want, err)
		}
	}
	// A stack that names the model's own positions is the same module.
	c := base()
	c.Positions, c.Encoder.Positions, c.Decoder.Positions = "learned", "learned", "learned"
	c.Encoder.Attention.Kind = "full"
	if args, err := ModuleArgs(c); err != nil || args["positions"] != "learned" || args["max_positions"] != 256 {
		t.Errorf("learned positions: %v, %v", args, err)
	}
}

func TestImportTorchRefusesHugeAndBadFiles(t *testing.T) {
	run, _, _ := exported(t)
	dir := t.TempDir()
	sparse := filepath.Join(dir, "sparse.safetensors")
	f, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(50 << 30); err != nil {
		f.Close()
		t.Skip(err)
	}
	f.Close()
	// dim 2^63 with a 0 dim used to crash the decoder.
	header := `{"x":{"dtype":"F32","shape":[9223372036854775808,0],"data_offsets":[0,0]}}`
	bad := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(bad, append(binary.LittleEndian.AppendUint64(nil, uint64(len(header))), header...), 0o644)
	for path, want := range map[string]string{
		sparse: "larger than its limit",
		bad:    `shape [9223372036854775808 0] overflows`,
		dir:    "is a directory",
	} {
		err := Import(path, run, t.TempDir())
		if err == nil || !strings.HasPrefix(err.Error(), path) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line naming the file with %q", path, err, want)
		}
	}
}

func TestImportTorchRoundTrip(t *testing.T) {
	run, st, _ := exported(t)
	if err := Import(st, run, filepath.Join(t.TempDir(), "back")); err != nil {
		t.Fatal(err)
	}
}

// A converted run exports its 16-bit matrices as they are (the rest
// float32), and that state dict imports back to the same values.
func TestExportConvertedRun(t *testing.T) {
	run, _, _ := exported(t)
	for _, f := range []half.Format{half.F16, half.BF16} {
		conv := filepath.Join(t.TempDir(), "conv")
		if _, _, err := rundir.ConvertRun(run, "best", f, conv); err != nil {
			t.Fatal(err)
		}
		ck, err := rundir.LoadCheckpoint(conv, "best")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]float64{}
		for _, n := range ck.Model.Store.Names() {
			want[n] = graph.Float64s(ck.Model.Store.Get(n))
		}
		p := filepath.Join(t.TempDir(), "sd.safetensors")
		if err := Export(ck, p, f); err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(p)
		sd, _, err := model.DecodeSafetensors(raw)
		if err != nil {
			t.Fatal(err)
		}
		halves := 0
		for k, v := range sd {
			if graph.HalfFormat(v) == f {
				halves++
			} else if v.Dims() == 2 && !strings.HasSuffix(k, "_pos.weight") {
				t.Errorf("%v export: %s is %v", f, k, v.Dtype())
			}
		}
		back := filepath.Join(t.TempDir(), "back")
		if err := Import(p, run, back); err != nil {
			t.Fatal(err)
		}
		bk, err := rundir.LoadCheckpoint(back, "best")
		if err != nil {
			t.Fatal(err)
		}
		for n, w := range want {
			got := graph.Float64s(bk.Model.Store.Get(n))
			for i := range w {
				if got[i] != w[i] {
					t.Fatalf("%v: %s[%d] came back %v, want %v", f, n, i, got[i], w[i])
				}
			}
		}
		t.Logf("%v: %d of %d exported tensors 16-bit; imported back to the converted values exactly", f, halves, len(sd))
	}
}
