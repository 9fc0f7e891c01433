package graph

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// CrossEntropyRows returns each row's cross-entropy between a target
// distribution and the softmax of the scores, [N] for logits and target
// [N, V]:
//
//	loss_i = −Σ_v target[i,v] · log softmax(logits_i)_v
//
// The target rows may be scaled (for a mean) or smoothed and need not sum
// to one. It is one op instead of log-softmax, product and sum, and its
// hand-written backward pass allocates only the gradient:
//
//	dlogits[i,v] = dloss_i · (softmax(logits_i)_v · Σ_w target[i,w] − target[i,v])
//
// The target gets no gradient.
func CrossEntropyRows(logits, target *G.Node) *G.Node {
	return G.Must(apply(crossEntropyOp{}, logits, target))
}

type crossEntropyOp struct{}

func (op crossEntropyOp) Arity() int { return 2 }
func (op crossEntropyOp) Type() hm.Type {
	return hm.NewFnType(tensorType(2), tensorType(2), tensorType(1))
}
func (op crossEntropyOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s := in[0].(tensor.Shape)
	if len(s) != 2 || !s.Eq(in[1].(tensor.Shape)) {
		return nil, fmt.Errorf("%v: logits %v and target %v must be equal [N, V] shapes", op, s, in[1])
	}
	return tensor.Shape{s[0]}, nil
}
func (op crossEntropyOp) String() string { return "CrossEntropyRows" }

func (op crossEntropyOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	x, t := ts[0], ts[1]
	n, v := x.Shape()[0], x.Shape()[1]
	out := tensor.New(tensor.WithShape(n), tensor.Of(x.Dtype()))
	switch xs := x.Data().(type) {
	case []float32:
		parallelRows(n, func(lo, hi int) { crossEntropyRows(xs, t.Data().([]float32), out.Data().([]float32), v, lo, hi) })
	case []float64:
		parallelRows(n, func(lo, hi int) { crossEntropyRows(xs, t.Data().([]float64), out.Data().([]float64), v, lo, hi) })
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, x.Dtype())
	}
	return out, nil
}

func (op crossEntropyOp) DiffWRT(inputs int) []bool { return []bool{true, false} }

func (op crossEntropyOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(crossEntropyGradOp{}, inputs[0], inputs[1], grad)
	return G.Nodes{dx, nil}, err
}

// crossEntropyGradOp maps (logits, target, dloss) to dlogits.
type crossEntropyGradOp struct{}

func (op crossEntropyGradOp) Arity() int { return 3 }
func (op crossEntropyGradOp) Type() hm.Type {
	return hm.NewFnType(tensorType(2), tensorType(2), tensorType(1), tensorType(2))
}
func (op crossEntropyGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return firstShape(in)
}
func (op crossEntropyGradOp) String() string { return "CrossEntropyRowsGrad" }

func (op crossEntropyGradOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	x, t, dy := ts[0], ts[1], ts[2]
	n, v := x.Shape()[0], x.Shape()[1]
	out := tensor.New(tensor.WithShape(n, v), tensor.Of(x.Dtype()))
	switch xs := x.Data().(type) {
	case []float32:
		parallelRows(n, func(lo, hi int) {
			crossEntropyGradRows(xs, t.Data().([]float32), dy.Data().([]float32), out.Data().([]float32), v, lo, hi)
		})
	case []float64:
		parallelRows(n, func(lo, hi int) {
			crossEntropyGradRows(xs, t.Data().([]float64), dy.Data().([]float64), out.Data().([]float64), v, lo, hi)
		})
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, x.Dtype())
	}
	return out, nil
}

// logSumExp returns the row's maximum and log Σ exp(x − max), in float64;
// scratch holds the exponentials.
func logSumExp[T float32 | float64](x, scratch []T) (m, lse float64) {
	mx := x[0]
	for _, v := range x[1:] {
		mx = max(mx, v)
	}
	return float64(mx), math.Log(expShift(scratch, x, mx))
}

// expRow sets dst to exp(x − max x) and returns their sum, in float64.
func expRow[T float32 | float64](dst, x []T) float64 {
	m := x[0]
	for _, v := range x[1:] {
		m = max(m, v)
	}
	return expShift(dst, x, m)
}

func crossEntropyRows[T float32 | float64](x, t, out []T, v, lo, hi int) {
	scratch := make([]T, v)
	for r := lo; r < hi; r++ {
		xr, tr := x[r*v:(r+1)*v], t[r*v:(r+1)*v]
		m, lse := logSumExp(xr, scratch)
		var loss float64
		for j, w := range tr {
			if w != 0 {
				loss -= float64(w) * (float64(xr[j]) - m - lse)
			}
		}
		out[r] = T(loss)
	}
}

func crossEntropyGradRows[T float32 | float64](x, t, dy, dx []T, v, lo, hi int) {
	for r := lo; r < hi; r++ {
		xr, tr, dxr := x[r*v:(r+1)*v], t[r*v:(r+1)*v], dx[r*v:(r+1)*v]
		var mass float64
		for _, w := range tr {
			mass += float64(w)
		}
		g := float64(dy[r])
		if mass == 0 || g == 0 {
			clear(dxr)
			continue
		}
		sum := expRow(dxr, xr) // dx holds exp(x − max) until the last pass
		scale, gt := T(g*mass/sum), T(g)
		for j, e := range dxr {
			dxr[j] = scale*e - gt*tr[j]
		}
	}
}
