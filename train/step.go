package train

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/half"
)

// GraphOptions choose how a training graph is built from a model's one
// definition.
type GraphOptions struct {
	// Checkpointing recomputes each block (layer, output head) during
	// backward instead of keeping its activations (graph.Builder.Checkpoint).
	Checkpointing bool
	// Composed builds the fused ops from their composed references.
	Composed bool
	// Precision rounds the operands of the weight products to 16 bits
	// (graph.Builder.Precision): mixed-precision training.
	Precision half.Format
	// LossScale multiplies the loss by a scale input before the backward
	// pass (float16's loss scaling); run sets its value.
	LossScale bool
}

// lossGraph is a compiled, differentiated training graph for one batch
// shape. Every task (translation, classification) trains through it: the
// task builds its objective on b and binds each batch's inputs; run does
// the rest.
type lossGraph struct {
	b     *graph.Builder
	loss  *G.Node
	scale *G.Node // the loss scale's input, with GraphOptions.LossScale
	vm    G.VM
}

// newLossGraph builds objective on a fresh training builder over store,
// differentiates its scalar loss with respect to every parameter, and
// compiles it.
func newLossGraph(store *graph.Store, o GraphOptions, objective func(b *graph.Builder) *G.Node) (*lossGraph, error) {
	g := &lossGraph{b: graph.NewBuilder(store, true)}
	g.b.Composed, g.b.Checkpointing, g.b.Precision = o.Composed, o.Checkpointing, o.Precision
	cost := g.loss
	if err := graph.Build(func() {
		g.loss = objective(g.b)
		cost = g.loss
		if o.LossScale {
			g.scale = G.NewScalar(g.b.G, g.b.Dtype(), G.WithName("loss_scale"))
			cost = G.Must(G.Mul(g.loss, g.scale))
		}
	}); err != nil {
		g.b.Close()
		return nil, err
	}
	if _, err := G.Grad(cost, g.b.Params()...); err != nil {
		g.b.Close()
		return nil, fmt.Errorf("gradient: %w", err)
	}
	g.vm = G.NewTapeMachine(g.b.G)
	return g, nil
}

// Close releases the graph's machines.
func (g *lossGraph) Close() error {
	g.b.Close()
	return g.vm.Close()
}

// run draws the dropout masks from rng (into the arrays of pool, if not
// nil), runs forward and backward on the bound inputs, and returns the loss
// and every parameter with its gradient, in the order the model created
// them; with loss scaling, the gradients are those of the loss times
// scale. The gradients are valid until the next run.
func (g *lossGraph) run(pool *graph.DropoutPool, rng *graph.RNG, scale float64) (loss float64, params, grads []Param, err error) {
	if g.scale != nil {
		v := G.Value(G.NewF64(scale))
		if g.b.Dtype() == tensor.Float32 {
			v = G.NewF32(float32(scale))
		}
		if err := G.Let(g.scale, v); err != nil {
			return 0, nil, nil, err
		}
	}
	if pool != nil {
		if err := pool.Bind(g.b.DropoutMasks(), g.b.Dtype()); err != nil {
			return 0, nil, nil, err
		}
	}
	graph.FillDropout(g.b.DropoutMasks(), rng)
	g.vm.Reset()
	if err := g.vm.RunAll(); err != nil {
		return 0, nil, nil, err
	}
	defer graph.Release(g.b.G, g.vm)
	for _, p := range g.b.Params() {
		gr, err := p.Grad()
		if err != nil {
			return 0, nil, nil, fmt.Errorf("no gradient for %s: %w", p.Name(), err)
		}
		params = append(params, Param{p.Name(), p.Value().(*tensor.Dense)})
		grads = append(grads, Param{p.Name(), gr.(*tensor.Dense)})
	}
	return scalar(g.loss), params, grads, nil
}

// update is the optimizer step every task shares: it clips the gradients
// to a global norm of clip (0: no clipping) and, when the loss and that
// norm are finite, applies Adam at rate lr. finite reports whether it did.
func update(opt *Adam, params, grads []Param, loss, clip, lr float64) (norm float64, finite bool, err error) {
	norm = ClipGlobalNorm(grads, clip)
	if math.IsNaN(loss) || math.IsInf(loss, 0) || math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm, false, nil
	}
	return norm, true, opt.Update(params, grads, lr)
}

func scalar(n *G.Node) float64 {
	switch v := n.Value().Data().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return math.NaN()
}
