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

// Forward maps x [N, In] to [N, Out].
func (l Linear) Forward(b *graph.Builder, x *G.Node) *G.Node {
	w := b.Param(l.Name+".weight", nil, l.In, l.Out)
	y := G.Must(G.Mul(x, w))
	if l.NoBias {
		return y
	}
	bias := b.Param(l.Name+".bias", graph.Zeros, l.Out)
	return G.Must(G.BroadcastAdd(y, bias, nil, []byte{0}))
}
