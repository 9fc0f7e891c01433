package graph

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A BlockFunc is the forward pass of one block of a model, written once as
// graph code on b: it maps the activation inputs acts (differentiated) and
// the auxiliary inputs aux (masks, paddings, targets, ids: not
// differentiated; an entry may be nil) to the block's output.
type BlockFunc func(b *Builder, acts, aux G.Nodes) *G.Node

// Checkpoint applies block to acts and aux. With b.Checkpointing off it
// simply calls block on b: the block's ops join the graph. With it on, the
// block becomes one op of b (gradient checkpointing, Chen et al. 2016): its
// forward runs the block in a graph of its own and keeps only the output,
// and its gradient recomputes the block from its inputs and differentiates
// it. The parameters the block uses are inputs of that op, so b's own
// Grad reaches them; a step of b then needs memory for the blocks'
// outputs plus one block's activations, and its loss and gradients are
// those of the plain graph (the block's dropout masks are drawn at the
// point of b's FillDropout where the plain graph would draw them, and drawn
// again from the same state for the recomputation).
//
// name labels the op. The block must not read nodes of b other than acts
// and aux, and must not Mark nodes (attention maps are read from plain
// graphs).
func (b *Builder) Checkpoint(name string, acts, aux G.Nodes, block BlockFunc) *G.Node {
	if !b.Checkpointing {
		if b.Train {
			acts = blockInputs(acts)
		}
		return block(b, acts, aux)
	}
	if b.shared == nil {
		b.shared = &checkpointShared{}
	}
	inner := NewBuilder(b.Store, b.Train)
	inner.Composed = b.Composed
	inner.Precision = b.Precision
	c := &checkpoint{name: name, shared: b.shared, nActs: len(acts)}
	innerNodes := func(prefix string, ns G.Nodes) G.Nodes {
		out := make(G.Nodes, len(ns))
		seen := map[*G.Node]*G.Node{}
		for i, n := range ns {
			if n == nil {
				continue
			}
			if in, ok := seen[n]; ok { // one input, however often it is passed
				out[i] = in
				continue
			}
			out[i] = G.NewTensor(inner.G, n.Dtype(), n.Dims(), G.WithShape(n.Shape()...), G.WithName(fmt.Sprintf("%s.%d", prefix, i)))
			seen[n] = out[i]
			c.outer = append(c.outer, n)
			c.innerIn = append(c.innerIn, out[i])
		}
		return out
	}
	ia := innerNodes("activation", acts)
	c.nActs = len(c.outer) // non-nil activations
	ix := innerNodes("aux", aux)
	out := block(inner, ia, ix)
	c.seg = mustSegment(inner, c.innerIn[:c.nActs], c.innerIn[c.nActs:], out)
	// The block's parameters become inputs of the op, after the activations
	// and auxiliaries, in the order the block created them.
	c.nIn = len(c.outer)
	for _, p := range inner.Params() {
		c.outer = append(c.outer, b.Param(p.Name(), nil, p.Shape()...))
	}
	c.draws = maskDraws(inner.DropoutMasks())
	if c.draws > 0 {
		b.masks = append(b.masks, DropoutMask{P: -1, block: c})
	}
	c.types = make([]hm.Type, len(c.outer))
	for i, n := range c.outer {
		c.types[i] = n.Type()
	}
	c.outType = out.Type()
	c.outShape = out.Shape().Clone()
	return G.Must(apply(checkpointOp{c: c}, c.outer...))
}

// checkpointShared is what the checkpointed blocks of one graph share,
// since its machine runs one block at a time: the arrays behind their
// dropout masks and the copies of their inputs.
type checkpointShared struct {
	masks  DropoutPool
	inputs []Scratch
}

// checkpoint is one checkpointed block of an outer graph.
type checkpoint struct {
	name     string
	shared   *checkpointShared
	seg      *segment
	outer    G.Nodes   // the op's inputs: activations, auxiliaries, parameters
	innerIn  G.Nodes   // the block graph's activation and auxiliary inputs
	nActs    int       // activations among outer
	nIn      int       // activations and auxiliaries among outer
	types    []hm.Type // of outer
	outType  hm.Type
	outShape tensor.Shape

	draws uint64 // random numbers the block's dropout masks take
	rng   uint64 // state they are drawn from this step, set by FillDropout

	// grads holds, after the block's backward has run, the gradient of
	// every differentiable input (activations, then parameters) until its
	// gradient op takes it.
	grads   []G.Value
	pending int
}

