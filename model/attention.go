package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
)

// Attention kinds, as named by AttentionMaps.Matrix.
const (
	EncoderSelf = "encoder" // encoder self-attention: source × source
	DecoderSelf = "decoder" // decoder self-attention: target × target
	Cross       = "cross"   // decoder cross-attention: target × source
)

// AttentionMaps holds the attention weights of one sentence pair, per
// layer a tensor [heads, queries, keys] whose rows sum to 1.
type AttentionMaps struct {
	Encoder     []*tensor.Dense // [heads, src, src]
	DecoderSelf []*tensor.Dense // [heads, tgt, tgt]
	Cross       []*tensor.Dense // [heads, tgt, src]
}

// Layers returns the weights of one kind (EncoderSelf, DecoderSelf or
// Cross) for every layer.
func (a *AttentionMaps) Layers(kind string) ([]*tensor.Dense, error) {
	switch kind {
	case EncoderSelf:
		return a.Encoder, nil
	case DecoderSelf:
		return a.DecoderSelf, nil
	case Cross:
		return a.Cross, nil
	}
	return nil, fmt.Errorf("unknown attention kind %q (want %s, %s or %s)", kind, EncoderSelf, DecoderSelf, Cross)
}

// Matrix returns one head's weights as rows: element [q][k] is how much
// query position q attends to key position k.
func (a *AttentionMaps) Matrix(kind string, layer, head int) ([][]float64, error) {
	ls, err := a.Layers(kind)
	if err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, fmt.Errorf("the %s stack has no attention maps: sliding-window and linear attention form no weight matrix", kind)
	}
	if layer < 0 || layer >= len(ls) {
		return nil, fmt.Errorf("layer %d out of range: the %s stack has %d layers", layer, kind, len(ls))
	}
	w := ls[layer]
	s := w.Shape()
	if head < 0 || head >= s[0] {
		return nil, fmt.Errorf("head %d out of range: the model has %d heads", head, s[0])
	}
	vals := graph.Float64s(w)
	rows := make([][]float64, s[1])
	for q := range rows {
		off := (head*s[1] + q) * s[2]
		rows[q] = append([]float64(nil), vals[off:off+s[2]]...)
	}
	return rows, nil
}

// Attention runs the model teacher-forced on one source sentence src and
// one decoder input tgt (token ids with their special tokens, for example
// src+EOS and BOS+output) and returns every attention weight. Dropout is
// off. The graph is compiled for this shape and not cached. Stacks with
// sliding-window or linear self-attention have no self-attention maps.
func (t *Translator) Attention(src, tgt []int) (*AttentionMaps, error) {
	if len(src) == 0 || len(tgt) == 0 {
		return nil, fmt.Errorf("attention needs a non-empty source and target")
	}
	m := t.Model
	if pm := m.SrcPos.MaxLen(); pm > 0 && len(src) > pm {
		return nil, fmt.Errorf("source of %d tokens exceeds the model's %d positions", len(src), pm)
	}
	if pm := m.TgtPos.MaxLen(); pm > 0 && len(tgt) > pm {
		return nil, fmt.Errorf("target of %d tokens exceeds the model's %d positions", len(tgt), pm)
	}
	b := graph.NewBuilder(m.Store, false)
	b.Weights = true // the maps need the weights as nodes
	var in *Inputs
	var out *G.Node
	if err := graph.Build(func() {
		in = m.NewInputs(b, 1, len(src), len(tgt))
		out = m.Forward(b, in)
	}); err != nil {
		return nil, err
	}
	type mark struct {
		node *G.Node
		dst  *[]*tensor.Dense
	}
	var marks []mark
	roots := G.Nodes{out}
	add := func(name string, dst *[]*tensor.Dense) {
		n := b.Marked(name)
		if n == nil {
			panic("model: no attention weights marked as " + name)
		}
		marks = append(marks, mark{n, dst})
		roots = append(roots, n)
	}
	a := &AttentionMaps{}
	// Sliding-window and linear self-attention never form their weights:
	// those maps stay empty.
	for _, l := range m.Encoder.Layers {
		if l.SelfAttn.Spec.IsFull() {
			add(l.SelfAttn.Name+".weights", &a.Encoder)
		}
	}
	for _, l := range m.Decoder.Layers {
		if l.SelfAttn.Spec.IsFull() {
			add(l.SelfAttn.Name+".weights", &a.DecoderSelf)
		}
		add(l.CrossAttn.Name+".weights", &a.Cross)
	}
	vm := G.NewTapeMachine(b.G.SubgraphRoots(roots...))
	defer vm.Close()
	defer graph.Release(b.G, vm)
	if err := in.Bind(src, tgt); err != nil {
		return nil, err
	}
	if err := vm.RunAll(); err != nil {
		return nil, err
	}
	for _, mk := range marks {
		w := mk.node.Value().(*tensor.Dense).Clone().(*tensor.Dense)
		s := w.Shape() // [1, heads, q, k]
		if err := w.Reshape(s[1], s[2], s[3]); err != nil {
			return nil, err
		}
		*mk.dst = append(*mk.dst, w)
	}
	return a, nil
}

// Heads returns the number of attention heads.
func (a *AttentionMaps) Heads() int {
	for _, ls := range [][]*tensor.Dense{a.Encoder, a.DecoderSelf, a.Cross} {
		if len(ls) > 0 {
			return ls[0].Shape()[0]
		}
	}
	return 0
}
