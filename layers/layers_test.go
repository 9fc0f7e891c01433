package layers

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/graph/gradtest"
)

// newBuilder returns a float64 builder whose weights are random.
func newBuilder(seed int64) *graph.Builder {
	s := graph.NewStore(tensor.Float64, seed)
	s.WeightInit = graph.Normal(0.5)
	return graph.NewBuilder(s, false)
}

// maskInput adds an attention-mask input.
func maskInput(b *graph.Builder, name string, batch, sq, sk int, pad []bool, causal bool) *G.Node {
	n := b.Input(name, batch, 1, sq, sk)
	graph.FillAttentionMask(n.Value().(*tensor.Dense), pad, causal)
	return n
}

func checkGrads(t *testing.T, b *graph.Builder, out *G.Node, wrt ...*G.Node) {
	t.Helper()
	gradtest.Check(t, b, out, 40, wrt...)
}

func TestScaledDotProductAttentionGrad(t *testing.T) {
	for _, causal := range []bool{false, true} {
		b := newBuilder(1)
		q := graph.RandomInput(b, "q", 1, 2, 2, 3, 4)
		k := graph.RandomInput(b, "k", 2, 2, 2, 3, 4)
		v := graph.RandomInput(b, "v", 3, 2, 2, 3, 4)
		pad := []bool{false, false, true, false, false, false}
		mask := maskInput(b, "mask", 2, 3, 3, pad, causal)
		ctx, _ := ScaledDotProductAttention(b, q, k, v, mask, nil, 0)
		checkGrads(t, b, ctx, q, k, v)
	}
}

func TestAttentionMaskedKeysGetNoWeight(t *testing.T) {
	b := newBuilder(1)
	q := graph.RandomInput(b, "q", 1, 1, 1, 3, 2)
	k := graph.RandomInput(b, "k", 2, 1, 1, 3, 2)
	v := graph.RandomInput(b, "v", 3, 1, 1, 3, 2)
	// Row 0 sees key 0 only (causal); key 2 is padding; with a second batch
	// row fully padded below.
	mask := maskInput(b, "mask", 1, 3, 3, []bool{false, false, true}, true)
	_, w := ScaledDotProductAttention(b, q, k, v, mask, nil, 0)
	m := G.NewTapeMachine(b.G)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	got := w.Value().Data().([]float64)
	for i := 0; i < 3; i++ {
		sum := 0.0
		for j := 0; j < 3; j++ {
			p := got[i*3+j]
			sum += p
			if (j > i || j == 2) && p != 0 {
				t.Errorf("weight[%d][%d] = %g, want 0 for a masked key", i, j, p)
			}
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("row %d sums to %g", i, sum)
		}
	}
	if got[0] != 1 {
		t.Errorf("first query sees only key 0: weight %g, want 1", got[0])
	}
}

func TestAttentionFullyMaskedRowIsFinite(t *testing.T) {
	b := newBuilder(1)
	q := graph.RandomInput(b, "q", 1, 1, 2, 2, 4)
	k := graph.RandomInput(b, "k", 2, 1, 2, 2, 4)
	v := graph.RandomInput(b, "v", 3, 1, 2, 2, 4)
	mask := maskInput(b, "mask", 1, 2, 2, []bool{true, true}, false)
	ctx, w := ScaledDotProductAttention(b, q, k, v, mask, nil, 0)
	cost := graph.Probe(b, ctx, 5)
	if _, err := G.Grad(cost, q, k, v); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(b.G)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*G.Node{ctx, w} {
		for i, x := range n.Value().Data().([]float64) {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("%s[%d] = %v", n.Name(), i, x)
			}
		}
	}
	for _, n := range []*G.Node{q, k, v} {
		g, _ := n.Grad()
		for i, x := range g.Data().([]float64) {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("grad %s[%d] = %v", n.Name(), i, x)
			}
		}
	}
	wv := w.Value().Data().([]float64)
	for r := 0; r < len(wv); r += 2 {
		if s := wv[r] + wv[r+1]; math.Abs(s-1) > 1e-12 {
			t.Errorf("fully masked row %d sums to %g", r/2, s)
		}
	}
}

