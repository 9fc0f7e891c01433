package graph

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// attnCase is one set of attention operands [B, H, n, d] with key padding.
type attnCase struct {
	b, h, n, d int
	padded     []int // per batch row: how many trailing positions are padding
}

func (c attnCase) pad() []float64 {
	p := make([]float64, c.b*c.n)
	for i, padded := range trailingPad(c.n, c.padded) {
		if padded {
			p[i] = MaskValue
		}
	}
	return p
}

// trailingPad marks the last padded[r] of the n positions of each row r.
func trailingPad(n int, padded []int) []bool {
	p := make([]bool, len(padded)*n)
	for r, k := range padded {
		for j := n - k; j < n; j++ {
			p[r*n+j] = true
		}
	}
	return p
}

// inputs adds q, k, v and pad to b, with the same values in every builder.
func (c attnCase) inputs(b *Builder) (q, k, v, pad *G.Node) {
	q = RandomInput(b, "q", 1, c.b, c.h, c.n, c.d)
	k = RandomInput(b, "k", 2, c.b, c.h, c.n, c.d)
	v = RandomInput(b, "v", 3, c.b, c.h, c.n, c.d)
	pad = b.Input("pad", c.b, c.n)
	copy(pad.Value().Data().([]float64), c.pad())
	return q, k, v, pad
}

// maskedFull is full attention as a graph of Gorgonia ops under the
// additive mask [B, 1, n, n] built from band and pad.
func (c attnCase) maskedFull(b *Builder, q, k, v *G.Node, band Band) *G.Node {
	m := b.Input("mask", c.b, 1, c.n, c.n)
	md, bm, pad := m.Value().Data().([]float64), band.Mask(c.n), c.pad()
	for r := 0; r < c.b; r++ {
		for i := 0; i < c.n; i++ {
			for j := 0; j < c.n; j++ {
				md[(r*c.n+i)*c.n+j] = bm[i*c.n+j] + pad[r*c.n+j]
			}
		}
	}
	q = G.Must(G.Mul(q, b.Const(1/math.Sqrt(float64(c.d)))))
	s := G.Must(G.BroadcastAdd(G.Must(G.BatchedMatMul(q, k, false, true)), m, nil, []byte{1}))
	return G.Must(G.BatchedMatMul(SoftMax(s), v))
}

