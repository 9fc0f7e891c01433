package train

import (
	"fmt"
	"math"

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
			for i, gi := range gd {
				md[i] = b1*md[i] + (1-b1)*gi
				vd[i] = b2*vd[i] + (1-b2)*gi*gi
				mh := float64(md[i]) / c1
				vh := float64(vd[i]) / c2
				pd[i] -= float32(lr * mh / (math.Sqrt(vh) + a.Eps))
			}
		case []float64:
			gd, md, vd := g.Data().([]float64), m.Data().([]float64), v.Data().([]float64)
			for i, gi := range gd {
				md[i] = a.Beta1*md[i] + (1-a.Beta1)*gi
				vd[i] = a.Beta2*vd[i] + (1-a.Beta2)*gi*gi
				pd[i] -= lr * (md[i] / c1) / (math.Sqrt(vd[i]/c2) + a.Eps)
			}
		default:
			return fmt.Errorf("adam: unsupported dtype %v for %s", p.Dtype(), name)
		}
	}
	return nil
}
