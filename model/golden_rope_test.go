package model

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/layers"
)

// TestGoldenRope checks rotary position embeddings (layers/positions_rope.go)
// in self-attention against PyTorch (tools/goldens/long_attention.py:
// RopeMHA), outputs and every gradient, with and without the causal mask.
func TestGoldenRope(t *testing.T) {
	for _, name := range []string{"mha_rope", "mha_rope_causal"} {
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, name)
			d, h := num(f, "d_model"), num(f, "heads")
			causal := f.Config["causal"].(bool)
			s := f.Tensors["input/x"].Shape
			batch, n := s[0], s[1]
			pos, err := layers.NewPositions("rope", layers.PositionParams{Stack: "attn", DModel: d, Heads: h, Causal: causal})
			if err != nil {
				t.Fatal(err)
			}
			b := graph.NewBuilder(graph.NewStore(tensor.Float64, 1), false)
			attn := layers.MultiHeadAttention{Name: "attn", DModel: d, Heads: h, Positions: pos}
			x := f.input(t, b, "x", batch*n, d)
			padFlags := f.bools(t, "input/key_padding_mask")
			mask := b.Input("mask", batch, 1, n, n)
			graph.FillAttentionMask(mask.Value().(*tensor.Dense), padFlags, causal)
			out, _ := attn.Self(b, x, batch, n, mask, nil)
			rename := func(s string) string { return s } // wrapped as .attn
			if err := ImportTorch(b.Store, f.group(t, "param"), rename); err != nil {
				t.Fatal(err)
			}
			f.run(t, b, out, rename, map[string]*G.Node{"x": x})
		})
	}
}