// bind gives the block graph's inputs copies of the op's input values (a
// forward-only machine may write into its inputs) in the shared arrays, and
// points its dropout masks at the shared mask arrays, filled from the
// step's state.
func (c *checkpoint) bind(in []G.Value) error {
	for len(c.shared.inputs) < len(c.innerIn) {
		c.shared.inputs = append(c.shared.inputs, Scratch{})
	}
	for i, n := range c.innerIn {
		v, err := c.copyInput(i, in[i])
		if err != nil {
			return err
		}
		if err := G.Let(n, v); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
	}
	masks := c.seg.b.DropoutMasks()
	if err := c.shared.masks.Bind(masks, c.seg.b.Dtype()); err != nil {
		return err
	}
	FillDropout(masks, &RNG{State: c.rng})
	return nil
}

func (c *checkpoint) copyInput(i int, v G.Value) (G.Value, error) {
	t, ok := v.(*tensor.Dense)
	if !ok {
		return v, nil
	}
	if t.IsMaterializable() {
		t = t.Materialize().(*tensor.Dense)
	}
	switch d := t.Data().(type) {
	case []float32, []float64:
		out := c.shared.inputs[i].Tensor(t.Dtype(), t.Shape()...)
		switch o := out.Data().(type) {
		case []float32:
			copy(o, d.([]float32))
		case []float64:
			copy(o, d.([]float64))
		}
		return out, nil
	}
	return t.Clone().(*tensor.Dense), nil // token ids: small
}

// forward runs the block and returns a copy of its output.
func (c *checkpoint) forward(in []G.Value) (G.Value, error) {
	c.grads, c.pending = nil, 0
	if err := c.bind(in); err != nil {
		return nil, err
	}
	vm := c.seg.fwd
	vm.Reset()
	if err := vm.RunAll(); err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	defer Release(c.seg.b.G, vm)
	return G.CloneValue(c.seg.out.Value())
}

// backward recomputes the block on in, propagates up, and keeps the
// gradient of every differentiable input.
func (c *checkpoint) backward(in []G.Value, up G.Value) error {
	if err := c.bind(in); err != nil {
		return err
	}
	upCopy, err := G.CloneValue(up)
	if err != nil {
		return err
	}
	if err := G.Let(c.seg.up, upCopy); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	vm := c.seg.bwd
	vm.Reset()
	if err := vm.RunAll(); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	defer Release(c.seg.b.G, vm)
	wrt := append(append(G.Nodes{}, c.innerIn[:c.nActs]...), c.seg.b.Params()...)
	c.grads = make([]G.Value, len(wrt))
	for i, n := range wrt {
		g, err := n.Grad()
		if err != nil {
			return fmt.Errorf("%s: no gradient for %s: %w", c.name, n.Name(), err)
		}
		if c.grads[i], err = G.CloneValue(g); err != nil {
			return err
		}
	}
	c.pending = len(wrt)
	return nil
}

// grad returns the gradient of differentiable input k (an index into
// activations then parameters), running backward first if needed.
func (c *checkpoint) grad(k int, in []G.Value, up G.Value) (G.Value, error) {
	if c.grads == nil || c.grads[k] == nil {
		if err := c.backward(in, up); err != nil {
			return nil, err
		}
	}
	g := c.grads[k]
	c.grads[k] = nil
	if c.pending--; c.pending == 0 {
		c.grads = nil
	}
	return g, nil
}

// segment is a block's graph compiled twice: fwd computes its output only;
// bwd recomputes it and differentiates cost = Σ out ⊙ up, whose gradients
// are, by the chain rule, the loss's gradients with respect to the block's
// inputs and parameters when up is the loss's gradient with respect to out.
type segment struct {
	b        *Builder
	out, up  *G.Node
	fwd, bwd G.VM
}

func mustSegment(b *Builder, acts, aux G.Nodes, out *G.Node) *segment {
	s := &segment{b: b, out: out}
	var cost *G.Node
	if out.IsScalar() {
		s.up = G.NewScalar(b.G, out.Dtype(), G.WithName("upstream"))
		cost = G.Must(G.Mul(out, s.up))
	} else {
		s.up = G.NewTensor(b.G, out.Dtype(), out.Dims(), G.WithShape(out.Shape()...), G.WithName("upstream"))
		cost = G.Must(G.Sum(G.Must(G.HadamardProd(out, s.up))))
	}
	wrt := append(append(G.Nodes{}, acts...), b.Params()...)
	if _, err := G.Grad(cost, wrt...); err != nil {
		panic(fmt.Sprintf("checkpoint: %v", err))
	}
	s.bwd = G.NewTapeMachine(b.G)
	s.fwd = G.NewTapeMachine(b.G.SubgraphRoots(out))
	return s
}

// Close releases the block's machines.
func (c *checkpoint) Close() error {
	c.seg.fwd.Close()
	return c.seg.bwd.Close()
}