func TestMultiHeadSelfAttentionGrad(t *testing.T) {
	b := newBuilder(2)
	x := graph.RandomInput(b, "x", 1, 2*3, 8)
	mask := maskInput(b, "mask", 2, 3, 3, []bool{false, false, false, false, true, true}, true)
	out, _ := MultiHeadAttention{Name: "attn", DModel: 8, Heads: 2}.Forward(b, x, x, 2, 3, 3, mask)
	checkGrads(t, b, out, x)
}

func TestMultiHeadCrossAttentionGrad(t *testing.T) {
	b := newBuilder(3)
	x := graph.RandomInput(b, "x", 1, 2*2, 8)
	mem := graph.RandomInput(b, "mem", 2, 2*4, 8)
	mask := maskInput(b, "mask", 2, 2, 4, []bool{false, false, false, true, false, false, false, false}, false)
	out, _ := MultiHeadAttention{Name: "attn", DModel: 8, Heads: 4}.Forward(b, x, mem, 2, 2, 4, mask)
	checkGrads(t, b, out, x, mem)
}

func TestMultiHeadValidate(t *testing.T) {
	if err := (MultiHeadAttention{DModel: 10, Heads: 4}).Validate(); err == nil {
		t.Fatal("d_model 10 with 4 heads accepted")
	}
}

func TestFeedForwardGrad(t *testing.T) {
	for _, act := range Activations {
		t.Run(act, func(t *testing.T) {
			b := newBuilder(4)
			x := graph.RandomInput(b, "x", 1, 5, 6)
			out := FeedForward{Name: "ff", DModel: 6, Hidden: 10, Activation: act}.Forward(b, x)
			checkGrads(t, b, out, x)
		})
	}
}

func TestGELUTanhValues(t *testing.T) {
	b := newBuilder(1)
	x := b.Input("x", 4)
	xs := []float64{-3, -0.5, 0, 1.7}
	copy(x.Value().Data().([]float64), xs)
	y := Activate(b, "gelu_tanh", x)
	m := G.NewTapeMachine(b.G)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	for i, v := range xs {
		want := 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
		if got := y.Value().Data().([]float64)[i]; math.Abs(got-want) > 1e-15 {
			t.Errorf("gelu(%g) = %g, want %g", v, got, want)
		}
	}
}

func TestLayerNormGradAndValues(t *testing.T) {
	b := newBuilder(5)
	x := graph.RandomInput(b, "x", 1, 4, 6)
	out := LayerNorm{Name: "ln", Dim: 6, Eps: 1e-5}.Forward(b, x)
	checkGrads(t, b, out, x)

	// With γ=1, β=0 every row has mean 0 and variance var/(var+ε).
	b = newBuilder(5)
	x = graph.RandomInput(b, "x", 1, 3, 8)
	out = LayerNorm{Name: "ln", Dim: 8, Eps: 1e-5}.Forward(b, x)
	m := G.NewTapeMachine(b.G)
	defer m.Close()
	in := append([]float64(nil), x.Value().Data().([]float64)...)
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	y := out.Value().Data().([]float64)
	for r := 0; r < 3; r++ {
		var mu, v, ym float64
		for c := 0; c < 8; c++ {
			mu += in[r*8+c] / 8
		}
		for c := 0; c < 8; c++ {
			v += (in[r*8+c] - mu) * (in[r*8+c] - mu) / 8
		}
		for c := 0; c < 8; c++ {
			want := (in[r*8+c] - mu) / math.Sqrt(v+1e-5)
			if math.Abs(y[r*8+c]-want) > 1e-12 {
				t.Fatalf("row %d col %d: %g, want %g", r, c, y[r*8+c], want)
			}
			ym += y[r*8+c]
		}
		if math.Abs(ym) > 1e-12 {
			t.Errorf("row %d mean %g", r, ym)
		}
	}
}

func TestEmbeddingGrad(t *testing.T) {
	b := newBuilder(6)
	ids := b.IntInput("ids", 5)
	copy(ids.Value().Data().([]int), []int{1, 3, 3, 0, 6})
	e := Embedding{Name: "emb", Vocab: 7, DModel: 4}
	x := e.Forward(b, ids)
	checkGrads(t, b, x)
}

