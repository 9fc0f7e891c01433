package graph

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GoldCrossEntropyRows returns each row's cross-entropy between the
// label-smoothed distribution of a gold token and the softmax of the
// scores, [N] for logits [N, V] and gold [N, 2], whose row i holds a token
// id and a weight w_i:
//
//	loss_i = −w_i · Σ_v t_v · log softmax(logits_i)_v,  t_v = ε/V + (1−ε)·[v = id_i]
//
// It is CrossEntropyRows against the dense target w_i·t (its reference in
// the tests), without the [N, V] target: PyTorch's
// CrossEntropyLoss(label_smoothing=ε) scaled per row. A row of weight 0
// (padding) has loss and gradient 0 and its id is not read; any other id
// must be an integer in [0, V), or the op fails. The gold rows get no
// gradient:
//
//	dlogits[i,v] = dloss_i · w_i · (softmax(logits_i)_v − t_v)
func GoldCrossEntropyRows(logits, gold *G.Node, eps float64) *G.Node {
	return G.Must(apply(goldCrossEntropyOp{eps}, logits, gold))
}

type goldCrossEntropyOp struct{ eps float64 }

func (op goldCrossEntropyOp) Arity() int { return 2 }
func (op goldCrossEntropyOp) Type() hm.Type {
	return hm.NewFnType(tensorType(2), tensorType(2), tensorType(1))
}
func (op goldCrossEntropyOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, g := in[0].(tensor.Shape), in[1].(tensor.Shape)
	if len(s) != 2 || len(g) != 2 || g[0] != s[0] || g[1] != 2 {
		return nil, fmt.Errorf("%v: logits %v and gold %v must be [N, V] and [N, 2]", op, s, g)
	}
	return tensor.Shape{s[0]}, nil
}
func (op goldCrossEntropyOp) String() string { return fmt.Sprintf("GoldCrossEntropyRows{%v}", op.eps) }

func (op goldCrossEntropyOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	x, g := ts[0], ts[1]
	n, v := x.Shape()[0], x.Shape()[1]
	if err := checkGold(op, g, v); err != nil {
		return nil, err
	}
	out := tensor.New(tensor.WithShape(n), tensor.Of(x.Dtype()))
	switch xs := x.Data().(type) {
	case []float32:
		parallelRows(n, func(lo, hi int) {
			goldCrossEntropyRows(xs, g.Data().([]float32), out.Data().([]float32), v, op.eps, lo, hi)
		})
	case []float64:
		parallelRows(n, func(lo, hi int) {
			goldCrossEntropyRows(xs, g.Data().([]float64), out.Data().([]float64), v, op.eps, lo, hi)
		})
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, x.Dtype())
	}
	return out, nil
}

func (op goldCrossEntropyOp) DiffWRT(inputs int) []bool { return []bool{true, false} }

func (op goldCrossEntropyOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(goldCrossEntropyGradOp(op), inputs[0], inputs[1], grad)
	return G.Nodes{dx, nil}, err
}

// checkGold fails unless every weighted row of gold [N, 2] holds an
// integer id in [0, v).
func checkGold(op fmt.Stringer, g *tensor.Dense, v int) error {
	vals := Float64s(g)
	for r := 0; r+1 < len(vals); r += 2 {
		id, w := vals[r], vals[r+1]
		if w != 0 && (id != math.Trunc(id) || id < 0 || id >= float64(v)) {
			return fmt.Errorf("%v: row %d's gold id %v is not a token of a vocabulary of %d", op, r/2, id, v)
		}
	}
	return nil
}

// goldCrossEntropyGradOp maps (logits, gold, dloss) to dlogits.
type goldCrossEntropyGradOp struct{ eps float64 }

func (op goldCrossEntropyGradOp) Arity() int { return 3 }
func (op goldCrossEntropyGradOp) Type() hm.Type {
	return hm.NewFnType(tensorType(2), tensorType(2), tensorType(1), tensorType(2))
}
func (op goldCrossEntropyGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return firstShape(in)
}
func (op goldCrossEntropyGradOp) String() string {
	return fmt.Sprintf("GoldCrossEntropyRowsGrad{%v}", op.eps)
}

func (op goldCrossEntropyGradOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	x, g, dy := ts[0], ts[1], ts[2]
	n, v := x.Shape()[0], x.Shape()[1]
	if err := checkGold(op, g, v); err != nil {
		return nil, err
	}
	out := tensor.New(tensor.WithShape(n, v), tensor.Of(x.Dtype()))
	switch xs := x.Data().(type) {
	case []float32:
		parallelRows(n, func(lo, hi int) {
			goldCrossEntropyGradRows(xs, g.Data().([]float32), dy.Data().([]float32), out.Data().([]float32), v, op.eps, lo, hi)
		})
	case []float64:
		parallelRows(n, func(lo, hi int) {
			goldCrossEntropyGradRows(xs, g.Data().([]float64), dy.Data().([]float64), out.Data().([]float64), v, op.eps, lo, hi)
		})
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, x.Dtype())
	}
	return out, nil
}

// goldCrossEntropyRows: with log p_v = x_v − m − lse, the loss is
// −w·((ε/V)·Σ_v log p_v + (1−ε)·log p_id).
func goldCrossEntropyRows[T float32 | float64](x, g, out []T, v int, eps float64, lo, hi int) {
	scratch := make([]T, v)
	for r := lo; r < hi; r++ {
		w := float64(g[2*r+1])
		if w == 0 {
			out[r] = 0
			continue
		}
		xr, id := x[r*v:(r+1)*v], int(g[2*r])
		m, lse := logSumExp(xr, scratch)
		var sum float64
		for _, z := range xr {
			sum += float64(z)
		}
		norm := m + lse
		smooth := sum - float64(v)*norm // Σ_v log p_v
		out[r] = T(-w * (eps/float64(v)*smooth + (1-eps)*(float64(xr[id])-norm)))
	}
}

func goldCrossEntropyGradRows[T float32 | float64](x, g, dy, dx []T, v int, eps float64, lo, hi int) {
	for r := lo; r < hi; r++ {
		xr, dxr := x[r*v:(r+1)*v], dx[r*v:(r+1)*v]
		w, gr := float64(g[2*r+1]), float64(dy[r])
		if w == 0 || gr == 0 {
			clear(dxr)
			continue
		}
		sum := expRow(dxr, xr) // dx holds exp(x − max) until the last pass
		scale, off := T(gr*w/sum), T(gr*w*eps/float64(v))
		for j, e := range dxr {
			dxr[j] = scale*e - off
		}
		dxr[int(g[2*r])] -= T(gr * w * (1 - eps))
	}
}
