package model

import (
	"encoding/json"
	"math"
	mrand "math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/layers"
)

// Golden tests against PyTorch 1.13 (fixtures from tools/goldens/gen.py):
// the same float64 weights and inputs must give the same outputs and
// gradients of loss = Σ out ⊙ W, to a relative error max|a−b|/max|b| of at
// most goldenTol per tensor.
const goldenTol = 1e-8

type fixture struct {
	Name    string         `json:"name"`
	Config  map[string]any `json:"config"`
	Tensors map[string]struct {
		Shape []int     `json:"shape"`
		Data  []float64 `json:"data"`
	} `json:"tensors"`

	worst    float64 // largest relative error seen by compare
	compared int
}

func loadFixture(t *testing.T, name string) *fixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "goldens", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{}
	if err := json.Unmarshal(b, f); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) tensor(t *testing.T, key string) *tensor.Dense {
	t.Helper()
	v, ok := f.Tensors[key]
	if !ok {
		t.Fatalf("%s: no tensor %q", f.Name, key)
	}
	shape := v.Shape
	if len(shape) == 0 {
		shape = []int{1}
	}
	return graph.FromFloat64s(tensor.Float64, v.Data, shape...)
}

// group returns the tensors whose keys start with prefix+"/", by the rest
// of the key.
func (f *fixture) group(t *testing.T, prefix string) map[string]*tensor.Dense {
	out := map[string]*tensor.Dense{}
	for k := range f.Tensors {
		if strings.HasPrefix(k, prefix+"/") {
			out[strings.TrimPrefix(k, prefix+"/")] = f.tensor(t, k)
		}
	}
	return out
}

func (f *fixture) ints(t *testing.T, key string) []int {
	d := f.Tensors[key].Data
	out := make([]int, len(d))
	for i, v := range d {
		out[i] = int(v)
	}
	return out
}

func (f *fixture) bools(t *testing.T, key string) []bool {
	d := f.Tensors[key].Data
	out := make([]bool, len(d))
	for i, v := range d {
		out[i] = v != 0
	}
	return out
}

func relErr(got, want []float64) float64 { return relErrFloor(got, want, 1e-300) }

// relErrFloor is max|got−want| / max(max|want|, floor).
func relErrFloor(got, want []float64, floor float64) float64 {
	var diff, scale float64
	for i := range want {
		diff = math.Max(diff, math.Abs(got[i]-want[i]))
		scale = math.Max(scale, math.Abs(want[i]))
	}
	return diff / math.Max(scale, floor)
}

func (f *fixture) compare(t *testing.T, what string, got *tensor.Dense, key string) {
	t.Helper()
	want := f.tensor(t, key)
	if got.Shape().TotalSize() != want.Shape().TotalSize() {
		t.Fatalf("%s: %d values, want %d", what, got.Shape().TotalSize(), want.Shape().TotalSize())
	}
	e := relErr(graph.Float64s(got), graph.Float64s(want))
	if !(e <= goldenTol) {
		t.Errorf("%s: relative error %.3g > %g", what, e, goldenTol)
	}
	f.worst = math.Max(f.worst, e)
	f.compared++
}

// input adds a float input holding the fixture's "input/name".
func (f *fixture) input(t *testing.T, b *graph.Builder, name string, rows, cols int) *G.Node {
	n := b.Input(name, rows, cols)
	copy(n.Value().Data().([]float64), f.Tensors["input/"+name].Data)
	return n
}

