package model

import (
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/half"
	"github.com/gotransformer/transformer/layers"
)

// HalfWeights lists the parameters a translator may hold as 16-bit
// numbers (graph.Store.AllowHalf): the weight matrices of every attention
// projection and feed-forward layer, the embeddings and the output
// projection, which the graphs and the graph-free decoder read only
// through products and lookups that convert them to float32. Biases, layer
// norms and position tables stay float32.
func (m *Transformer) HalfWeights() []string {
	names := m.layerMatrices()
	names = append(names, m.SrcEmbed.Name+".weight")
	if m.TgtEmbed.Name != m.SrcEmbed.Name {
		names = append(names, m.TgtEmbed.Name+".weight")
	}
	if !m.Config.TieOutput {
		names = append(names, m.Output.Name+".weight")
	}
	have := names[:0]
	for _, n := range names {
		if m.Store.Get(n) != nil {
			have = append(have, n)
		}
	}
	return have
}

// layerMatrices lists the weight matrices of every attention projection
// and feed-forward layer, encoder then decoder.
func (m *Transformer) layerMatrices() []string {
	var names []string
	attn := func(a layers.MultiHeadAttention) {
		for _, p := range []string{"q_proj", "k_proj", "v_proj", "out_proj"} {
			names = append(names, a.Name+"."+p+".weight")
		}
	}
	ff := func(f layers.FeedForward) { names = append(names, f.Name+".linear1.weight", f.Name+".linear2.weight") }
	for _, l := range m.Encoder.Layers {
		attn(l.SelfAttn)
		ff(l.FF)
	}
	for _, l := range m.Decoder.Layers {
		attn(l.SelfAttn)
		attn(l.CrossAttn)
		ff(l.FF)
	}
	return names
}

// ToHalf rounds the weights HalfWeights lists to format f (0: back to
// float32) and returns how many tensors it converted. The model then
// translates and evaluates with float32 arithmetic on half the weight
// memory; it cannot be trained.
func (m *Transformer) ToHalf(f half.Format) (int, error) { return m.Store.ToHalf(f) }

func allowHalf(m *Transformer) {
	if m.Store.Dtype() == tensor.Float32 {
		m.Store.AllowHalf(m.HalfWeights()...)
	}
}