// gradsOf builds a graph with build twice: once to read its output from a
// forward run, and once to run cost = Probe(out) forward and backward and
// read the gradients of wrt. (A backward pass may reuse the output's
// memory, so the output is not read from it.)
func gradsOf(t *testing.T, build func(b *Builder) (out *G.Node, wrt G.Nodes)) ([]float64, [][]float64) {
	t.Helper()
	b := NewBuilder(NewStore(tensor.Float64, 1), false)
	out, _ := build(b)
	vm := G.NewTapeMachine(b.G)
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	value := append([]float64(nil), out.Value().Data().([]float64)...)
	vm.Close()

	b = NewBuilder(NewStore(tensor.Float64, 1), false)
	out, wrt := build(b)
	if _, err := G.Grad(Probe(b, out, 9), wrt...); err != nil {
		t.Fatal(err)
	}
	vm = G.NewTapeMachine(b.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	var grads [][]float64
	for _, n := range wrt {
		g, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		grads = append(grads, append([]float64(nil), g.Data().([]float64)...))
	}
	return value, grads
}

func maxAbsDiff(a, b []float64) float64 {
	worst := 0.0
	for i := range a {
		worst = math.Max(worst, math.Abs(a[i]-b[i]))
	}
	return worst
}

var bandCases = []struct {
	name string
	band Band
}{
	{"window 2", Band{Window: 2}},
	{"window 2, global 0 and 7", Band{Window: 2, Global: []int{7, 0}}},
	{"causal window 3", Band{Window: 3, Causal: true}},
	{"causal window 1, global 0 and 5", Band{Window: 1, Global: []int{0, 5}, Causal: true}},
	{"window wider than the sequence", Band{Window: 40, Global: []int{99}}},
}

// TestBandAttentionEqualsMaskedFull checks the band computation against full
// attention with the band mask, values and gradients, to 1e-10.
func TestBandAttentionEqualsMaskedFull(t *testing.T) {
	c := attnCase{b: 2, h: 2, n: 13, d: 4, padded: []int{0, 2}}
	for _, tc := range bandCases {
		got, gotGrads := gradsOf(t, func(b *Builder) (*G.Node, G.Nodes) {
			q, k, v, pad := c.inputs(b)
			return BandAttention(q, k, v, pad, tc.band), G.Nodes{q, k, v}
		})
		want, wantGrads := gradsOf(t, func(b *Builder) (*G.Node, G.Nodes) {
			q, k, v, _ := c.inputs(b)
			return c.maskedFull(b, q, k, v, tc.band), G.Nodes{q, k, v}
		})
		if d := maxAbsDiff(got, want); d > 1e-10 {
			t.Errorf("%s: output differs from masked full attention by %g", tc.name, d)
		}
		for i, name := range []string{"q", "k", "v"} {
			if d := maxAbsDiff(gotGrads[i], wantGrads[i]); d > 1e-10 {
				t.Errorf("%s: d%s differs from masked full attention by %g", tc.name, name, d)
			}
		}
	}
}

func TestBandAttentionGradCheck(t *testing.T) {
	c := attnCase{b: 1, h: 2, n: 9, d: 3, padded: []int{1}}
	for _, tc := range bandCases {
		b := NewBuilder(NewStore(tensor.Float64, 1), false)
		q, k, v, pad := c.inputs(b)
		checkGradsTol(t, tc.name, b, BandAttention(q, k, v, pad, tc.band), G.Nodes{q, k, v}, 1e-6)
	}
}

func TestBandKeys(t *testing.T) {
	bd := Band{Window: 1, Global: []int{0, 6}}
	for _, tc := range []struct {
		i    int
		want []int
	}{{0, []int{0, 1, 2, 3, 4, 5, 6, 7}}, {3, []int{0, 2, 3, 4, 6}}, {7, []int{0, 6, 7}}, {1, []int{0, 1, 2, 6}}} {
		got := bd.Keys(nil, tc.i, 8)
		if len(got) != len(tc.want) {
			t.Errorf("keys of %d = %v, want %v", tc.i, got, tc.want)
			continue
		}
		for x := range got {
			if got[x] != tc.want[x] {
				t.Errorf("keys of %d = %v, want %v", tc.i, got, tc.want)
				break
			}
		}
	}
	causal := Band{Window: 2, Global: []int{5}, Causal: true}
	if got := causal.Keys(nil, 4, 8); len(got) != 3 || got[0] != 2 || got[2] != 4 {
		t.Errorf("causal keys of 4 = %v, want [2 3 4]", got)
	}
	if got := causal.Keys(nil, 7, 8); len(got) != 3 || got[0] != 5 || got[1] != 6 {
		t.Errorf("causal keys of 7 = %v, want [5 6 7]", got)
	}
}

// quadraticLinear is linear attention in its quadratic form, as Gorgonia
// ops: A = (fq·fkᵀ) ⊙ M, ctx = A·v / (A·1 + ε), where M hides padding keys
// and, when causal, keys after the query.
func (c attnCase) quadraticLinear(b *Builder, fq, fk, v *G.Node, causal bool) *G.Node {
	m := b.Input("keep", c.b, c.h, c.n, c.n)
	md, pad := m.Value().Data().([]float64), c.pad()
	for r := 0; r < c.b; r++ {
		for h := 0; h < c.h; h++ {
			for i := 0; i < c.n; i++ {
				for j := 0; j < c.n; j++ {
					if pad[r*c.n+j] == 0 && (!causal || j <= i) {
						md[((r*c.h+h)*c.n+i)*c.n+j] = 1
					}
				}
			}
		}
	}
	a := G.Must(G.HadamardProd(G.Must(G.BatchedMatMul(fq, fk, false, true)), m))
	num := G.Must(G.BatchedMatMul(a, v))
	// Row sums of A, repeated along the value axis.
	ones := b.Input("ones", c.b, c.h, c.n, c.d)
	for i := range ones.Value().Data().([]float64) {
		ones.Value().Data().([]float64)[i] = 1
	}
	den := G.Must(G.Add(G.Must(G.BatchedMatMul(a, ones)), b.Const(LinearEps)))
	return G.Must(G.HadamardDiv(num, den))
}

// TestLinearAttentionEqualsQuadraticForm checks the running-sum computation
// against the quadratic form, values and gradients, to 1e-10.
func TestLinearAttentionEqualsQuadraticForm(t *testing.T) {
	c := attnCase{b: 2, h: 2, n: 11, d: 4, padded: []int{0, 3}}
	for _, causal := range []bool{false, true} {
		got, gotGrads := gradsOf(t, func(b *Builder) (*G.Node, G.Nodes) {
			q, k, v, pad := c.inputs(b)
			return LinearAttention(EluPlusOne(q), EluPlusOne(k), v, pad, causal), G.Nodes{q, k, v}
		})
		want, wantGrads := gradsOf(t, func(b *Builder) (*G.Node, G.Nodes) {
			q, k, v, _ := c.inputs(b)
			return c.quadraticLinear(b, EluPlusOne(q), EluPlusOne(k), v, causal), G.Nodes{q, k, v}
		})
		if d := maxAbsDiff(got, want); d > 1e-10 {
			t.Errorf("causal=%v: output differs from the quadratic form by %g", causal, d)
		}
		for i, name := range []string{"q", "k", "v"} {
			if d := maxAbsDiff(gotGrads[i], wantGrads[i]); d > 1e-10 {
				t.Errorf("causal=%v: d%s differs from the quadratic form by %g", causal, name, d)
			}
		}
	}
}

func TestLinearAttentionGradCheck(t *testing.T) {
	c := attnCase{b: 1, h: 2, n: 7, d: 3, padded: []int{2}}
	for _, causal := range []bool{false, true} {
		b := NewBuilder(NewStore(tensor.Float64, 1), false)
		q, k, v, pad := c.inputs(b)
		out := LinearAttention(EluPlusOne(q), EluPlusOne(k), v, pad, causal)
		checkGradsTol(t, fmt.Sprintf("causal=%v", causal), b, out, G.Nodes{q, k, v}, 1e-6)
	}
}

func TestEluPlusOne(t *testing.T) {
	got, _ := gradsOf(t, func(b *Builder) (*G.Node, G.Nodes) {
		x := b.Input("x", 4)
		copy(x.Value().Data().([]float64), []float64{-2, -0.5, 0.25, 3})
		return EluPlusOne(x), G.Nodes{x}
	})
	want := []float64{math.Exp(-2), math.Exp(-0.5), 1.25, 4}
	if d := maxAbsDiff(got, want); d > 1e-15 {
		t.Errorf("elu+1 = %v, want %v", got, want)
	}
	b := NewBuilder(NewStore(tensor.Float64, 1), false)
	x := RandomInput(b, "x", 4, 3, 5)
	res, err := GradCheckOutput(b, EluPlusOne(x), G.Nodes{x}, GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].MaxRelErr > 1e-6 {
		t.Errorf("max relative error %g", res[0].MaxRelErr)
	}
}

// With one (batch, head) pair and a long sequence, the band op splits the
// queries across CPUs, each part summing dk and dv in buffers of its own:
// the result still equals masked full attention.
func TestBandAttentionSplitQueries(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	c := attnCase{b: 1, h: 1, n: 300, d: 4, padded: []int{3}}
	for _, band := range []Band{{Window: 5, Global: []int{0, 150}}, {Window: 4, Global: []int{0}, Causal: true}} {
		got, gotGrads := gradsOf(t, func(b *Builder) (*G.Node, G.Nodes) {
			q, k, v, pad := c.inputs(b)
			return BandAttention(q, k, v, pad, band), G.Nodes{q, k, v}
		})
		want, wantGrads := gradsOf(t, func(b *Builder) (*G.Node, G.Nodes) {
			q, k, v, _ := c.inputs(b)
			return c.maskedFull(b, q, k, v, band), G.Nodes{q, k, v}
		})
		if d := maxAbsDiff(got, want); d > 1e-10 {
			t.Errorf("%+v: output differs from masked full attention by %g", band, d)
		}
		for i, name := range []string{"q", "k", "v"} {
			if d := maxAbsDiff(gotGrads[i], wantGrads[i]); d > 1e-10 {
				t.Errorf("%+v: d%s differs from masked full attention by %g", band, name, d)
			}
		}
	}
}
