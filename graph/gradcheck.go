package graph

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GradCheckOptions tune GradCheck.
type GradCheckOptions struct {
	// Step is the central-difference step h (default 1e-6).
	Step float64
	// MaxPerTensor caps how many elements of each tensor are perturbed,
	// chosen at random (0: all of them).
	MaxPerTensor int
	// Seed picks the sampled elements.
	Seed int64
	// Prepare, if set, runs before every forward pass (for example to
	// refill inputs that a run may overwrite).
	Prepare func()
}

// GradResult is the comparison for one tensor: the worst relative error
// |num−ana| / max(|num|+|ana|, 1e-3·S) over the checked elements, where S is
// the largest analytic gradient magnitude over all checked tensors (so an
// element whose true gradient is zero is judged against the gradient's
// overall scale, not against finite-difference round-off), and the worst
// absolute error.
type GradResult struct {
	Name      string
	MaxRelErr float64
	MaxAbsErr float64
	Checked   int
}

// GradCheck compares Gorgonia's symbolic gradients of the scalar float64 cost
// with respect to wrt against central finite differences
// (f(x+h) − f(x−h)) / 2h. It calls G.Grad itself, so the graph must not have
// gradients yet.
func GradCheck(cost *G.Node, wrt G.Nodes, opt GradCheckOptions) ([]GradResult, error) {
	return GradCheckContext(context.Background(), cost, wrt, opt)
}

// GradCheckContext is GradCheck that stops between forward passes when ctx
// ends, returning ctx.Err().
func GradCheckContext(ctx context.Context, cost *G.Node, wrt G.Nodes, opt GradCheckOptions) ([]GradResult, error) {
	if cost.Dtype() != tensor.Float64 {
		return nil, errors.New("gradcheck needs a float64 graph")
	}
	if !cost.IsScalar() {
		return nil, fmt.Errorf("gradcheck needs a scalar cost, got shape %v", cost.Shape())
	}
	if opt.Step == 0 {
		opt.Step = 1e-6
	}
	if _, err := G.Grad(cost, wrt...); err != nil {
		return nil, fmt.Errorf("symbolic gradient: %w", err)
	}
	m := G.NewTapeMachine(cost.Graph())
	defer m.Close()
	eval := func() (float64, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if opt.Prepare != nil {
			opt.Prepare()
		}
		m.Reset()
		if err := m.RunAll(); err != nil {
			return 0, err
		}
		return cost.Value().Data().(float64), nil
	}
	if _, err := eval(); err != nil {
		return nil, err
	}
	analytic := make([][]float64, len(wrt))
	for i, n := range wrt {
		gv, err := n.Grad()
		if err != nil {
			return nil, fmt.Errorf("no gradient for %s: %w", n.Name(), err)
		}
		analytic[i] = append([]float64(nil), gv.Data().([]float64)...)
	}
	scale := 0.0
	for _, a := range analytic {
		for _, v := range a {
			scale = math.Max(scale, math.Abs(v))
		}
	}
	floor := math.Max(1e-3*scale, 1e-12)
	rng := rand.New(rand.NewSource(opt.Seed))
	res := make([]GradResult, len(wrt))
	for i, n := range wrt {
		d := n.Value().Data().([]float64)
		idx := rng.Perm(len(d))
		if opt.MaxPerTensor > 0 && len(idx) > opt.MaxPerTensor {
			idx = idx[:opt.MaxPerTensor]
		}
		r := GradResult{Name: n.Name(), Checked: len(idx)}
		for _, j := range idx {
			orig := d[j]
			d[j] = orig + opt.Step
			fp, err := eval()
			if err != nil {
				return nil, err
			}
			d[j] = orig - opt.Step
			fm, err := eval()
			if err != nil {
				return nil, err
			}
			d[j] = orig
			num := (fp - fm) / (2 * opt.Step)
			a := analytic[i][j]
			abs := math.Abs(num - a)
			rel := abs / math.Max(math.Abs(num)+math.Abs(a), floor)
			if math.IsNaN(abs) {
				rel, abs = math.Inf(1), math.Inf(1)
			}
			r.MaxAbsErr = math.Max(r.MaxAbsErr, abs)
			r.MaxRelErr = math.Max(r.MaxRelErr, rel)
		}
		res[i] = r
	}
	return res, nil
}

// Probe reduces x to the scalar Σ x ⊙ W for a fixed random W drawn from seed,
// so that a gradient check sees a non-uniform upstream gradient.
func Probe(b *Builder, x *G.Node, seed int64) *G.Node {
	rng := rand.New(rand.NewSource(seed))
	w := b.Input(fmt.Sprintf("probe.%d", seed), x.Shape()...)
	copy64To(w.Value().(*tensor.Dense), Normal(1)(rng, x.Shape()))
	return G.Must(G.Sum(G.Must(G.HadamardProd(x, w))))
}

// Randomize fills a float tensor with N(0, std²) values from seed.
func Randomize(t *tensor.Dense, std float64, seed int64) {
	copy64To(t, Normal(std)(rand.New(rand.NewSource(seed)), t.Shape()))
}

// GradCheckOutput checks the gradients of Probe(out) with respect to wrt
// and every parameter of b: the usual test of a layer.
func GradCheckOutput(b *Builder, out *G.Node, wrt G.Nodes, opt GradCheckOptions) ([]GradResult, error) {
	cost := Probe(b, out, 99)
	nodes := append(append(G.Nodes{}, wrt...), b.Params()...)
	return GradCheck(cost, nodes, opt)
}

// RandomInput adds a float input of the given shape filled with N(0, 1)
// values drawn from seed.
func RandomInput(b *Builder, name string, seed int64, shape ...int) *G.Node {
	n := b.Input(name, shape...)
	Randomize(n.Value().(*tensor.Dense), 1, seed)
	return n
}
