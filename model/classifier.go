package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/layers"
)

// Classifier is an encoder-only Transformer that labels whole sequences:
// token embeddings with positions, the encoder stack of Config (its
// encoder attention kind and positions included), and a linear layer on
// the final state of the first position (the classification token, global
// under sliding-window attention).
type Classifier struct {
	Config  Config // SrcVocab is the vocabulary; decoder fields are unused
	Classes int
	Store   *graph.Store
	Embed   layers.Embedding
	Pos     layers.PositionalEncoding
	Encoder Encoder
	Head    layers.Linear
}

// NewClassifier describes the classifier of c with classes outputs and
// creates its parameters in dtype dt from seed.
func NewClassifier(c Config, classes int, dt tensor.Dtype, seed int64) (*Classifier, error) {
	c.DecoderLayers = max(c.DecoderLayers, 1) // unused; keeps Validate simple
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.SrcVocab <= 0 || classes < 2 {
		return nil, fmt.Errorf("model: classifier needs a vocabulary and at least 2 classes (got %d tokens, %d classes)", c.SrcVocab, classes)
	}
	init, _ := graph.InitByName(c.Init)
	store := graph.NewStore(dt, seed)
	store.WeightInit = init
	m := &Classifier{Config: c, Classes: classes, Store: store,
		Embed:   layers.Embedding{Name: "embed", Vocab: c.SrcVocab, DModel: c.DModel},
		Encoder: NewEncoder("encoder", c),
		Head:    layers.Linear{Name: "classifier", In: c.DModel, Out: classes},
	}
	m.Pos = c.stackPositions("encoder", "pos")
	err := graph.Build(func() {
		b := graph.NewBuilder(store, false)
		in := m.NewInputs(b, 1, 2)
		m.Forward(b, in)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// ClassifierInputs are the inputs of one batch shape: token ids, key
// padding [Batch, Len], the n×n mask (full attention only) and the
// selector that picks each sequence's first position.
type ClassifierInputs struct {
	Batch, Len int
	Tokens     *G.Node
	Pad, Mask  *G.Node
	First      *G.Node
}

// NewInputs adds the inputs of batches of batch sequences of n tokens.
func (m *Classifier) NewInputs(b *graph.Builder, batch, n int) *ClassifierInputs {
	in := &ClassifierInputs{Batch: batch, Len: n,
		Tokens: b.IntInput("tokens", batch*n),
		Pad:    b.Input("pad", batch, n),
		First:  b.Input("first", batch, batch*n),
	}
	first := make([]float64, batch*batch*n)
	for r := 0; r < batch; r++ {
		first[r*batch*n+r*n] = 1
	}
	G.Let(in.First, graph.FromFloat64s(b.Dtype(), first, batch, batch*n))
	if m.Config.Encoder.Attention.Spec(false).NeedsMask(b) {
		in.Mask = b.Input("mask", batch, 1, n, n)
	}
	return in
}

// Bind sets the token ids [Batch·Len] (PadID marks padding) and derives the
// masks.
func (in *ClassifierInputs) Bind(tokens []int) error {
	pad := padFlags(tokens)
	dt := in.Pad.Dtype()
	if err := G.Let(in.Tokens, intTensor(tokens)); err != nil {
		return err
	}
	if err := G.Let(in.Pad, graph.KeyPadding(dt, in.Batch, in.Len, pad)); err != nil {
		return err
	}
	if in.Mask != nil {
		return G.Let(in.Mask, graph.AttentionMask(dt, in.Batch, in.Len, in.Len, pad, false))
	}
	return nil
}

// Forward gives the class scores [Batch, Classes] of the bound batch.
func (m *Classifier) Forward(b *graph.Builder, in *ClassifierInputs) *G.Node {
	x := m.Encoder.Forward(b, m.Embedding(b, in), in.Batch, in.Len, in.Mask, in.Pad)
	return m.Logits(b, in, x)
}

// Embedding is the encoder's input: scaled embeddings, positions, dropout.
func (m *Classifier) Embedding(b *graph.Builder, in *ClassifierInputs) *G.Node {
	x := m.Embed.Forward(b, in.Tokens)
	return b.Dropout(m.Pos.Encode(b, x, in.Batch, in.Len), m.Config.Dropout)
}

// Logits maps the encoder's output h [Batch·Len, d] (after its final
// norm) to class scores [Batch, Classes]: first position, linear layer.
func (m *Classifier) Logits(b *graph.Builder, in *ClassifierInputs, h *G.Node) *G.Node {
	first := G.Must(G.Mul(in.First, h))
	return b.Mark("logits", m.Head.Forward(b, first))
}
