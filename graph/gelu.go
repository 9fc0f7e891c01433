package graph

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GELU is the exact Gaussian error linear unit (Hendrycks & Gimpel, 2016),
//
//	GELU(x) = x·Φ(x) = ½·x·(1 + erf(x/√2))
//
// with gradient Φ(x) + x·φ(x), as PyTorch's F.gelu with its default
// approximate="none". Gorgonia has no erf, so this is an op of its own.
func GELU(x *G.Node) *G.Node { return G.Must(apply(geluOp{}, x)) }

type geluOp struct{}

func (geluOp) Arity() int    { return 1 }
func (geluOp) Type() hm.Type { return sameType(1) }
func (geluOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return firstShape(in)
}
func (geluOp) String() string { return "GELU" }

func (op geluOp) Do(in ...G.Value) (G.Value, error) {
	return mapDense(op, in, func(x, _ float64) float64 { return x * normCDF(x) })
}

func (geluOp) DiffWRT(int) []bool { return []bool{true} }

func (geluOp) SymDiff(inputs G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(geluGradOp{}, inputs[0], grad)
	return G.Nodes{dx}, err
}

// geluGradOp maps (x, dy) to dy·(Φ(x) + x·φ(x)).
type geluGradOp struct{}

func (geluGradOp) Arity() int    { return 2 }
func (geluGradOp) Type() hm.Type { return sameType(2) }
func (geluGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return firstShape(in)
}
func (geluGradOp) String() string { return "GELUGrad" }

func (op geluGradOp) Do(in ...G.Value) (G.Value, error) {
	return mapDense(op, in, func(x, dy float64) float64 {
		return dy * (normCDF(x) + x*math.Exp(-x*x/2)/math.Sqrt(2*math.Pi))
	})
}

func normCDF(x float64) float64 { return 0.5 * (1 + math.Erf(x/math.Sqrt2)) }

// mapDense applies f element-wise to one or two same-shape dense inputs
// (the second argument of f is 0 for a unary op).
func mapDense(op fmt.Stringer, in []G.Value, f func(a, b float64) float64) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	x := ts[0]
	out := tensor.New(tensor.WithShape(x.Shape().Clone()...), tensor.Of(x.Dtype()))
	switch d := x.Data().(type) {
	case []float32:
		var y []float32
		if len(ts) > 1 {
			y = ts[1].Data().([]float32)
		}
		mapRows(d, y, out.Data().([]float32), f)
	case []float64:
		var y []float64
		if len(ts) > 1 {
			y = ts[1].Data().([]float64)
		}
		mapRows(d, y, out.Data().([]float64), f)
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, x.Dtype())
	}
	return out, nil
}

// mapRows sets o[i] = f(x[i], y[i]) (y nil: 0), in parallel chunks.
func mapRows[T float32 | float64](x, y, o []T, f func(a, b float64) float64) {
	const chunk = 4096
	parallelRows((len(x)+chunk-1)/chunk, func(lo, hi int) {
		for i := lo * chunk; i < min(hi*chunk, len(x)); i++ {
			b := 0.0
			if y != nil {
				b = float64(y[i])
			}
			o[i] = T(f(float64(x[i]), b))
		}
	})
}
