package model

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
)

func TestAttentionMaps(t *testing.T) {
	c := tinyConfig(true)
	c.EncoderLayers, c.DecoderLayers = 2, 2
	m, err := New(c, tensor.Float64, 3)
	if err != nil {
		t.Fatal(err)
	}
	tr := NewTranslator(m, 0)
	defer tr.Close()
	src, tgt := []int{4, 5, 6, 3}, []int{2, 7, 8}
	a, err := tr.Attention(src, tgt)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Encoder) != 2 || len(a.DecoderSelf) != 2 || len(a.Cross) != 2 {
		t.Fatalf("layers: %d %d %d", len(a.Encoder), len(a.DecoderSelf), len(a.Cross))
	}
	shapes := map[string][2]int{EncoderSelf: {4, 4}, DecoderSelf: {3, 3}, Cross: {3, 4}}
	for kind, qk := range shapes {
		for layer := 0; layer < 2; layer++ {
			for head := 0; head < c.Heads; head++ {
				rows, err := a.Matrix(kind, layer, head)
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) != qk[0] || len(rows[0]) != qk[1] {
					t.Fatalf("%s: %dx%d, want %v", kind, len(rows), len(rows[0]), qk)
				}
				for q, row := range rows {
					sum := 0.0
					for k, w := range row {
						sum += w
						if kind == DecoderSelf && k > q && w != 0 {
							t.Errorf("decoder layer %d head %d: position %d sees the future (%d): %g", layer, head, q, k, w)
						}
					}
					if math.Abs(sum-1) > 1e-12 {
						t.Errorf("%s layer %d head %d row %d sums to %g", kind, layer, head, q, sum)
					}
				}
			}
		}
	}
	// Forward-only machines may overwrite a node's value in place with a
	// later op: each map must equal the weights of a graph that ends there.
	for li, l := range m.Decoder.Layers {
		for _, name := range []string{l.SelfAttn.Name + ".weights", l.CrossAttn.Name + ".weights"} {
			want := alone(t, m, name, src, tgt)
			got := a.DecoderSelf[li]
			if name == l.CrossAttn.Name+".weights" {
				got = a.Cross[li]
			}
			g := graph.Float64s(got)
			for i := range want {
				if g[i] != want[i] {
					t.Fatalf("%s differs from the isolated graph at %d: %g vs %g", name, i, g[i], want[i])
				}
			}
		}
	}
	if _, err := a.Matrix("sideways", 0, 0); err == nil {
		t.Error("no error for an unknown kind")
	}
	if _, err := a.Matrix(Cross, 2, 0); err == nil {
		t.Error("no error for layer out of range")
	}
	if _, err := a.Matrix(Cross, 0, 2); err == nil {
		t.Error("no error for head out of range")
	}
	if _, err := tr.Attention(nil, tgt); err == nil {
		t.Error("no error for an empty source")
	}
}

// alone computes one marked node in a graph rooted at it alone.
func alone(t *testing.T, m *Transformer, name string, src, tgt []int) []float64 {
	b := graph.NewBuilder(m.Store, false)
	b.Weights = true
	var in *Inputs
	if err := graph.Build(func() { in = m.NewInputs(b, 1, len(src), len(tgt)); m.Forward(b, in) }); err != nil {
		t.Fatal(err)
	}
	n := b.Marked(name)
	vm := G.NewTapeMachine(b.G.SubgraphRoots(n))
	defer vm.Close()
	if err := in.Bind(src, tgt); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return append([]float64(nil), graph.Float64s(n.Value().(*tensor.Dense))...)
}
