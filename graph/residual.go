package graph

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph/f32"
)

// Residual returns x + y ⊙ mask, the residual connection around a
// sublayer whose output y gets (inverted) dropout with mask (nil: none):
// one op where Gorgonia's Add and HadamardProd would each copy an operand
// before computing. Its gradients are dx = dz and dy = dz ⊙ mask.
func Residual(x, y, mask *G.Node) *G.Node { return residual(nil, x, y, mask) }

// residual is Residual with its result lent by a.
func residual(a *Arena, x, y, mask *G.Node) *G.Node {
	if mask == nil {
		return G.Must(apply(residualOp{arena: a}, x, y))
	}
	return G.Must(apply(residualOp{masked: true, arena: a}, x, y, mask))
}

type residualOp struct {
	masked bool
	arena  *Arena // lends the result (nil: allocated)
}

func (op residualOp) Arity() int {
	if op.masked {
		return 3
	}
	return 2
}
func (op residualOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	if op.masked {
		return hm.NewFnType(a, a, a, a)
	}
	return hm.NewFnType(a, a, a)
}
func (op residualOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s := in[0].(tensor.Shape)
	for _, o := range in[1:] {
		if !s.Eq(o.(tensor.Shape)) {
			return nil, fmt.Errorf("%v: shapes %v and %v differ", op, s, o)
		}
	}
	return s.Clone(), nil
}
func (op residualOp) String() string {
	if op.masked {
		return "ResidualDropout"
	}
	return "Residual"
}

func (op residualOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	out := op.arena.dense(ts[0].Dtype(), ts[0].Shape()...)
	switch x := ts[0].Data().(type) {
	case []float32:
		residualInto(x, ts[1].Data().([]float32), maskData[float32](ts, op.masked), out.Data().([]float32))
	case []float64:
		residualInto(x, ts[1].Data().([]float64), maskData[float64](ts, op.masked), out.Data().([]float64))
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, ts[0].Dtype())
	}
	return out, nil
}

func maskData[T float32 | float64](ts []*tensor.Dense, masked bool) []T {
	if !masked {
		return nil
	}
	return ts[2].Data().([]T)
}

// residualInto writes x + y ⊙ mask (mask nil: x + y) into out; with x nil
// it writes y ⊙ mask.
func residualInto[T float32 | float64](x, y, mask, out []T) {
	switch {
	case x == nil:
		for i, v := range y {
			out[i] = v * mask[i]
		}
	case mask == nil:
		for i, v := range y {
			out[i] = x[i] + v
		}
	default:
		for i, v := range y {
			out[i] = x[i] + v*mask[i]
		}
	}
}

func (op residualOp) DiffWRT(inputs int) []bool { return []bool{true, true, false}[:inputs] }

func (op residualOp) SymDiff(inputs G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	if !op.masked {
		return G.Nodes{grad, grad}, nil
	}
	dy, err := apply(maskOp{}, grad, inputs[2])
	return G.Nodes{grad, dy, nil}, err
}

// maskOp is a ⊙ m without copying either operand first.
type maskOp struct{}

func (op maskOp) Arity() int    { return 2 }
func (op maskOp) Type() hm.Type { return sameType(2) }
func (op maskOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return firstShape(in)
}
func (op maskOp) String() string { return "Mask" }

func (op maskOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	out := tensor.New(tensor.WithShape(ts[0].Shape().Clone()...), tensor.Of(ts[0].Dtype()))
	switch a := ts[0].Data().(type) {
	case []float32:
		residualInto(nil, a, ts[1].Data().([]float32), out.Data().([]float32))
	case []float64:
		residualInto(nil, a, ts[1].Data().([]float64), out.Data().([]float64))
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, ts[0].Dtype())
	}
	return out, nil
}

// ReLU returns max(x, 0) ⊙ mask (mask nil: max(x, 0)), the activation of a
// feed-forward layer with the dropout that follows it, as one op. Its
// gradient is dx = dy ⊙ mask where x > 0 and 0 elsewhere.
func ReLU(x, mask *G.Node) *G.Node { return relu(nil, x, mask) }

// relu is ReLU with its result lent by a.
func relu(a *Arena, x, mask *G.Node) *G.Node {
	if mask == nil {
		return G.Must(apply(reluOp{arena: a}, x))
	}
	return G.Must(apply(reluOp{masked: true, arena: a}, x, mask))
}

// reluOp is ReLU's forward pass; with grad set, it maps (x, [mask,] dy) to
// dx instead.
type reluOp struct {
	masked, grad bool
	arena        *Arena // lends the result (nil: allocated)
}

func (op reluOp) Arity() int {
	n := 1
	if op.masked {
		n++
	}
	if op.grad {
		n++
	}
	return n
}
func (op reluOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, op.Arity()+1)
	for i := range ts {
		ts[i] = a
	}
	return hm.NewFnType(ts...)
}
func (op reluOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return firstShape(in)
}
func (op reluOp) String() string { return fmt.Sprintf("ReLU{masked %v, grad %v}", op.masked, op.grad) }

func (op reluOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	out := op.arena.dense(ts[0].Dtype(), ts[0].Shape()...)
	switch x := ts[0].Data().(type) {
	case []float32:
		reluInto(op, x, ts, out.Data().([]float32))
	case []float64:
		reluInto(op, x, ts, out.Data().([]float64))
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, ts[0].Dtype())
	}
	return out, nil
}

// reluInto writes max(x, 0)·mask, or for the gradient dy·mask where x > 0,
// into out (mask taken as 1 when absent).
func reluInto[T float32 | float64](op reluOp, x []T, ts []*tensor.Dense, out []T) {
	var mask, dy []T
	if op.masked {
		mask = ts[1].Data().([]T)
	}
	if op.grad {
		dy = ts[len(ts)-1].Data().([]T)
	}
	if xs, ok := any(x).([]float32); ok {
		reluF32(xs, any(mask).([]float32), any(dy).([]float32), any(out).([]float32))
		return
	}
	for i, v := range x {
		if v <= 0 {
			out[i] = 0
			continue
		}
		if dy != nil {
			v = dy[i]
		}
		if mask != nil {
			v *= mask[i]
		}
		out[i] = v
	}
}

// reluF32 is reluInto for float32 without branches on the sign of x, which
// is random and costs a mispredicted branch per second element: the bits of
// the result are masked by whether x > 0.
func reluF32(x, mask, dy, out []float32) {
	if mask == nil && dy == nil {
		f32.ReLU(out, x) // the same rule, a vector at a time
		return
	}
	out = out[:len(x)]
	for i, v := range x {
		b := math.Float32bits(v)
		keep := uint32((-int64(int32(b))) >> 63) // all ones when x > 0
		if dy != nil {
			b = math.Float32bits(dy[i])
		}
		r := math.Float32frombits(b & keep)
		if mask != nil {
			r *= mask[i]
		}
		out[i] = r
	}
}

func (op reluOp) DiffWRT(inputs int) []bool { return []bool{true, false}[:inputs] }

func (op reluOp) SymDiff(inputs G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	g := op
	g.grad = true
	g.arena = nil // an arena lends forward results only
	dx, err := apply(g, append(append(G.Nodes{}, inputs...), grad)...)
	if op.masked {
		return G.Nodes{dx, nil}, err
	}
	return G.Nodes{dx}, err
}