func TestTiedProjectionGrad(t *testing.T) {
	b := newBuilder(7)
	x := graph.RandomInput(b, "x", 1, 3, 4)
	out := Embedding{Name: "emb", Vocab: 5, DModel: 4}.Project(b, x)
	if got := out.Shape(); !got.Eq(tensor.Shape{3, 5}) {
		t.Fatalf("shape %v", got)
	}
	checkGrads(t, b, out, x)
}

func TestLearnedPositionsGrad(t *testing.T) {
	b := newBuilder(8)
	x := graph.RandomInput(b, "x", 1, 2*3, 4)
	out := LearnedPositions{Name: "pos", DModel: 4, Max: 5}.Encode(b, x, 2, 3)
	checkGrads(t, b, out, x)
}

func TestSinusoidalTable(t *testing.T) {
	v := SinusoidalTable(50, 6)
	// PE(pos, 2i) = sin(pos/10000^(2i/d)), PE(pos, 2i+1) = cos(...)
	if got, want := v[7*6+2], math.Sin(7/math.Pow(10000, 2.0/6)); got != want {
		t.Errorf("PE(7,2) = %g, want %g", got, want)
	}
	if got, want := v[7*6+3], math.Cos(7/math.Pow(10000, 2.0/6)); got != want {
		t.Errorf("PE(7,3) = %g, want %g", got, want)
	}
	if v[0] != 0 || v[1] != 1 {
		t.Errorf("PE(0) starts %g %g, want 0 1", v[0], v[1])
	}
}

func TestSinusoidalEncodeAddsTablePerSequence(t *testing.T) {
	b := newBuilder(9)
	x := b.Input("x", 2*3, 4)
	out := Sinusoidal{Name: "pos", DModel: 4}.Encode(b, x, 2, 3)
	m := G.NewTapeMachine(b.G)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	want := SinusoidalTable(3, 4)
	got := out.Value().Data().([]float64)
	for i := range got {
		if got[i] != want[i%12] {
			t.Fatalf("element %d = %g, want %g", i, got[i], want[i%12])
		}
	}
}

func TestDropoutMaskScalesAndTrainsCorrectly(t *testing.T) {
	s := graph.NewStore(tensor.Float64, 1)
	b := graph.NewBuilder(s, true)
	x := graph.RandomInput(b, "x", 1, 200, 50)
	y := b.Dropout(x, 0.25)
	masks := b.DropoutMasks()
	if len(masks) != 1 {
		t.Fatalf("%d masks", len(masks))
	}
	graph.FillDropout(masks, graph.NewRNG(3))
	m := G.NewTapeMachine(b.G)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	xv := x.Value().Data().([]float64)
	yv := y.Value().Data().([]float64)
	zeros := 0
	for i := range yv {
		switch {
		case yv[i] == 0:
			zeros++
		case math.Abs(yv[i]-xv[i]/0.75) > 1e-12:
			t.Fatalf("kept element %d scaled to %g, want %g", i, yv[i], xv[i]/0.75)
		}
	}
	if frac := float64(zeros) / float64(len(yv)); math.Abs(frac-0.25) > 0.02 {
		t.Errorf("dropped fraction %.3f, want 0.25", frac)
	}
	// Not training: dropout is the identity and adds no mask.
	b2 := graph.NewBuilder(s, false)
	x2 := b2.Input("x", 3)
	if b2.Dropout(x2, 0.5) != x2 || len(b2.DropoutMasks()) != 0 {
		t.Error("dropout active at inference")
	}
}

func TestDropoutGrad(t *testing.T) {
	s := graph.NewStore(tensor.Float64, 1)
	b := graph.NewBuilder(s, true)
	x := graph.RandomInput(b, "x", 1, 4, 5)
	y := b.Dropout(x, 0.3)
	graph.FillDropout(b.DropoutMasks(), graph.NewRNG(4))
	checkGrads(t, b, y, x)
}
