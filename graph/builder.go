package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/half"
)

// Builder creates the nodes of one expression graph for a model whose
// weights live in a Store. Each parameter gets exactly one node per graph,
// bound to the Store's tensor, so graphs built for different shapes share
// weights.
//
// Train switches dropout on: each Dropout call then adds a mask input node
// that FillDropout refreshes before every step (Gorgonia's own Dropout op has
// a wrong gradient in v0.9.18).
type Builder struct {
	G     *G.ExprGraph
	Store *Store
	Train bool
	// Weights makes full attention build its weights as a node of their
	// own (for attention maps) instead of using the fused Attention op,
	// which never forms them.
	Weights bool
	// Composed builds every fused op (Affine, LayerNorm, Residual, ReLU,
	// CrossEntropyRows and full attention) as the graph of Gorgonia ops it
	// optimises (composed.go): slower, and the reference the fused ops are
	// tested against, up to whole models.
	Composed bool
	// Checkpointing makes Checkpoint turn each block it wraps into one op
	// that recomputes the block during backward (gradient checkpointing).
	Checkpointing bool
	// Precision, half.BF16 or half.F16 over a float32 Store, rounds the
	// operands of every weight product to that format, forward and
	// backward: mixed-precision training (precision.go). The zero value
	// computes in the Store's dtype.
	Precision half.Format
	// Arena, for a graph that only runs forward, lends the results of its
	// fused ops from arrays kept between runs (see Arena); nil allocates
	// them afresh on each run.
	Arena *Arena

	params  map[string]*G.Node
	order   G.Nodes
	masks   []DropoutMask
	inputs  map[string]*G.Node
	outputs map[string]*G.Node
	shared  *checkpointShared
}

// DropoutMask is a mask input added by Builder.Dropout: its value holds 0 or
// 1/(1-P) per element. An entry with a nil Node stands for the masks of a
// checkpointed block, drawn when the block runs.
type DropoutMask struct {
	Node  *G.Node
	P     float64
	block *checkpoint
	seed  bool // a seed input (Builder.DropoutSeed), not a mask
}

// NewBuilder starts a new graph over store; train enables dropout.
func NewBuilder(store *Store, train bool) *Builder {
	return &Builder{G: G.NewGraph(), Store: store, Train: train,
		params: map[string]*G.Node{}, inputs: map[string]*G.Node{}, outputs: map[string]*G.Node{}}
}

// Dtype is the graph's float type.
func (b *Builder) Dtype() tensor.Dtype { return b.Store.Dtype() }

// Param returns the node of the stored parameter name, creating the parameter
// with init (nil: the store's weight initialiser) if the store lacks it.
func (b *Builder) Param(name string, init Initializer, shape ...int) *G.Node {
	if n, ok := b.params[name]; ok {
		return n
	}
	t := b.Store.Add(name, init, shape...)
	n := G.NewTensor(b.G, t.Dtype(), t.Dims(), G.WithShape(t.Shape()...), G.WithName(name), G.WithValue(t))
	b.params[name] = n
	b.order = append(b.order, n)
	return n
}

// Params lists this graph's parameter nodes in the order they were created.
func (b *Builder) Params() G.Nodes { return b.order }

// Input adds a float input node of the graph's dtype, initialised to zeros.
// Names must be unique within a graph.
func (b *Builder) Input(name string, shape ...int) *G.Node {
	return b.input(name, Zeroed(b.Dtype(), shape...))
}

// IntInput adds an integer vector input of length n (token or position ids).
func (b *Builder) IntInput(name string, n int) *G.Node {
	return b.input(name, tensor.New(tensor.WithShape(n), tensor.Of(tensor.Int)))
}

func (b *Builder) input(name string, v *tensor.Dense) *G.Node {
	if _, ok := b.inputs[name]; ok {
		panic(fmt.Sprintf("graph: input %q defined twice", name))
	}
	n := G.NewTensor(b.G, v.Dtype(), v.Dims(), G.WithShape(v.Shape()...), G.WithName(name), G.WithValue(v))
	b.inputs[name] = n
	return n
}

// InputNode returns the input called name, or nil.
func (b *Builder) InputNode(name string) *G.Node { return b.inputs[name] }

// Mark records node under name so that callers can read its value after a
// run (attention weights, logits, the loss).
func (b *Builder) Mark(name string, n *G.Node) *G.Node {
	b.outputs[name] = n
	return n
}

// Marked returns the node recorded under name, or nil.
func (b *Builder) Marked(name string) *G.Node { return b.outputs[name] }

// Const is a scalar constant of the graph's dtype.
func (b *Builder) Const(v float64) *G.Node {
	if b.Dtype() == tensor.Float32 {
		return G.NewConstant(float32(v))
	}
	return G.NewConstant(v)
}

// Dropout zeroes each element of x with probability p and scales the rest by
// 1/(1-p) (inverted dropout). When the builder is not training, or p is 0,
// it returns x unchanged.
func (b *Builder) Dropout(x *G.Node, p float64) *G.Node {
	m := b.DropoutMask(p, x.Shape()...)
	if m == nil {
		return x
	}
	return G.Must(G.HadamardProd(x, m))
}

// DropoutMask adds a dropout mask input of the given shape, refreshed by
// FillDropout like those of Dropout, for ops that apply dropout
// themselves. It returns nil when dropout is off (not training, or p = 0).
func (b *Builder) DropoutMask(p float64, shape ...int) *G.Node {
	if !b.Train || p == 0 {
		return nil
	}
	m := b.Input(fmt.Sprintf("dropout.%d", len(b.masks)), shape...)
	b.masks = append(b.masks, DropoutMask{Node: m, P: p})
	return m
}

// DropoutMasks lists the mask inputs added by Dropout.
func (b *Builder) DropoutMasks() []DropoutMask { return b.masks }

// FillDropout draws fresh masks: each element is 0 with probability P and
// 1/(1-P) otherwise.
// A checkpointed block's entry records the generator's state and skips
// the numbers its masks take, so that masks are drawn in the order of
// the plain graph.
func FillDropout(masks []DropoutMask, rng *RNG) {
	for _, m := range masks {
		if m.block != nil {
			m.block.rng = rng.State
			rng.Skip(m.block.draws)
			continue
		}
		if m.seed {
			fillSeed(m.Node.Value().(*tensor.Dense), rng)
			continue
		}
		keep := 1 / (1 - m.P)
		switch d := m.Node.Value().Data().(type) {
		case []float32:
			for i := range d {
				if rng.Float64() < m.P {
					d[i] = 0
				} else {
					d[i] = float32(keep)
				}
			}
		case []float64:
			for i := range d {
				if rng.Float64() < m.P {
					d[i] = 0
				} else {
					d[i] = keep
				}
			}
		}
	}
}

// Build runs f, turning a panic raised by Gorgonia's Must helpers while the
// graph is built into an error.
func Build(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("building graph: %v", r)
		}
	}()
	f()
	return nil
}
