package layers

import (
	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
)

// FeedForward is the position-wise network FFN(x) = act(x·W1 + b1)·W2 + b2
// of "Attention Is All You Need" §3.3, with dropout after the activation as
// in PyTorch's nn.TransformerEncoderLayer.
type FeedForward struct {
	Name       string // parameters Name+".linear1.*" and Name+".linear2.*"
	DModel     int
	Hidden     int
	Activation string // see Activations
	Dropout    float64
}

// Forward maps x [N, DModel] to [N, DModel].
func (f FeedForward) Forward(b *graph.Builder, x *G.Node) *G.Node {
	h := Linear{Name: f.Name + ".linear1", In: f.DModel, Out: f.Hidden}.Forward(b, x)
	if f.Activation == "relu" { // activation and dropout as one op
		h = b.ReLU(h, b.DropoutMask(f.Dropout, h.Shape()...))
	} else {
		h = b.Dropout(Activate(b, f.Activation, h), f.Dropout)
	}
	return Linear{Name: f.Name + ".linear2", In: f.Hidden, Out: f.DModel}.Forward(b, h)
}
