package layers

import (
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
)

// padInput adds a key-padding input [batch, s] from per-row padding flags.
func padInput(b *graph.Builder, batch, s int, pad []bool) *G.Node {
	n := b.Input("pad", batch, s)
	for i, p := range pad {
		if p {
			n.Value().Data().([]float64)[i] = graph.MaskValue
		}
	}
	return n
}

func TestMultiHeadSelfAttentionKindsGrad(t *testing.T) {
	pad := []bool{false, false, false, false, true, false, false, false, false, false, false, false}
	for _, spec := range []AttentionSpec{
		{Kind: SlidingWindow, Window: 1, Global: []int{0}},
		{Kind: SlidingWindow, Window: 2, Causal: true},
		{Kind: LinearKernel},
		{Kind: LinearKernel, Causal: true},
		{Chunk: 4},
		{Chunk: 4, Causal: true},
	} {
		b := newBuilder(1)
		x := graph.RandomInput(b, "x", 4, 2*6, 8)
		m := MultiHeadAttention{Name: "attn", DModel: 8, Heads: 2, Spec: spec}
		out, w := m.Self(b, x, 2, 6, nil, padInput(b, 2, 6, pad))
		if w != nil {
			t.Errorf("%+v: attention that never forms its weights returned them", spec)
		}
		checkGrads(t, b, out, x)
	}
}

func TestRelativeBiasAttentionGrad(t *testing.T) {
	for _, bi := range []bool{true, false} {
		b := newBuilder(1)
		x := graph.RandomInput(b, "x", 4, 2*5, 8)
		mask := maskInput(b, "mask", 2, 5, 5, nil, !bi)
		rel := RelativeBias{Name: "rel", Heads: 2, Buckets: 8, MaxDistance: 16, Bidirectional: bi}
		b.Store.Add("rel.weight", graph.Normal(0.5), 2, 8) // non-zero bias
		out, _ := MultiHeadAttention{Name: "attn", DModel: 8, Heads: 2, Positions: rel}.Self(b, x, 2, 5, mask, nil)
		checkGrads(t, b, out, x)
	}
}

// TestSlidingWindowEqualsBandMaskedFull checks the whole layer: sliding-window
// self-attention equals full attention under the band mask with the same
// weights.
func TestSlidingWindowEqualsBandMaskedFull(t *testing.T) {
	const batch, s, d = 2, 9, 8
	pad := make([]bool, batch*s)
	pad[s+8] = true
	band := graph.Band{Window: 2, Global: []int{0}}
	run := func(sparse bool) []float64 {
		b := newBuilder(3)
		x := graph.RandomInput(b, "x", 4, batch*s, d)
		m := MultiHeadAttention{Name: "attn", DModel: d, Heads: 2}
		var out *G.Node
		if sparse {
			m.Spec = AttentionSpec{Kind: SlidingWindow, Window: band.Window, Global: band.Global}
			out, _ = m.Self(b, x, batch, s, nil, padInput(b, batch, s, pad))
		} else {
			mask := maskInput(b, "mask", batch, s, s, pad, false)
			md, bm := mask.Value().Data().([]float64), band.Mask(s)
			for r := 0; r < batch; r++ {
				for i := range bm {
					md[r*s*s+i] += bm[i]
				}
			}
			out, _ = m.Self(b, x, batch, s, mask, nil)
		}
		vm := G.NewTapeMachine(b.G)
		defer vm.Close()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		return append([]float64(nil), out.Value().Data().([]float64)...)
	}
	got, want := run(true), run(false)
	for i := range got {
		if d := got[i] - want[i]; d > 1e-10 || d < -1e-10 {
			t.Fatalf("element %d: %g, masked full attention gives %g", i, got[i], want[i])
		}
	}
}

func TestAttentionSpecCheck(t *testing.T) {
	for _, tc := range []struct {
		spec AttentionSpec
		want string
	}{
		{AttentionSpec{Kind: "sparse"}, "unknown attention kind"},
		{AttentionSpec{Kind: SlidingWindow}, "positive window"},
		{AttentionSpec{Kind: LinearKernel, Window: 4}, "only sliding_window"},
		{AttentionSpec{Kind: FullAttention, Global: []int{0}}, "only sliding_window"},
		{AttentionSpec{Kind: SlidingWindow, Window: 2, Global: []int{-1}}, "negative"},
		{AttentionSpec{Chunk: -1}, "chunk must be positive"},
		{AttentionSpec{Kind: LinearKernel, Chunk: 8}, "only full attention is computed in chunks"},
		{AttentionSpec{Kind: SlidingWindow, Window: 2, Chunk: 8}, "only full attention is computed in chunks"},
	} {
		err := tc.spec.Check()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one containing %q", tc.spec, err, tc.want)
		}
	}
	m := MultiHeadAttention{DModel: 8, Heads: 2, Spec: AttentionSpec{Kind: LinearKernel}, Positions: RelativeBias{}}
	if err := m.Validate(); err == nil || !strings.Contains(err.Error(), "needs full attention") {
		t.Errorf("relative bias with linear attention: error %v", err)
	}
	m.Spec = AttentionSpec{Chunk: 16}
	if err := m.Validate(); err == nil || !strings.Contains(err.Error(), "without chunks") {
		t.Errorf("relative bias with chunked attention: error %v", err)
	}
	if err := (AttentionSpec{Kind: SlidingWindow, Window: 3, Global: []int{0}}).Check(); err != nil {
		t.Errorf("valid spec rejected: %v", err)
	}
}
