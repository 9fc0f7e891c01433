package train

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
)

// gradSum holds the gradients of one update summed over its micro-batches
// and, in data-parallel training, over the processes. They lie in one
// flat buffer, each parameter's gradient a view into it, so that they are
// all-reduced in a few large buckets without copies.
type gradSum struct {
	f32   []float32
	f64   []float64
	views map[string]*tensor.Dense
}

// bucket is how many values one all-reduce call sums (4 MiB of float32).
const bucket = 1 << 20

func newGradSum(s *graph.Store) *gradSum {
	g := &gradSum{views: map[string]*tensor.Dense{}}
	n := s.NumElements()
	if s.Dtype() == tensor.Float64 {
		g.f64 = make([]float64, n)
	} else {
		g.f32 = make([]float32, n)
	}
	off := 0
	for _, name := range s.Names() {
		p := s.Get(name)
		size := p.Shape().TotalSize()
		var backing any
		if g.f64 != nil {
			backing = g.f64[off : off+size]
		} else {
			backing = g.f32[off : off+size]
		}
		g.views[name] = tensor.New(tensor.WithShape(p.Shape().Clone()...), tensor.WithBacking(backing))
		off += size
	}
	return g
}

// add adds grads into the sum; first replaces the sum instead.
func (g *gradSum) add(grads []Param, first bool) error {
	for _, p := range grads {
		dst, ok := g.views[p.Name]
		if !ok {
			return fmt.Errorf("gradient of %s, which is no parameter", p.Name)
		}
		switch d := dst.Data().(type) {
		case []float32:
			addInto(d, p.Tensor.Data().([]float32), first)
		case []float64:
			addInto(d, p.Tensor.Data().([]float64), first)
		}
	}
	return nil
}

func addInto[T float32 | float64](dst, src []T, first bool) {
	if first {
		copy(dst, src)
		return
	}
	for i, v := range src {
		dst[i] += v
	}
}

// grads returns the summed gradients in the order of params.
func (g *gradSum) grads(params []Param) []Param {
	out := make([]Param, len(params))
	for i, p := range params {
		out[i] = Param{p.Name, g.views[p.Name]}
	}
	return out
}

// reduce sums the buffer over the processes of c, in buckets.
func (g *gradSum) reduce(c Comm) error {
	for lo := 0; lo < len(g.f32); lo += bucket {
		if err := c.SumFloat32(g.f32[lo:min(lo+bucket, len(g.f32))]); err != nil {
			return err
		}
	}
	for lo := 0; lo < len(g.f64); lo += bucket {
		if err := c.SumFloat64(g.f64[lo:min(lo+bucket, len(g.f64))]); err != nil {
			return err
		}
	}
	return nil
}

// microSeed is the dropout generator's state for micro-batch j of the
// update after step: a function of the seed and that position alone, so
// that a micro-batch draws the same masks whichever process trains it and
// however many accumulate (SplitMix64's finaliser of the three).
func microSeed(seed int64, step, j int) uint64 {
	z := uint64(seed)*0x9e3779b97f4a7c15 ^ uint64(step)*0xbf58476d1ce4e5b9 ^ uint64(j)*0x94d049bb133111eb
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
