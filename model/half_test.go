package model

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/half"
)

// halfPair returns a translator whose weights are format f and one whose
// float32 weights are those same values: any difference between them is
// the arithmetic's, not the rounding's.
func halfPair(t *testing.T, c Config, f half.Format) (h, ref *Translator) {
	t.Helper()
	var trs [2]*Translator
	for i := range trs {
		m, err := New(c, tensor.Float32, 5)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range m.Store.Names() {
			v := m.Store.Get(name).Data().([]float32)
			for j := range v {
				v[j] *= 2.5 // peaked scores: no near-ties in the searches
			}
		}
		n, err := m.ToHalf(f)
		if err != nil {
			t.Fatal(err)
		}
		if n != len(m.HalfWeights()) || n == 0 {
			t.Fatalf("converted %d of %d weights", n, len(m.HalfWeights()))
		}
		if i == 1 {
			if _, err := m.ToHalf(0); err != nil {
				t.Fatal(err)
			}
		}
		trs[i] = NewTranslator(m, 0)
		t.Cleanup(trs[i].Close)
	}
	return trs[0], trs[1]
}

func halfConfigs() map[string]Config {
	out := map[string]Config{}
	for _, v := range []struct {
		name                     string
		normFirst, learned, tied bool
	}{{"post-LN sinusoidal untied", false, false, false}, {"pre-LN learned tied", true, true, true}} {
		c := tinyConfig(v.normFirst)
		c.DModel, c.FFDim, c.SrcVocab, c.TgtVocab = 32, 40, 23, 29 // wider than one 16-column panel
		c.EncoderLayers, c.DecoderLayers = 2, 2
		c.FinalNorm, c.TieOutput = v.normFirst, v.tied
		if v.learned {
			c.Positions, c.MaxPositions = "learned", 40
		}
		out[v.name] = c
	}
	return out
}

// TestHalfWeightsEqualRoundedFloat32 checks translating with 16-bit weights
// against translating with float32 weights of the same values: the
// graph's scores, the graph-free decoder's steps, and greedy and beam
// outputs.
func TestHalfWeightsEqualRoundedFloat32(t *testing.T) {
	srcs := [][]int{{4, 5, 6}, {6}, {5, 5, 4, 6, 4, 4, 5, 6, 6, 5, 4}, {4, 6}, {}, {7, 8, 4}}
	for name, c := range halfConfigs() {
		for _, f := range []half.Format{half.F16, half.BF16} {
			h, ref := halfPair(t, c, f)
			if hb, rb := h.Model.Store.Bytes(), ref.Model.Store.Bytes(); float64(hb) > 0.6*float64(rb) {
				t.Errorf("%s %v: weights take %d bytes, float32 %d", name, f, hb, rb)
			}
			src := []int{4, 5, 6, 3, 0, 0, 0, 0, 6, 4, 5, 5, 4, 6, 4, 3}
			tgt := []int{2, 7, 8, 4, 5, 6, 2, 5, 5, 5, 7, 7}
			a, err := h.Logits(src, tgt, 2, 8, 6)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ref.Logits(src, tgt, 2, 8, 6)
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i, v := range graph.Float64s(a) {
				w := graph.Float64s(b)[i]
				worst = max(worst, math.Abs(v-w)/max(1, math.Abs(w)))
			}
			// The graph-free steps differ from the graph by float32
			// rounding (the order of the sums), as with float32 weights.
			steps, refSteps := incrementalError(t, h), incrementalError(t, ref)
			t.Logf("%s %v: graph scores within %.2g of float32's; cached steps within %.2g of the graph (float32 weights: %.2g)", name, f, worst, steps, refSteps)
			limit, stepLimit := 1e-5, 1e-4
			if graph.BLAS == "openblas" {
				limit = 5e-4 // float32 products by OpenBLAS, 16-bit ones by graph/f32's kernel
				// The graph's products (OpenBLAS) and the steps' own sums
				// (graph/f32: cross-attention scores as row multiply-adds)
				// group float32 sums differently; the float64 steps equal
				// the graph to 1e-10 (TestIncrementalMatchesFullDecoder).
				stepLimit = 2e-4
			}
			if worst > limit || steps > stepLimit || refSteps > stepLimit {
				t.Errorf("%s %v: scores differ by %.3g (graph) and %.3g (steps)", name, f, worst, steps)
			}
			opt := DecodeOptions{BatchSize: 4, MaxLenA: 2, MaxLenB: 5}
			gh, err := h.Greedy(srcs, opt)
			if err != nil {
				t.Fatal(err)
			}
			gr, _ := ref.Greedy(srcs, opt)
			if !reflect.DeepEqual(gh, gr) {
				t.Errorf("%s %v: greedy %v, float32 %v", name, f, gh, gr)
			}
			bo := BeamOptions{Beam: 4, DecodeOptions: DecodeOptions{BatchSize: 3, MaxLenA: 2, MaxLenB: 5}}
			bh, err := h.Beam(srcs, bo)
			if err != nil {
				t.Fatal(err)
			}
			br, _ := ref.Beam(srcs, bo)
			for i := range bh {
				if !reflect.DeepEqual(bh[i][0].Tokens, br[i][0].Tokens) {
					t.Errorf("%s %v: beam %v, float32 %v", name, f, bh[i][0].Tokens, br[i][0].Tokens)
				}
			}
		}
	}
}

// TestStoreLoadHalf: F16 and BF16 tensors load in place of the listed
// matrices only, and only into float32 models.
func TestStoreLoadHalf(t *testing.T) {
	c := halfConfigs()["post-LN sinusoidal untied"]
	m, err := New(c, tensor.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]*tensor.Dense{}
	for _, n := range m.Store.Names() {
		vals[n] = m.Store.Get(n).Clone().(*tensor.Dense)
	}
	w := m.HalfWeights()[0]
	vals[w] = graph.ToHalf(half.BF16, vals[w])
	if err := m.Store.Load(vals); err != nil {
		t.Fatal(err)
	}
	if m.Store.Half() != half.BF16 || graph.HalfFormat(m.Store.Get(w)) != half.BF16 {
		t.Errorf("after loading a BF16 %s the store is %v", w, m.Store.Half())
	}
	norm := "encoder.layers.0.norm1.weight"
	vals[norm] = graph.ToHalf(half.F16, vals[norm])
	if err := m.Store.Load(vals); err == nil || !strings.Contains(err.Error(), norm) {
		t.Errorf("a 16-bit layer norm loaded: %v", err)
	}
	m64, err := New(c, tensor.Float64, 1)
	if err != nil {
		t.Fatal(err)
	}
	delete(vals, norm)
	vals[norm] = m.Store.Get(norm)
	if _, err := m64.ToHalf(half.F16); err == nil {
		t.Error("a float64 model converted to f16")
	}
	if err := m64.Store.Load(vals); err == nil || !strings.Contains(err.Error(), "float64") {
		t.Errorf("a float64 model loaded 16-bit weights: %v", err)
	}
}
