package layers

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
)

// Rotary position embeddings (RoPE, Su et al. 2021, "RoFormer"): each
// head's query and key dimensions are taken in pairs (2i, 2i+1) and the
// pair at position p is rotated by the angle p·θ_i, θ_i = 10000^(−2i/Dh),
//
//	x'_{2i}   = x_{2i}·cos(pθ_i) − x_{2i+1}·sin(pθ_i)
//	x'_{2i+1} = x_{2i}·sin(pθ_i) + x_{2i+1}·cos(pθ_i)
//
// so that the score q'·k' depends on the positions only through their
// difference. Nothing is added to the embeddings. Written with Gorgonia
// primitives only, x' = x ⊙ C + (x·R) ⊙ S for the cosine and sine tables C
// and S and the fixed pair-swapping matrix R, so its gradients are
// Gorgonia's own.
func init() {
	RegisterPositions("rope", PositionKind{
		New: func(p PositionParams) (PositionalEncoding, error) {
			return Rotary{Name: p.Stack + ".rope", DModel: p.DModel, Heads: p.Heads}, nil
		},
		Check: func(p PositionParams) error {
			if p.Heads <= 0 || p.DModel%p.Heads != 0 || (p.DModel/p.Heads)%2 != 0 {
				return &KeyError{"d_model", fmt.Sprintf("rope positions rotate pairs of each head's dimensions, so d_model/heads must be even, got %d/%d", p.DModel, p.Heads)}
			}
			return nil
		}})
}

// Rotary is the rotary position embedding of one stack's self-attention.
type Rotary struct {
	NoPositions
	Name          string // names the tables' graph inputs
	DModel, Heads int
}

// QueryKey rotates the rows of q and k [batch·seqLen, DModel].
func (r Rotary) QueryKey(b *graph.Builder, q, k *G.Node, batch, seqLen int) (*G.Node, *G.Node) {
	c, s, rot := r.tables(b, batch, seqLen)
	apply := func(x *G.Node) *G.Node {
		return G.Must(G.Add(G.Must(G.HadamardProd(x, c)), G.Must(G.HadamardProd(G.Must(G.Mul(x, rot)), s))))
	}
	return apply(q), apply(k)
}

// tables returns the inputs C and S [batch·seqLen, DModel] and R
// [DModel, DModel], made once per graph and shared by its layers.
func (r Rotary) tables(b *graph.Builder, batch, seqLen int) (c, s, rot *G.Node) {
	name := fmt.Sprintf("%s.%dx%d", r.Name, batch, seqLen)
	if c = b.InputNode(name + ".cos"); c != nil {
		return c, b.InputNode(name + ".sin"), b.InputNode(name + ".rot")
	}
	d, dh := r.DModel, r.DModel/r.Heads
	cv, sv := make([]float64, batch*seqLen*d), make([]float64, batch*seqLen*d)
	for row := 0; row < batch*seqLen; row++ {
		p := float64(row % seqLen)
		for col := 0; col < d; col++ {
			i := (col % dh) / 2
			angle := p * math.Pow(10000, -2*float64(i)/float64(dh))
			cv[row*d+col], sv[row*d+col] = math.Cos(angle), math.Sin(angle)
		}
	}
	rv := make([]float64, d*d)
	for j := 0; j+1 < d; j += 2 {
		rv[(j+1)*d+j] = -1 // (x·R)_{2i} = −x_{2i+1}
		rv[j*d+j+1] = 1    // (x·R)_{2i+1} = x_{2i}
	}
	c, s, rot = b.Input(name+".cos", batch*seqLen, d), b.Input(name+".sin", batch*seqLen, d), b.Input(name+".rot", d, d)
	G.Let(c, graph.FromFloat64s(b.Dtype(), cv, batch*seqLen, d))
	G.Let(s, graph.FromFloat64s(b.Dtype(), sv, batch*seqLen, d))
	G.Let(rot, graph.FromFloat64s(b.Dtype(), rv, d, d))
	return c, s, rot
}