// run adds loss = Σ out ⊙ probe, differentiates, runs, and compares the
// output, every parameter gradient (exported to PyTorch's layout with
// rename) and the gradients of inputs.
func (f *fixture) run(t *testing.T, b *graph.Builder, out *G.Node, rename func(string) string, inputs map[string]*G.Node) {
	t.Helper()
	probe := b.Input("probe", out.Shape()...)
	copy(probe.Value().Data().([]float64), f.Tensors["probe"].Data)
	cost := G.Must(G.Sum(G.Must(G.HadamardProd(out, probe))))
	wrt := append(G.Nodes{}, b.Params()...)
	names := make([]string, 0, len(inputs))
	for n := range inputs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		wrt = append(wrt, inputs[n])
	}
	if _, err := G.Grad(cost, wrt...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(b.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	f.compare(t, "output", out.Value().(*tensor.Dense), "out")
	grads := graph.NewStore(tensor.Float64, 0)
	for _, p := range b.Params() {
		g, err := p.Grad()
		if err != nil {
			t.Fatal(err)
		}
		v := graph.Float64s(g.(*tensor.Dense))
		grads.Add(p.Name(), func(*mrand.Rand, []int) []float64 { return v }, p.Shape()...)
	}
	sd, err := ExportTorch(grads, rename)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for key := range f.group(t, "grad") {
		got, ok := sd[key]
		if !ok {
			t.Errorf("no gradient for %s", key)
			continue
		}
		f.compare(t, "gradient of "+key, got, "grad/"+key)
		checked++
	}
	for _, n := range names {
		if _, ok := f.Tensors["grad_input/"+n]; !ok {
			continue
		}
		g, err := inputs[n].Grad()
		if err != nil {
			t.Fatal(err)
		}
		f.compare(t, "gradient of input "+n, g.(*tensor.Dense), "grad_input/"+n)
		checked++
	}
	if checked == 0 {
		t.Fatal("no gradient compared")
	}
	t.Logf("%s: %d tensors compared, worst relative error %.2g", f.Name, f.compared, f.worst)
}

func num(f *fixture, key string) int { return int(f.Config[key].(float64)) }

func stripPrefix(p string) func(string) string {
	return func(n string) string { return strings.TrimPrefix(n, p) }
}

func TestGoldenMultiHeadAttention(t *testing.T) {
	for _, name := range []string{"mha_self_padding_causal", "mha_cross_padding"} {
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, name)
			d, h := num(f, "d_model"), num(f, "heads")
			b := graph.NewBuilder(graph.NewStore(tensor.Float64, 1), false)
			attn := layers.MultiHeadAttention{Name: "attn", DModel: d, Heads: h}
			inputs := map[string]*G.Node{}
			var q, kv *G.Node
			var batch, sq, sk int
			if _, self := f.Tensors["input/x"]; self {
				s := f.Tensors["input/x"].Shape
				batch, sq, sk = s[0], s[1], s[1]
				q = f.input(t, b, "x", batch*sq, d)
				kv, inputs["x"] = q, q
			} else {
				batch, sq, sk = f.Tensors["input/q"].Shape[0], f.Tensors["input/q"].Shape[1], f.Tensors["input/kv"].Shape[1]
				q, kv = f.input(t, b, "q", batch*sq, d), f.input(t, b, "kv", batch*sk, d)
				inputs["q"], inputs["kv"] = q, kv
			}
			mask := b.Input("mask", batch, 1, sq, sk)
			graph.FillAttentionMask(mask.Value().(*tensor.Dense), f.bools(t, "input/key_padding_mask"), f.Config["causal"].(bool))
			out, _ := attn.Forward(b, q, kv, batch, sq, sk, mask)
			if err := ImportTorch(b.Store, f.group(t, "param"), stripPrefix("attn.")); err != nil {
				t.Fatal(err)
			}
			f.run(t, b, out, stripPrefix("attn."), inputs)
		})
	}
}

func layerConfig(f *fixture) Config {
	c := DefaultConfig()
	c.DModel, c.Heads, c.FFDim = num(f, "d_model"), num(f, "heads"), num(f, "ff_dim")
	c.NormFirst, c.Activation, c.Dropout = f.Config["norm_first"].(bool), f.Config["activation"].(string), 0
	return c
}

