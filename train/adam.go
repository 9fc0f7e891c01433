package train

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"gorgonia.org/tensor"
)

// Adam is the optimizer of Kingma & Ba (2015) with bias correction:
//
//	m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//	θ ← θ − lr · m̂ / (sqrt(v̂) + ε),  m̂ = m/(1−β1^t), v̂ = v/(1−β2^t)
//
// It updates parameters in place and keeps its moments by parameter name,
// so they can be saved with a checkpoint (Gorgonia's AdamSolver hides them).
type Adam struct {
	Beta1, Beta2, Eps float64
	// Step counts the updates made so far.
	Step int
	M, V map[string]*tensor.Dense
}

// NewAdam returns an optimizer with no state.
func NewAdam(beta1, beta2, eps float64) *Adam {
	return &Adam{Beta1: beta1, Beta2: beta2, Eps: eps, M: map[string]*tensor.Dense{}, V: map[string]*tensor.Dense{}}
}

// Param is a named tensor: a parameter or its gradient.
type Param struct {
	Name   string
	Tensor *tensor.Dense
}

// Update applies one step with learning rate lr to params, given their
// gradients in the same order.
func (a *Adam) Update(params, grads []Param, lr float64) error {
	if len(params) != len(grads) {
		return fmt.Errorf("adam: %d parameters but %d gradients", len(params), len(grads))
	}
	a.Step++
	c1 := 1 - math.Pow(a.Beta1, float64(a.Step))
	c2 := 1 - math.Pow(a.Beta2, float64(a.Step))
	var work []func(lo, hi int)
	var sizes []int
	for i, pp := range params {
		name, p, g := pp.Name, pp.Tensor, grads[i].Tensor
		if grads[i].Name != name {
			return fmt.Errorf("adam: gradient %d is for %s, not %s", i, grads[i].Name, name)
		}
		m, v := a.M[name], a.V[name]
		if m == nil {
			m = tensor.New(tensor.WithShape(p.Shape()...), tensor.Of(p.Dtype()))
			v = tensor.New(tensor.WithShape(p.Shape()...), tensor.Of(p.Dtype()))
			a.M[name], a.V[name] = m, v
		}
		switch pd := p.Data().(type) {
		case []float32:
			gd, md, vd := g.Data().([]float32), m.Data().([]float32), v.Data().([]float32)
			b1, b2 := float32(a.Beta1), float32(a.Beta2)
			ic1, ic2 := 1/c1, 1/c2
			work = append(work, func(lo, hi int) {
				for i, gi := range gd[lo:hi] {
					i += lo
					md[i] = b1*md[i] + (1-b1)*gi
					vd[i] = b2*vd[i] + (1-b2)*gi*gi
					pd[i] -= float32(lr * float64(md[i]) * ic1 / (math.Sqrt(float64(vd[i])*ic2) + a.Eps))
				}
			})
		case []float64:
			gd, md, vd := g.Data().([]float64), m.Data().([]float64), v.Data().([]float64)
			work = append(work, func(lo, hi int) {
				for i, gi := range gd[lo:hi] {
					i += lo
					md[i] = a.Beta1*md[i] + (1-a.Beta1)*gi
					vd[i] = a.Beta2*vd[i] + (1-a.Beta2)*gi*gi
					pd[i] -= lr * (md[i] / c1) / (math.Sqrt(vd[i]/c2) + a.Eps)
				}
			})
		default:
			return fmt.Errorf("adam: unsupported dtype %v for %s", p.Dtype(), name)
		}
		sizes = append(sizes, p.Shape().TotalSize())
	}
	parallelChunks(sizes, work)
	return nil
}

// parallelChunks runs work[i] over 0..sizes[i] in chunks of at most 1<<16
// elements, spread over GOMAXPROCS goroutines. Each element is updated by
// exactly one chunk, so the result does not depend on the schedule.
func parallelChunks(sizes []int, work []func(lo, hi int)) {
	const chunk = 1 << 16
	type span struct{ i, lo, hi int }
	var spans []span
	for i, n := range sizes {
		for lo := 0; lo < n; lo += chunk {
			spans = append(spans, span{i, lo, min(lo+chunk, n)})
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(spans)) {
		wg.Go(func() {
			for {
				j := int(next.Add(1)) - 1
				if j >= len(spans) {
					return
				}
				s := spans[j]
				work[s.i](s.lo, s.hi)
			}
		})
	}
	wg.Wait()
}
