package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/layers"
)

// EncoderLayer is self-attention followed by a feed-forward network, each
// wrapped in a residual connection with dropout and layer normalisation:
//
//	post-LN: x = LN1(x + Drop(SelfAttn(x)));  x = LN2(x + Drop(FFN(x)))
//	pre-LN:  x = x + Drop(SelfAttn(LN1(x)));  x = x + Drop(FFN(LN2(x)))
type EncoderLayer struct {
	Name         string
	SelfAttn     layers.MultiHeadAttention
	FF           layers.FeedForward
	Norm1, Norm2 layers.LayerNorm
	NormFirst    bool
	Dropout      float64
}

func newEncoderLayer(name string, c Config) EncoderLayer {
	return EncoderLayer{
		Name: name,
		SelfAttn: layers.MultiHeadAttention{Name: name + ".self_attn", DModel: c.DModel, Heads: c.Heads, Dropout: c.AttentionDropout,
			Spec: c.Encoder.Attention.Spec(false), Positions: c.stackPositions("encoder", "src_pos")},
		FF:        layers.FeedForward{Name: name, DModel: c.DModel, Hidden: c.FFDim, Activation: c.Activation, Dropout: c.Dropout},
		Norm1:     layers.LayerNorm{Name: name + ".norm1", Dim: c.DModel, Eps: c.LayerNormEps},
		Norm2:     layers.LayerNorm{Name: name + ".norm2", Dim: c.DModel, Eps: c.LayerNormEps},
		NormFirst: c.NormFirst,
		Dropout:   c.Dropout,
	}
}

// Forward maps x [batch·seqLen, d] to the same shape. Full attention uses
// the additive self-attention mask [batch, 1, seqLen, seqLen] and, when
// b.Weights is set, marks its weights as Name+".self_attn.weights"; sliding-window and linear attention
// use the key padding pad [batch, seqLen] instead.
func (l EncoderLayer) Forward(b *graph.Builder, x *G.Node, batch, seqLen int, mask, pad *G.Node) *G.Node {
	attn := func(h *G.Node) *G.Node {
		out, w := l.SelfAttn.Self(b, h, batch, seqLen, mask, pad)
		if w != nil {
			b.Mark(l.SelfAttn.Name+".weights", w)
		}
		return out
	}
	ff := func(h *G.Node) *G.Node { return l.FF.Forward(b, h) }
	x = residual(b, x, l.Norm1, l.NormFirst, l.Dropout, attn)
	return residual(b, x, l.Norm2, l.NormFirst, l.Dropout, ff)
}

// residual applies one sublayer f with its residual connection, dropout and
// layer norm, after (post-LN) or before (pre-LN) the sublayer.
func residual(b *graph.Builder, x *G.Node, norm layers.LayerNorm, normFirst bool, p float64, f func(*G.Node) *G.Node) *G.Node {
	if normFirst {
		y := f(norm.Forward(b, x))
		return b.Residual(x, y, b.DropoutMask(p, y.Shape()...))
	}
	y := f(x)
	return norm.Forward(b, b.Residual(x, y, b.DropoutMask(p, y.Shape()...)))
}

// Encoder is a stack of encoder layers with an optional final layer norm
// (as PyTorch's nn.TransformerEncoder with norm=LayerNorm).
type Encoder struct {
	Layers []EncoderLayer
	Norm   *layers.LayerNorm
}

// NewEncoder describes an encoder stack named name (for example "encoder")
// from c: c.EncoderLayers layers named name+".layers.i", and a final norm
// name+".norm" when c.FinalNorm is set.
func NewEncoder(name string, c Config) Encoder {
	e := Encoder{}
	for i := 0; i < c.EncoderLayers; i++ {
		e.Layers = append(e.Layers, newEncoderLayer(fmt.Sprintf("%s.layers.%d", name, i), c))
	}
	if c.FinalNorm {
		e.Norm = &layers.LayerNorm{Name: name + ".norm", Dim: c.DModel, Eps: c.LayerNormEps}
	}
	return e
}

// Forward runs the stack on x [batch·seqLen, d] (see EncoderLayer.Forward
// for mask and pad).
// Each layer is one block of b.Checkpoint, recomputed during backward when
// b.Checkpointing is set.
func (e Encoder) Forward(b *graph.Builder, x *G.Node, batch, seqLen int, mask, pad *G.Node) *G.Node {
	for _, l := range e.Layers {
		x = b.Checkpoint(l.Name, G.Nodes{x}, G.Nodes{mask, pad}, func(b *graph.Builder, x, aux G.Nodes) *G.Node {
			return l.Forward(b, x[0], batch, seqLen, aux[0], aux[1])
		})
	}
	return e.Finish(b, x)
}

// Finish applies the stack's final layer norm, if it has one, to the last
// layer's output.
func (e Encoder) Finish(b *graph.Builder, x *G.Node) *G.Node {
	if e.Norm != nil {
		return e.Norm.Forward(b, x)
	}
	return x
}