func TestGoldenEncoderLayer(t *testing.T) {
	for _, tag := range []string{"post_relu", "post_gelu", "pre_relu", "pre_gelu"} {
		t.Run(tag, func(t *testing.T) {
			f := loadFixture(t, "encoder_layer_"+tag)
			c := layerConfig(f)
			s := f.Tensors["input/x"].Shape
			batch, n := s[0], s[1]
			b := graph.NewBuilder(graph.NewStore(tensor.Float64, 1), false)
			x := f.input(t, b, "x", batch*n, c.DModel)
			mask := b.Input("mask", batch, 1, n, n)
			graph.FillAttentionMask(mask.Value().(*tensor.Dense), f.bools(t, "input/key_padding_mask"), false)
			out := newEncoderLayer("layer", c).Forward(b, x, batch, n, mask, nil)
			if err := ImportTorch(b.Store, f.group(t, "param"), stripPrefix("layer.")); err != nil {
				t.Fatal(err)
			}
			f.run(t, b, out, stripPrefix("layer."), map[string]*G.Node{"x": x})
		})
	}
}

func TestGoldenDecoderLayer(t *testing.T) {
	for _, tag := range []string{"post_relu", "post_gelu", "pre_relu", "pre_gelu"} {
		t.Run(tag, func(t *testing.T) {
			f := loadFixture(t, "decoder_layer_"+tag)
			c := layerConfig(f)
			batch, tl, sl := f.Tensors["input/y"].Shape[0], f.Tensors["input/y"].Shape[1], f.Tensors["input/memory"].Shape[1]
			b := graph.NewBuilder(graph.NewStore(tensor.Float64, 1), false)
			y := f.input(t, b, "y", batch*tl, c.DModel)
			mem := f.input(t, b, "memory", batch*sl, c.DModel)
			self := b.Input("self_mask", batch, 1, tl, tl)
			graph.FillAttentionMask(self.Value().(*tensor.Dense), f.bools(t, "input/tgt_key_padding_mask"), true)
			cross := b.Input("cross_mask", batch, 1, tl, sl)
			graph.FillAttentionMask(cross.Value().(*tensor.Dense), f.bools(t, "input/memory_key_padding_mask"), false)
			out := newDecoderLayer("layer", c).Forward(b, y, mem, batch, tl, sl, self, nil, cross)
			if err := ImportTorch(b.Store, f.group(t, "param"), stripPrefix("layer.")); err != nil {
				t.Fatal(err)
			}
			f.run(t, b, out, stripPrefix("layer."), map[string]*G.Node{"y": y, "memory": mem})
		})
	}
}

func TestGoldenTransformer(t *testing.T) {
	for _, name := range []string{"transformer_post_relu_sinusoidal", "transformer_pre_gelu_learned_tied"} {
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, name)
			c := DefaultConfig()
			c.SrcVocab, c.TgtVocab, c.DModel, c.Heads = num(f, "src_vocab"), num(f, "tgt_vocab"), num(f, "d_model"), num(f, "nhead")
			c.EncoderLayers, c.DecoderLayers, c.FFDim = num(f, "num_encoder_layers"), num(f, "num_decoder_layers"), num(f, "dim_feedforward")
			c.Dropout, c.NormFirst, c.Activation = 0, f.Config["norm_first"].(bool), f.Config["activation"].(string)
			c.Positions, c.MaxPositions, c.TieOutput = f.Config["positions"].(string), num(f, "max_positions"), f.Config["tie_output"].(bool)
			c.FinalNorm = true // nn.Transformer always has them
			m, err := New(c, tensor.Float64, 1)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.LoadTorchState(f.group(t, "param")); err != nil {
				t.Fatal(err)
			}
			src, tgt := f.ints(t, "input/src"), f.ints(t, "input/tgt")
			batch := f.Tensors["input/src"].Shape[0]
			b := graph.NewBuilder(m.Store, false)
			in := m.NewInputs(b, batch, len(src)/batch, len(tgt)/batch)
			if err := in.Bind(src, tgt); err != nil {
				t.Fatal(err)
			}
			f.run(t, b, m.Forward(b, in), torchRename, nil)
			// The state dict round-trips through export.
			sd, err := m.TorchState()
			if err != nil {
				t.Fatal(err)
			}
			want := f.group(t, "param")
			if len(sd) != len(want) {
				t.Errorf("exported %d tensors, PyTorch's state dict has %d", len(sd), len(want))
			}
			for k, v := range want {
				if got, ok := sd[k]; !ok || relErr(graph.Float64s(got), graph.Float64s(v)) != 0 {
					t.Errorf("export of %s differs", k)
				}
			}
		})
	}
}

