package layers

import (
	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
)

// Linear is the affine map y = x·W + b with W of shape [In, Out] (the
// transpose of PyTorch's nn.Linear weight) and b of shape [Out].
type Linear struct {
	Name    string // parameter prefix: Name+".weight", Name+".bias"
	In, Out int
	NoBias  bool
}

// Forward maps x [N, In] to [N, Out], with the bias as one fused op
// (graph.Affine, or its composed reference with b.Composed).
func (l Linear) Forward(b *graph.Builder, x *G.Node) *G.Node {
	w := b.Param(l.Name+".weight", nil, l.In, l.Out)
	if l.NoBias {
		return b.MatMul(x, w)
	}
	bias := b.Param(l.Name+".bias", graph.Zeros, l.Out)
	return b.Affine(x, w, bias)
}
