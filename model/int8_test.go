package model

import (
	"math"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/half"
)

// int8Pair returns a translator with int8 weights and one with the float32
// weights they were quantised from. The weights are the initial ones: with
// them scaled up, as halfPair does, a random post-LN decoder is chaotic
// enough that the rounding of one activation to 8 bits the other way
// (between the graph's and the cached steps' float32 sums) moves later
// scores by up to 0.2.
func int8Pair(t *testing.T, c Config) (q, ref *Translator) {
	t.Helper()
	var trs [2]*Translator
	for i := range trs {
		m, err := New(c, tensor.Float32, 5)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			n, err := m.ToInt8()
			if err != nil {
				t.Fatal(err)
			}
			if n != len(m.Int8Weights()) || n == 0 || m.Store.Int8Count() != n {
				t.Fatalf("quantised %d of %d weights", n, len(m.Int8Weights()))
			}
		}
		trs[i] = NewTranslator(m, 0)
		t.Cleanup(trs[i].Close)
	}
	return trs[0], trs[1]
}

// TestInt8Weights checks translating with int8 weights against float32:
// the graph's scores are those of float32 up to the rounding of weights and
// activations to 8 bits, the graph-free decoder's cached steps agree with
// the graph, and greedy and beam search run on them.
func TestInt8Weights(t *testing.T) {
	srcs := [][]int{{4, 5, 6}, {6}, {5, 5, 4, 6, 4, 4, 5, 6, 6, 5, 4}, {4, 6}, {}, {7, 8, 4}}
	for name, c := range halfConfigs() {
		q, ref := int8Pair(t, c)
		src := []int{4, 5, 6, 3, 0, 0, 0, 0, 6, 4, 5, 5, 4, 6, 4, 3}
		tgt := []int{2, 7, 8, 4, 5, 6, 2, 5, 5, 5, 7, 7}
		a, err := q.Logits(src, tgt, 2, 8, 6)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ref.Logits(src, tgt, 2, 8, 6)
		if err != nil {
			t.Fatal(err)
		}
		var errSq, refSq float64
		av, bv := graph.Float64s(a), graph.Float64s(b)
		for i := range av {
			errSq += (av[i] - bv[i]) * (av[i] - bv[i])
			refSq += bv[i] * bv[i]
		}
		rel := math.Sqrt(errSq / refSq)
		steps := incrementalError(t, q)
		t.Logf("%s: int8 scores %.3g from float32's (relative RMS); cached steps within %.2g of the graph; weights %d bytes, float32 %d",
			name, rel, steps, q.Model.Store.Bytes(), ref.Model.Store.Bytes())
		if rel > 0.05 {
			t.Errorf("%s: int8 scores differ from float32's by %.3g (relative RMS)", name, rel)
		}
		if steps > 1e-4 {
			t.Errorf("%s: cached int8 steps differ from the int8 graph by %.3g", name, steps)
		}
		opt := DecodeOptions{BatchSize: 4, MaxLenA: 2, MaxLenB: 5}
		gq, err := q.Greedy(srcs, opt)
		if err != nil {
			t.Fatal(err)
		}
		gr, err := ref.Greedy(srcs, opt)
		if err != nil {
			t.Fatal(err)
		}
		same := 0
		for i := range gq {
			if slicesEqual(gq[i], gr[i]) {
				same++
			}
		}
		bo := BeamOptions{Beam: 4, DecodeOptions: DecodeOptions{BatchSize: 3, MaxLenA: 2, MaxLenB: 5}}
		bq, err := q.Beam(srcs, bo)
		if err != nil {
			t.Fatal(err)
		}
		if len(bq) != len(srcs) {
			t.Fatalf("%s: beam gave %d results for %d sources", name, len(bq), len(srcs))
		}
		t.Logf("%s: greedy outputs equal to float32's: %d of %d", name, same, len(srcs))
		if same < len(srcs)-1 {
			t.Errorf("%s: only %d of %d greedy outputs equal float32's", name, same, len(srcs))
		}
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestToInt8Refuses: int8 needs float32 weights.
func TestToInt8Refuses(t *testing.T) {
	c := halfConfigs()["pre-LN learned tied"]
	m, err := New(c, tensor.Float64, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.ToInt8(); err == nil {
		t.Error("a float64 model quantised to int8")
	}
	m, _ = New(c, tensor.Float32, 5)
	if _, err := m.ToHalf(half.BF16); err != nil {
		t.Fatal(err)
	}
	if _, err := m.ToInt8(); err == nil {
		t.Error("a bfloat16 model quantised to int8")
	} else {
		t.Log(err)
	}
}

// With whole blocks of columns (d_model 64), the graph-free decoder joins
// the self-attention projections into one int8 product (sideBySide), and
// its steps still follow the int8 graph's scores; so do float32 weights,
// joined the same way (16-bit ones: TestHalfWeightsEqualRoundedFloat32).
// Layers join or not on their own: one whose projections differ in format
// decodes beside one that joins.
func TestJoinedProjectionsFollowGraph(t *testing.T) {
	c := halfConfigs()["pre-LN learned tied"]
	c.DModel, c.FFDim = 64, 72
	q, ref := int8Pair(t, c)
	for name, tr := range map[string]*Translator{"int8": q, "float32": ref} {
		s := newStepper[float32](tr.Model, 2, 1, 8, make([]float32, 2*8*c.DModel), make([]int, 16), nil)
		if s.layers[0].selfQKV == nil {
			t.Fatalf("%s: the self-attention projections were not joined", name)
		}
		if steps := incrementalError(t, tr); steps > 1e-4 {
			t.Errorf("%s: cached steps with joined projections differ from the graph by %.3g", name, steps)
		}
	}
}

// A layer whose projections differ in format (one held in bfloat16) keeps
// three products, beside a layer that joins them, and decoding still
// follows the graph.
func TestJoinedProjectionsPerLayer(t *testing.T) {
	c := halfConfigs()["pre-LN learned tied"]
	m, err := New(c, tensor.Float32, 5)
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]*tensor.Dense{}
	for _, name := range m.Store.Names() {
		vals[name] = m.Store.Get(name).Clone().(*tensor.Dense)
	}
	q := m.Decoder.Layers[0].SelfAttn.Name + ".q_proj.weight"
	vals[q] = graph.ToHalf(half.BF16, vals[q])
	if err := m.Store.Load(vals); err != nil {
		t.Fatal(err)
	}
	tr := NewTranslator(m, 0)
	defer tr.Close()
	s := newStepper[float32](m, 2, 1, 8, make([]float32, 2*8*c.DModel), make([]int, 16), nil)
	if s.layers[0].selfQKV != nil || s.layers[1].selfQKV == nil {
		t.Fatalf("joined: layer 0 %v, layer 1 %v; want only layer 1", s.layers[0].selfQKV != nil, s.layers[1].selfQKV != nil)
	}
	if steps := incrementalError(t, tr); steps > 1e-4 {
		t.Errorf("cached steps differ from the graph by %.3g", steps)
	}
}
