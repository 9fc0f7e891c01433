package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
)

// Translator runs a Transformer forward-only. It compiles one encoder graph
// per (batch, source length) and one decoder graph per (batch, source
// length, target length) and caches them, so repeated shapes cost nothing
// to set up. It reads the model's weights in place: training may go on
// between calls.
type Translator struct {
	Model *Transformer
	cache *graph.Cache
	// members are the models of an ensemble (NewEnsemble); nil for one.
	members []*Translator
	// arrays holds the arrays of finished batches' decoders for the next.
	arrays arrayPool
	// arena lends the results of the compiled graphs' ops, run after run.
	arena graph.Arena
}

// NewTranslator returns a translator for m that keeps at most maxGraphs
// compiled graphs (0: a default of 64).
func NewTranslator(m *Transformer, maxGraphs int) *Translator {
	if maxGraphs <= 0 {
		maxGraphs = 64
	}
	return &Translator{Model: m, cache: graph.NewCache(maxGraphs)}
}

// forward is a compiled forward-only graph.
type forward struct {
	b   *graph.Builder
	in  *Inputs
	out *G.Node
	vm  G.VM
}

func (f *forward) Close() error { return f.vm.Close() }

func (t *Translator) compile(key string, build func(b *graph.Builder) (*Inputs, *G.Node)) (*forward, error) {
	c, err := t.cache.Get(key, func() (graph.Compiled, error) {
		f := &forward{b: graph.NewBuilder(t.Model.Store, false)}
		f.b.Arena = &t.arena
		if err := graph.Build(func() { f.in, f.out = build(f.b) }); err != nil {
			return nil, err
		}
		f.vm = G.NewTapeMachine(f.b.G.SubgraphRoots(f.out))
		return f, nil
	})
	if err != nil {
		return nil, err
	}
	return c.(*forward), nil
}

// run executes the graph and returns a copy of its output; the graph's
// activations are released, and the arrays that the arena lent to the
// translator's previous run are lent again.
func (f *forward) run() (*tensor.Dense, error) {
	defer graph.Release(f.b.G, f.vm)
	f.b.Arena.Reset()
	f.vm.Reset()
	if err := f.vm.RunAll(); err != nil {
		return nil, err
	}
	return f.out.Value().(*tensor.Dense).Clone().(*tensor.Dense), nil
}

// EncodeBatch runs the encoder on src [batch·srcLen] and returns a copy of
// the memory [batch·srcLen, d].
func (t *Translator) EncodeBatch(src []int, batch, srcLen int) (*tensor.Dense, error) {
	f, err := t.compile(fmt.Sprintf("enc/b%d/s%d", batch, srcLen), func(b *graph.Builder) (*Inputs, *G.Node) {
		in := t.Model.NewInputs(b, batch, srcLen, 1)
		return in, t.Model.Encode(b, in)
	})
	if err != nil {
		return nil, err
	}
	if err := f.in.Bind(src, nil); err != nil {
		return nil, err
	}
	return f.run()
}

// DecodeBatch runs the decoder on target prefixes tgt [batch·tgtLen] over
// memory and returns the scores [batch·tgtLen, vocab].
func (t *Translator) DecodeBatch(memory *tensor.Dense, src, tgt []int, batch, srcLen, tgtLen int) (*tensor.Dense, error) {
	f, err := t.compile(fmt.Sprintf("dec/b%d/s%d/t%d", batch, srcLen, tgtLen), func(b *graph.Builder) (*Inputs, *G.Node) {
		in := t.Model.NewDecoderInputs(b, batch, srcLen, tgtLen)
		return in, t.Model.Decode(b, in, in.Memory)
	})
	if err != nil {
		return nil, err
	}
	if err := f.in.Bind(src, tgt); err != nil {
		return nil, err
	}
	if err := G.Let(f.in.Memory, memory.Clone()); err != nil {
		return nil, err
	}
	return f.run()
}

// Logits runs the whole model teacher-forced on src [batch·srcLen] and
// tgt [batch·tgtLen] and returns a copy of the scores [batch·tgtLen, vocab].
func (t *Translator) Logits(src, tgt []int, batch, srcLen, tgtLen int) (*tensor.Dense, error) {
	f, err := t.compile(fmt.Sprintf("full/b%d/s%d/t%d", batch, srcLen, tgtLen), func(b *graph.Builder) (*Inputs, *G.Node) {
		in := t.Model.NewInputs(b, batch, srcLen, tgtLen)
		return in, t.Model.Forward(b, in)
	})
	if err != nil {
		return nil, err
	}
	if err := f.in.Bind(src, tgt); err != nil {
		return nil, err
	}
	return f.run()
}

// Close releases every compiled graph and the arrays kept for decoding.
func (t *Translator) Close() {
	t.cache.Clear()
	t.DropArrays()
}

// DropArrays lets go of the arrays the translator keeps from its last
// batches for the next (the key/value caches and step buffers of
// incremental decoding, and the results of the graphs' ops): training
// calls it after each validation, so that they do not stay through the
// training steps.
func (t *Translator) DropArrays() {
	t.arrays.mu.Lock()
	t.arrays.sets = nil
	t.arrays.mu.Unlock()
	t.arena.Drop()
	for _, m := range t.members {
		m.DropArrays()
	}
}