// Close releases the machines of the graph's checkpointed blocks.
func (b *Builder) Close() error {
	for _, m := range b.masks {
		if m.block != nil {
			m.block.Close()
		}
	}
	return nil
}

// maskDraws is the number of random numbers FillDropout takes for masks.
func maskDraws(masks []DropoutMask) uint64 {
	var n uint64
	for _, m := range masks {
		if m.block != nil {
			n += m.block.draws
		} else {
			n += uint64(m.Node.Shape().TotalSize())
		}
	}
	return n
}

// checkpointOp is a checkpointed block's forward pass.
type checkpointOp struct {
	c *checkpoint
}

func (op checkpointOp) Arity() int { return len(op.c.outer) }
func (op checkpointOp) Type() hm.Type {
	return hm.NewFnType(append(append([]hm.Type{}, op.c.types...), op.c.outType)...)
}
func (op checkpointOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.c.outShape.Clone(), nil
}
func (op checkpointOp) String() string { return fmt.Sprintf("Checkpoint(%s)@%p", op.c.name, op.c) }
func (op checkpointOp) Do(in ...G.Value) (G.Value, error) {
	return op.c.forward(in[:op.c.nIn])
}

func (op checkpointOp) DiffWRT(inputs int) []bool {
	d := make([]bool, inputs)
	for i := range d {
		d[i] = i < op.c.nActs || i >= op.c.nIn
	}
	return d
}

func (op checkpointOp) SymDiff(inputs G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	c := op.c
	out := make(G.Nodes, len(inputs))
	args := append(append(G.Nodes{}, inputs[:c.nIn]...), grad)
	for i := range inputs {
		k := i // activations first, then parameters
		switch {
		case i < c.nActs:
		case i >= c.nIn:
			k = c.nActs + i - c.nIn
		default:
			continue
		}
		n, err := apply(checkpointGradOp{c: c, k: k, input: i}, args...)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// checkpointGradOp maps (activations, auxiliaries, upstream gradient) to
// the gradient of differentiable input k of a checkpointed block (input
// index input of its forward op). The first of a block's gradient ops to
// run recomputes and differentiates the block once for all of them.
type checkpointGradOp struct {
	c        *checkpoint
	k, input int
}

func (op checkpointGradOp) Arity() int { return op.c.nIn + 1 }
func (op checkpointGradOp) Type() hm.Type {
	ts := append(append([]hm.Type{}, op.c.types[:op.c.nIn]...), op.c.outType, op.c.types[op.input])
	return hm.NewFnType(ts...)
}
func (op checkpointGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.c.outer[op.input].Shape().Clone(), nil
}
func (op checkpointGradOp) String() string {
	return fmt.Sprintf("CheckpointGrad(%s)@%p.%d", op.c.name, op.c, op.k)
}
func (op checkpointGradOp) Do(in ...G.Value) (G.Value, error) {
	n := op.c.nIn
	return op.c.grad(op.k, in[:n], in[n])
}

// blockInputs passes each activation of a block that is not checkpointed
// through an identity op, so that the gradient reaching an activation
// used by several blocks (the encoder's memory, read by every decoder
// layer) is summed within each block first and then across blocks: in
// the order a checkpointed step sums it, which makes the two bitwise
// equal. A node passed twice gets one copy, as it gets one input of a
// checkpointed block. The op copies (an alias could be overwritten in
// place by a forward-only machine); it costs one activation per block
// input.
func blockInputs(acts G.Nodes) G.Nodes {
	out := make(G.Nodes, len(acts))
	seen := map[*G.Node]*G.Node{}
	for i, a := range acts {
		if a == nil {
			continue
		}
		if c, ok := seen[a]; ok { // as Checkpoint: one input, passed twice
			out[i] = c
			continue
		}
		out[i] = G.Must(apply(blockInputOp{id: new(byte)}, a))
		seen[a] = out[i]
	}
	return out
}

// blockInputOp is the identity: a copy forward, the gradient unchanged
// backward. id makes each application a node of its own (Gorgonia merges
// nodes of equal ops on equal inputs).
type blockInputOp struct {
	id *byte
}

func (op blockInputOp) Arity() int    { return 1 }
func (op blockInputOp) Type() hm.Type { return sameType(1) }
func (op blockInputOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return firstShape(in)
}
func (op blockInputOp) String() string { return fmt.Sprintf("BlockInput@%p", op.id) }
func (op blockInputOp) Do(in ...G.Value) (G.Value, error) {
	t, ok := in[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%v: want a dense tensor, got %T", op, in[0])
	}
	return t.Clone().(*tensor.Dense), nil
}
func (op blockInputOp) DiffWRT(int) []bool { return []bool{true} }
func (op blockInputOp) SymDiff(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	return G.Nodes{grad}, nil
}
