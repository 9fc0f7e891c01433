package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/layers"
)

// DecoderLayer is masked self-attention, cross-attention over the encoder's
// output (the memory), and a feed-forward network, each with its residual
// connection, dropout and layer norm (post-LN or pre-LN as in EncoderLayer).
type DecoderLayer struct {
	Name                string
	SelfAttn, CrossAttn layers.MultiHeadAttention
	FF                  layers.FeedForward
	Norm1, Norm2, Norm3 layers.LayerNorm
	NormFirst           bool
	Dropout             float64
}

func newDecoderLayer(name string, c Config) DecoderLayer {
	norm := func(i int) layers.LayerNorm {
		return layers.LayerNorm{Name: fmt.Sprintf("%s.norm%d", name, i), Dim: c.DModel, Eps: c.LayerNormEps}
	}
	return DecoderLayer{
		Name: name,
		SelfAttn: layers.MultiHeadAttention{Name: name + ".self_attn", DModel: c.DModel, Heads: c.Heads, Dropout: c.AttentionDropout,
			Spec: c.Decoder.Attention.Spec(true), Positions: c.stackPositions("decoder", "tgt_pos")},
		CrossAttn: layers.MultiHeadAttention{Name: name + ".multihead_attn", DModel: c.DModel, Heads: c.Heads, Dropout: c.AttentionDropout},
		FF:        layers.FeedForward{Name: name, DModel: c.DModel, Hidden: c.FFDim, Activation: c.Activation, Dropout: c.Dropout},
		Norm1:     norm(1), Norm2: norm(2), Norm3: norm(3),
		NormFirst: c.NormFirst,
		Dropout:   c.Dropout,
	}
}

// Forward maps the target stream x [batch·tgtLen, d] given the memory
// [batch·srcLen, d]. selfMask [batch, 1, tgtLen, tgtLen] is causal plus
// target padding; crossMask [batch, 1, tgtLen, srcLen] hides source padding.
// Sliding-window and linear self-attention use the target key padding
// tgtPad [batch, tgtLen] instead of selfMask. When b.Weights is set, the
// attention weights are marked as Name+".self_attn.weights" (full
// self-attention only) and Name+".multihead_attn.weights".
func (l DecoderLayer) Forward(b *graph.Builder, x, memory *G.Node, batch, tgtLen, srcLen int, selfMask, tgtPad, crossMask *G.Node) *G.Node {
	self := func(h *G.Node) *G.Node {
		out, w := l.SelfAttn.Self(b, h, batch, tgtLen, selfMask, tgtPad)
		if w != nil {
			b.Mark(l.SelfAttn.Name+".weights", w)
		}
		return out
	}
	cross := func(h *G.Node) *G.Node {
		out, w := l.CrossAttn.Forward(b, h, memory, batch, tgtLen, srcLen, crossMask)
		if w != nil {
			b.Mark(l.CrossAttn.Name+".weights", w)
		}
		return out
	}
	ff := func(h *G.Node) *G.Node { return l.FF.Forward(b, h) }
	x = residual(b, x, l.Norm1, l.NormFirst, l.Dropout, self)
	x = residual(b, x, l.Norm2, l.NormFirst, l.Dropout, cross)
	return residual(b, x, l.Norm3, l.NormFirst, l.Dropout, ff)
}

// Decoder is a stack of decoder layers with an optional final layer norm.
type Decoder struct {
	Layers []DecoderLayer
	Norm   *layers.LayerNorm
}

// NewDecoder describes a decoder stack named name from c.
func NewDecoder(name string, c Config) Decoder {
	d := Decoder{}
	for i := 0; i < c.DecoderLayers; i++ {
		d.Layers = append(d.Layers, newDecoderLayer(fmt.Sprintf("%s.layers.%d", name, i), c))
	}
	if c.FinalNorm {
		d.Norm = &layers.LayerNorm{Name: name + ".norm", Dim: c.DModel, Eps: c.LayerNormEps}
	}
	return d
}

// Forward runs the stack: its layers, then its final norm.
func (d Decoder) Forward(b *graph.Builder, x, memory *G.Node, batch, tgtLen, srcLen int, selfMask, tgtPad, crossMask *G.Node) *G.Node {
	return d.Finish(b, d.Stack(b, x, memory, batch, tgtLen, srcLen, selfMask, tgtPad, crossMask))
}

// Stack runs the layers alone, each one block of b.Checkpoint (recomputed
// during backward when b.Checkpointing is set).
func (d Decoder) Stack(b *graph.Builder, x, memory *G.Node, batch, tgtLen, srcLen int, selfMask, tgtPad, crossMask *G.Node) *G.Node {
	for _, l := range d.Layers {
		x = b.Checkpoint(l.Name, G.Nodes{x, memory}, G.Nodes{selfMask, tgtPad, crossMask}, func(b *graph.Builder, x, aux G.Nodes) *G.Node {
			return l.Forward(b, x[0], x[1], batch, tgtLen, srcLen, aux[0], aux[1], aux[2])
		})
	}
	return x
}

// Finish applies the stack's final layer norm, if it has one.
func (d Decoder) Finish(b *graph.Builder, x *G.Node) *G.Node {
	if d.Norm != nil {
		return d.Norm.Forward(b, x)
	}
	return x
}
