package graph

import (
	"fmt"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// affineInputs adds x [7, 5], W [5, 6] ([6, 5] when trans) and b [6].
func affineInputs(b *Builder, trans bool) (x, w, bias *G.Node) {
	x = RandomInput(b, "x", 1, 7, 5)
	if trans {
		w = RandomInput(b, "w", 2, 6, 5)
	} else {
		w = RandomInput(b, "w", 2, 5, 6)
	}
	return x, w, RandomInput(b, "b", 3, 6)
}

func TestAffineGradCheck(t *testing.T) {
	for _, trans := range []bool{false, true} {
		b := NewBuilder(NewStore(tensor.Float64, 1), false)
		x, w, bias := affineInputs(b, trans)
		f := Affine
		if trans {
			f = AffineT
		}
		checkGrads(t, fmt.Sprintf("transposed %v", trans), b, f(x, w, bias), G.Nodes{x, w, bias})
	}
}

// The fused op equals Gorgonia's product (Tensordot for the transposed
// form) plus a broadcast bias, in values and in the gradients of x, W and b.
func TestAffineEqualsUnfused(t *testing.T) {
	for _, trans := range []bool{false, true} {
		fused := func(b *Builder) (*G.Node, G.Nodes) {
			x, w, bias := affineInputs(b, trans)
			if trans {
				return AffineT(x, w, bias), G.Nodes{x, w, bias}
			}
			return Affine(x, w, bias), G.Nodes{x, w, bias}
		}
		unfused := func(b *Builder) (*G.Node, G.Nodes) {
			x, w, bias := affineInputs(b, trans)
			if trans {
				return AffineTComposed(x, w, bias), G.Nodes{x, w, bias}
			}
			return AffineComposed(x, w, bias), G.Nodes{x, w, bias}
		}
		for _, c := range tolerances {
			compareFused(t, fmt.Sprintf("transposed %v", trans), c.dt, c.tol, fused, unfused)
		}
	}
}