// Negative control: with tanh-approximated GELU instead of PyTorch's exact
// GELU the output must miss the fixture, so the comparison can fail.
func TestGoldenDetectsApproximateGELU(t *testing.T) {
	f := loadFixture(t, "encoder_layer_post_gelu")
	c := layerConfig(f)
	c.Activation = "gelu_tanh"
	s := f.Tensors["input/x"].Shape
	b := graph.NewBuilder(graph.NewStore(tensor.Float64, 1), false)
	x := f.input(t, b, "x", s[0]*s[1], c.DModel)
	mask := b.Input("mask", s[0], 1, s[1], s[1])
	graph.FillAttentionMask(mask.Value().(*tensor.Dense), f.bools(t, "input/key_padding_mask"), false)
	out := newEncoderLayer("layer", c).Forward(b, x, s[0], s[1], mask, nil)
	if err := ImportTorch(b.Store, f.group(t, "param"), stripPrefix("layer.")); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(b.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if e := relErr(graph.Float64s(out.Value().(*tensor.Dense)), f.Tensors["out"].Data); e < 1e-6 {
		t.Errorf("tanh GELU matched exact GELU's fixture (relative error %g)", e)
	}
}

// TestGoldenLongAttention compares sliding-window, linear and relative-bias
// self-attention with PyTorch (tools/goldens/long_attention.py): the band
// as nn.MultiheadAttention under a band mask, the relative bias as its float
// attn_mask, linear attention written out with the module's projections.
func TestGoldenLongAttention(t *testing.T) {
	for _, name := range []string{"mha_sliding_window", "mha_sliding_window_causal", "mha_linear", "mha_linear_causal",
		"mha_relative_bias", "mha_relative_bias_causal"} {
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, name)
			d, h := num(f, "d_model"), num(f, "heads")
			causal := f.Config["causal"].(bool)
			s := f.Tensors["input/x"].Shape
			batch, n := s[0], s[1]
			b := graph.NewBuilder(graph.NewStore(tensor.Float64, 1), false)
			attn := layers.MultiHeadAttention{Name: "attn", DModel: d, Heads: h}
			attn.Spec.Kind, attn.Spec.Causal = f.Config["kind"].(string), causal
			if attn.Spec.Kind == layers.SlidingWindow {
				attn.Spec.Window = num(f, "window")
				for _, g := range f.Config["global"].([]any) {
					attn.Spec.Global = append(attn.Spec.Global, int(g.(float64)))
				}
			}
			rename := stripPrefix("attn.") // a bare nn.MultiheadAttention
			if attn.Spec.Kind == layers.LinearKernel {
				rename = func(s string) string { return s } // wrapped as .attn
			}
			if _, ok := f.Config["buckets"]; ok {
				attn.Positions = layers.RelativeBias{Name: "relative_bias", Heads: h, Buckets: num(f, "buckets"),
					MaxDistance: num(f, "max_distance"), Bidirectional: f.Config["bidirectional"].(bool)}
				rename = func(s string) string { return s }
			}
			x := f.input(t, b, "x", batch*n, d)
			padFlags := f.bools(t, "input/key_padding_mask")
			pad := b.Input("pad", batch, n)
			G.Let(pad, graph.KeyPadding(tensor.Float64, batch, n, padFlags))
			mask := b.Input("mask", batch, 1, n, n)
			graph.FillAttentionMask(mask.Value().(*tensor.Dense), padFlags, causal)
			out, _ := attn.Self(b, x, batch, n, mask, pad)
			if err := ImportTorch(b.Store, f.group(t, "param"), rename); err != nil {
				t.Fatal(err)
			}
			f.run(t, b, out, rename, map[string]*G.Node{"x": x})
		})
	}
}
