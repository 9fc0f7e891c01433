package model

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
)

// Int8Weights lists the matrices a translator may hold as int8 (ToInt8):
// the weights of every attention projection and feed-forward layer and the
// output projection, which the graphs and the graph-free decoder read only
// through products. A tied output projection quantises the target
// embedding as used transposed and keeps its float32 table for the
// lookups; embeddings, biases, norms and positions stay float32, as in
// PyTorch's dynamic quantisation of nn.Linear.
func (m *Transformer) Int8Weights() []graph.Int8Weight {
	var ws []graph.Int8Weight
	for _, name := range m.layerMatrices() {
		ws = append(ws, graph.Int8Weight{Name: name})
	}
	if m.Config.TieOutput {
		ws = append(ws, graph.Int8Weight{Name: m.TgtEmbed.Name + ".weight", Trans: true, Keep: true})
	} else {
		ws = append(ws, graph.Int8Weight{Name: m.Output.Name + ".weight"})
	}
	have := ws[:0]
	for _, w := range ws {
		if m.Store.Get(w.Name) != nil {
			have = append(have, w)
		}
	}
	return have
}

// ToInt8 quantises the matrices Int8Weights lists to int8, per output
// column, and returns how many it converted. The model then translates and
// evaluates with each product's activations quantised per row and summed
// in int32 (package graph/i8); it cannot be trained or saved. It needs a
// float32 model whose weights are float32 (not converted to 16 bits).
func (m *Transformer) ToInt8() (int, error) {
	if m.Store.Dtype() != tensor.Float32 {
		return 0, fmt.Errorf("int8 weights are computed with float32 activations, but this model's dtype is %v", m.Store.Dtype())
	}
	if f := m.Store.Half(); f != 0 {
		return 0, fmt.Errorf("int8 quantises float32 weights, but this model's are %v (quantise the float32 run)", f)
	}
	return m.Store.ToInt8(m.Int8Weights())
}
