package graph

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Scratch hands out float tensors that share one backing array, for values
// of which only one is in use at a time: the loss targets of the cached
// training graphs of different batch shapes, say, which would otherwise
// keep one [N, V] tensor each. A tensor from Tensor is valid until the next
// call. The array grows by doubling; tensors handed out before a growth
// keep the old, smaller array alive while something refers to them.
type Scratch struct {
	f32 []float32
	f64 []float64
}

// Tensor returns a tensor of the given dtype (Float32 or Float64) and
// shape over the shared array. Its contents are left as they were.
func (s *Scratch) Tensor(dt tensor.Dtype, shape ...int) *tensor.Dense {
	n := tensor.Shape(shape).TotalSize()
	if dt == tensor.Float64 {
		if n > len(s.f64) {
			s.f64 = make([]float64, max(n, 2*len(s.f64)))
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(s.f64[:n]))
	}
	if n > len(s.f32) {
		s.f32 = make([]float32, max(n, 2*len(s.f32)))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(s.f32[:n]))
}

// DropoutPool lends the dropout masks of graphs that never run at the same
// time one set of arrays: mask i of every graph uses array i. Without it,
// each cached training graph keeps masks as large as its activations.
type DropoutPool struct {
	arrays []Scratch
}

// Bind points the masks of one graph at the pool's arrays, to be filled by
// FillDropout before the graph runs.
func (p *DropoutPool) Bind(masks []DropoutMask, dt tensor.Dtype) error {
	for len(p.arrays) < len(masks) {
		p.arrays = append(p.arrays, Scratch{})
	}
	for i, m := range masks {
		if m.Node == nil {
			continue // a checkpointed block's masks: bound when it runs
		}
		if err := G.Let(m.Node, p.arrays[i].Tensor(dt, m.Node.Shape()...)); err != nil {
			return err
		}
	}
	return nil
}
