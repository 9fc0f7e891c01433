package graph

import (
	"fmt"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func residualInputs(b *Builder, masked bool) (x, y, mask *G.Node) {
	x, y = RandomInput(b, "x", 1, 4, 5), RandomInput(b, "y", 2, 4, 5)
	if masked {
		mask = b.Input("mask", 4, 5)
		m := make([]float64, 20)
		for i := range m {
			if i%3 != 0 {
				m[i] = 1.25
			}
		}
		copy64To(mask.Value().(*tensor.Dense), m)
	}
	return x, y, mask
}

func TestResidualGradCheck(t *testing.T) {
	for _, masked := range []bool{false, true} {
		b := NewBuilder(NewStore(tensor.Float64, 1), false)
		x, y, mask := residualInputs(b, masked)
		checkGrads(t, fmt.Sprintf("masked %v", masked), b, Residual(x, y, mask), G.Nodes{x, y})
	}
}

// The fused op equals Add(x, HadamardProd(y, mask)) in value and gradients
// (exactly: both compute the same products and sums).
func TestResidualEqualsUnfused(t *testing.T) {
	for _, masked := range []bool{false, true} {
		fused := func(b *Builder) (*G.Node, G.Nodes) {
			x, y, mask := residualInputs(b, masked)
			return Residual(x, y, mask), G.Nodes{x, y}
		}
		unfused := func(b *Builder) (*G.Node, G.Nodes) {
			x, y, mask := residualInputs(b, masked)
			return ResidualComposed(x, y, mask), G.Nodes{x, y}
		}
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			compareFused(t, fmt.Sprintf("masked %v", masked), dt, 0, fused, unfused)
		}
	}
}

func TestReLUGradCheck(t *testing.T) {
	for _, masked := range []bool{false, true} {
		b := NewBuilder(NewStore(tensor.Float64, 1), false)
		x, _, mask := residualInputs(b, masked)
		checkGrads(t, fmt.Sprintf("masked %v", masked), b, ReLU(x, mask), G.Nodes{x})
	}
}

// The fused op equals HadamardProd(Rectify(x), mask) in value and gradient.
func TestReLUEqualsUnfused(t *testing.T) {
	for _, masked := range []bool{false, true} {
		fused := func(b *Builder) (*G.Node, G.Nodes) {
			x, _, mask := residualInputs(b, masked)
			return ReLU(x, mask), G.Nodes{x}
		}
		unfused := func(b *Builder) (*G.Node, G.Nodes) {
			x, _, mask := residualInputs(b, masked)
			return ReLUComposed(x, mask), G.Nodes{x}
		}
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			compareFused(t, fmt.Sprintf("masked %v", masked), dt, 0, fused, unfused)
		}
	}
}

// The branch-free float32 ReLU agrees with the plain definition at zeros,
// signed zeros, tiny and huge values, with and without mask and gradient.
func TestReLUF32Edges(t *testing.T) {
	x := []float32{0, float32(math.Copysign(0, -1)), 1e-40, -1e-40, 3, -3, float32(math.Inf(1)), float32(math.Inf(-1)), math.MaxFloat32, -math.MaxFloat32}
	mask := make([]float32, len(x))
	dy := make([]float32, len(x))
	for i := range x {
		mask[i], dy[i] = float32(i%3), float32(i)-4.5
	}
	for _, m := range [][]float32{nil, mask} {
		for _, g := range [][]float32{nil, dy} {
			out := make([]float32, len(x))
			reluF32(x, m, g, out)
			for i, v := range x {
				want := float32(0)
				if v > 0 {
					want = v
					if g != nil {
						want = g[i]
					}
					if m != nil {
						want *= m[i]
					}
				}
				if want != want && out[i] != out[i] { // +Inf × mask 0, in both
					continue
				}
				if out[i] != want || math.Signbit(float64(out[i])) != math.Signbit(float64(want)) {
					t.Errorf("mask %v grad %v: relu(%g) = %g, want %g", m != nil, g != nil, v, out[i], want)
				}
			}
		}
	}
}
