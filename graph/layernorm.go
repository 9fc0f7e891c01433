package graph

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/internal/rows"
)

// LayerNorm normalises each row of x [N, d] and scales and shifts it:
//
//	y = (x − mean(x)) / √(var(x) + eps) · gamma + beta
//
// with the biased variance, as PyTorch's nn.LayerNorm. It is one op with a
// hand-written backward pass instead of the nine elementwise and reduction
// ops of the formula (and their gradients), each of which would allocate
// an [N, d] tensor. The backward pass recomputes the row statistics from x:
//
//	x̂ = (x − mean)·rstd, g = dy·gamma
//	dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), dgamma = Σ_rows dy·x̂, dbeta = Σ_rows dy
func LayerNorm(x, gamma, beta *G.Node, eps float64) *G.Node {
	return layerNorm(nil, x, gamma, beta, eps)
}

// layerNorm is LayerNorm with its result lent by a.
func layerNorm(a *Arena, x, gamma, beta *G.Node, eps float64) *G.Node {
	return G.Must(apply(layerNormOp{eps: eps, arena: a}, x, gamma, beta))
}

type layerNormOp struct {
	eps   float64
	arena *Arena // lends the result (nil: allocated)
}

func (op layerNormOp) Arity() int { return 3 }
func (op layerNormOp) Type() hm.Type {
	return hm.NewFnType(tensorType(2), tensorType(1), tensorType(1), tensorType(2))
}
func (op layerNormOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return firstShape(in)
}
func (op layerNormOp) String() string { return fmt.Sprintf("LayerNorm{%g}", op.eps) }

func (op layerNormOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	x, gamma, beta := ts[0], ts[1], ts[2]
	out := op.arena.dense(x.Dtype(), x.Shape()...)
	d := lastDim(x)
	switch xs := x.Data().(type) {
	case []float32:
		parallelRows(len(xs)/d, func(lo, hi int) {
			layerNormRows(xs, gamma.Data().([]float32), beta.Data().([]float32), out.Data().([]float32), d, lo, hi, op.eps)
		})
	case []float64:
		parallelRows(len(xs)/d, func(lo, hi int) {
			layerNormRows(xs, gamma.Data().([]float64), beta.Data().([]float64), out.Data().([]float64), d, lo, hi, op.eps)
		})
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, x.Dtype())
	}
	return out, nil
}

func (op layerNormOp) DiffWRT(inputs int) []bool { return []bool{true, true, true} }

func (op layerNormOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	x, gamma := inputs[0], inputs[1]
	dx, err := apply(layerNormGradOp{eps: op.eps}, x, gamma, grad)
	if err != nil {
		return nil, err
	}
	dgamma, err := apply(layerNormGradOp{eps: op.eps, param: true}, x, gamma, grad)
	if err != nil {
		return nil, err
	}
	dbeta, err := G.Sum(grad, 0)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dgamma, dbeta}, nil
}

// layerNormGradOp maps (x, gamma, dy) to dx, or to dgamma when param is
// set.
type layerNormGradOp struct {
	eps   float64
	param bool
}

func (op layerNormGradOp) Arity() int { return 3 }
func (op layerNormGradOp) Type() hm.Type {
	if op.param {
		return hm.NewFnType(tensorType(2), tensorType(1), tensorType(2), tensorType(1))
	}
	return hm.NewFnType(tensorType(2), tensorType(1), tensorType(2), tensorType(2))
}
func (op layerNormGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if op.param {
		return in[1].(tensor.Shape).Clone(), nil
	}
	return in[0].(tensor.Shape).Clone(), nil
}
func (op layerNormGradOp) String() string {
	if op.param {
		return fmt.Sprintf("LayerNormGradGamma{%g}", op.eps)
	}
	return fmt.Sprintf("LayerNormGradX{%g}", op.eps)
}

func (op layerNormGradOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	x, gamma, dy := ts[0], ts[1], ts[2]
	d := lastDim(x)
	rows := x.Shape().TotalSize() / d
	if op.param {
		out := tensor.New(tensor.WithShape(d), tensor.Of(x.Dtype()))
		switch xs := x.Data().(type) {
		case []float32:
			layerNormGradGamma(xs, dy.Data().([]float32), out.Data().([]float32), d, rows, op.eps)
		case []float64:
			layerNormGradGamma(xs, dy.Data().([]float64), out.Data().([]float64), d, rows, op.eps)
		default:
			return nil, fmt.Errorf("%v: unsupported dtype %v", op, x.Dtype())
		}
		return out, nil
	}
	out := tensor.New(tensor.WithShape(x.Shape().Clone()...), tensor.Of(x.Dtype()))
	switch xs := x.Data().(type) {
	case []float32:
		parallelRows(rows, func(lo, hi int) {
			layerNormGradRows(xs, gamma.Data().([]float32), dy.Data().([]float32), out.Data().([]float32), d, lo, hi, op.eps)
		})
	case []float64:
		parallelRows(rows, func(lo, hi int) {
			layerNormGradRows(xs, gamma.Data().([]float64), dy.Data().([]float64), out.Data().([]float64), d, lo, hi, op.eps)
		})
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, x.Dtype())
	}
	return out, nil
}

// rowStats and layerNormRows are the row kernels of internal/rows, which
// the graph-free decoder shares.
func rowStats[T float32 | float64](x []T, eps float64) (mean, rstd float64) {
	return rows.Stats(x, eps)
}

func layerNormRows[T float32 | float64](x, gamma, beta, y []T, d, lo, hi int, eps float64) {
	rows.LayerNorm(x, gamma, beta, y, d, lo, hi, eps)
}

func layerNormGradRows[T float32 | float64](x, gamma, dy, dx []T, d, lo, hi int, eps float64) {
	for r := lo; r < hi; r++ {
		xr, dyr, dxr := x[r*d:(r+1)*d], dy[r*d:(r+1)*d], dx[r*d:(r+1)*d]
		mean, rstd := rowStats(xr, eps)
		var sg, sgx float64
		for i, v := range xr {
			g := float64(dyr[i]) * float64(gamma[i])
			sg += g
			sgx += g * (float64(v) - mean) * rstd
		}
		sg /= float64(d)
		sgx /= float64(d)
		for i, v := range xr {
			g := float64(dyr[i]) * float64(gamma[i])
			xh := (float64(v) - mean) * rstd
			dxr[i] = T(rstd * (g - sg - xh*sgx))
		}
	}
}

func layerNormGradGamma[T float32 | float64](x, dy, out []T, d, rows int, eps float64) {
	acc := make([]float64, d)
	for r := 0; r < rows; r++ {
		xr, dyr := x[r*d:(r+1)*d], dy[r*d:(r+1)*d]
		mean, rstd := rowStats(xr, eps)
		for i, v := range xr {
			acc[i] += float64(dyr[i]) * (float64(v) - mean) * rstd
		}
	}
	for i, v := range acc {
		out[i] = T(v)
	}
}
