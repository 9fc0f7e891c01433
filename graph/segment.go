package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A Segment is one piece of a model compiled for gradient checkpointing
// (Chen et al., 2016): a graph from activation inputs In to outputs Out,
// with two machines. The forward machine computes Out only, so that a
// training step keeps nothing but the activations at segment boundaries.
// The backward machine recomputes the segment and differentiates
//
//	cost = Σ_k Σ Out_k ⊙ Up_k
//
// where Up_k is the gradient of the loss with respect to Out_k from the
// segment above. By the chain rule this gives the loss's exact gradients
// with respect to In and to the segment's parameters. A loss segment
// differentiates its scalar output instead and has no Up.
//
// One segment can stand for every layer of a stack: Bind points its
// parameter nodes at another layer's tensors before each run. The segment's
// dropout masks are drawn in Forward and drawn again from the same random
// state in Backward, so the recomputation is exact.
type Segment struct {
	B   *Builder
	In  G.Nodes
	Out G.Nodes
	Up  G.Nodes

	fwd, bwd G.VM
}

// NewSegment differentiates and compiles the graph of b, whose activation
// inputs are in and outputs out. loss says that out is a single scalar
// loss.
func NewSegment(b *Builder, in, out G.Nodes, loss bool) (*Segment, error) {
	s := &Segment{B: b, In: in, Out: out}
	var cost *G.Node
	if loss {
		if len(out) != 1 || !out[0].IsScalar() {
			return nil, fmt.Errorf("segment: a loss segment needs one scalar output")
		}
		cost = out[0]
	} else {
		for k, o := range out {
			up := b.Input(fmt.Sprintf("upstream.%d", k), o.Shape()...)
			s.Up = append(s.Up, up)
			term := G.Must(G.Sum(G.Must(G.HadamardProd(o, up))))
			if cost == nil {
				cost = term
			} else {
				cost = G.Must(G.Add(cost, term))
			}
		}
	}
	wrt := append(append(G.Nodes{}, b.Params()...), in...)
	if _, err := G.Grad(cost, wrt...); err != nil {
		return nil, fmt.Errorf("segment: %w", err)
	}
	s.bwd = G.NewTapeMachine(b.G)
	s.fwd = G.NewTapeMachine(b.G.SubgraphRoots(out...))
	return s, nil
}

// Close releases both machines.
func (s *Segment) Close() error {
	s.fwd.Close()
	return s.bwd.Close()
}

// Bind points every parameter node at the Store tensor named
// rename(node name) (nil rename: the node's own name).
func (s *Segment) Bind(rename func(string) string) error {
	for _, p := range s.B.Params() {
		name := p.Name()
		if rename != nil {
			name = rename(name)
		}
		t := s.B.Store.Get(name)
		if t == nil {
			return fmt.Errorf("segment: no parameter %s", name)
		}
		if err := G.Let(p, t); err != nil {
			return err
		}
	}
	return nil
}

// Forward runs the segment on the activations in (copied: a forward-only
// machine may overwrite its inputs) after drawing its dropout masks from
// rng, and returns copies of its outputs and the random state the masks were
// drawn from, to be handed to Backward.
func (s *Segment) Forward(in []*tensor.Dense, rng *RNG) (out []*tensor.Dense, state uint64, err error) {
	if err := s.let(s.In, in, true); err != nil {
		return nil, 0, err
	}
	state = rng.State
	FillDropout(s.B.DropoutMasks(), rng)
	s.fwd.Reset()
	if err := s.fwd.RunAll(); err != nil {
		return nil, 0, err
	}
	for _, o := range s.Out {
		out = append(out, o.Value().(*tensor.Dense).Clone().(*tensor.Dense))
	}
	Release(s.B.G, s.fwd)
	return out, state, nil
}

// Backward recomputes the segment on in with the dropout masks of state
// and propagates up (the loss's gradients with respect to Out; nil for a
// loss segment). It returns the gradients with respect to In, adds each
// parameter's gradient into grads under rename(name), and returns the value
// of a loss segment's output (0 otherwise).
func (s *Segment) Backward(in, up []*tensor.Dense, state uint64, rename func(string) string, grads map[string]*tensor.Dense) (dIn []*tensor.Dense, loss float64, err error) {
	if err := s.let(s.In, in, true); err != nil {
		return nil, 0, err
	}
	if err := s.let(s.Up, up, false); err != nil {
		return nil, 0, err
	}
	FillDropout(s.B.DropoutMasks(), &RNG{State: state})
	s.bwd.Reset()
	if err := s.bwd.RunAll(); err != nil {
		return nil, 0, err
	}
	defer Release(s.B.G, s.bwd)
	for _, n := range s.In {
		g, err := n.Grad()
		if err != nil {
			return nil, 0, fmt.Errorf("segment: no gradient for input %s: %w", n.Name(), err)
		}
		dIn = append(dIn, g.(*tensor.Dense).Clone().(*tensor.Dense))
	}
	for _, p := range s.B.Params() {
		g, err := p.Grad()
		if err != nil {
			return nil, 0, fmt.Errorf("segment: no gradient for %s: %w", p.Name(), err)
		}
		name := p.Name()
		if rename != nil {
			name = rename(name)
		}
		if err := accumulate(grads, name, g.(*tensor.Dense)); err != nil {
			return nil, 0, err
		}
	}
	if s.Up == nil {
		switch v := s.Out[0].Value().Data().(type) {
		case float32:
			loss = float64(v)
		case float64:
			loss = v
		}
	}
	return dIn, loss, nil
}

func (s *Segment) let(nodes G.Nodes, vals []*tensor.Dense, clone bool) error {
	if len(nodes) != len(vals) {
		return fmt.Errorf("segment: %d values for %d inputs", len(vals), len(nodes))
	}
	for i, n := range nodes {
		v := vals[i]
		if clone {
			v = v.Clone().(*tensor.Dense)
		}
		if err := G.Let(n, v); err != nil {
			return err
		}
	}
	return nil
}

// accumulate adds g into grads[name], copying it the first time.
func accumulate(grads map[string]*tensor.Dense, name string, g *tensor.Dense) error {
	have, ok := grads[name]
	if !ok {
		grads[name] = g.Clone().(*tensor.Dense)
		return nil
	}
	return AddInto(have, g)
}

// AddInto adds b into a elementwise (same shape and dtype).
func AddInto(a, b *tensor.Dense) error {
	switch x := a.Data().(type) {
	case []float32:
		y, ok := b.Data().([]float32)
		if !ok || len(y) != len(x) {
			return fmt.Errorf("add: mismatched tensors %v and %v", a.Shape(), b.Shape())
		}
		for i := range x {
			x[i] += y[i]
		}
	case []float64:
		y, ok := b.Data().([]float64)
		if !ok || len(y) != len(x) {
			return fmt.Errorf("add: mismatched tensors %v and %v", a.Shape(), b.Shape())
		}
		for i := range x {
			x[i] += y[i]
		}
	default:
		return fmt.Errorf("add: unsupported dtype %v", a.Dtype())
	}
	return nil
}
