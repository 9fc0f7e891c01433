package graph

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph/i8"
)

// Int8 weights for inference. Store.ToInt8 quantises weight matrices to
// int8, per output column (package i8), and the graphs built over the store
// multiply by them with Int8Product: each row of activations is quantised
// on the fly, the products are summed in int32 and scaled back to float32,
// and everything else (biases, norms, softmax, attention) stays float32.
// These ops have no gradient: int8 weights are for translating and
// evaluating, not for training.

// Int8Weight names a weight matrix for Store.ToInt8.
type Int8Weight struct {
	Name string
	// Trans says that the products use the matrix transposed (x·Wᵀ, the
	// tied output projection of an embedding table [V, d]).
	Trans bool
	// Keep keeps the float32 tensor beside the int8 one, for a table that
	// embedding lookups also read; otherwise the store's tensor becomes the
	// int8 values (tensor.Int8, row-major, as op(W)'s columns are
	// quantised).
	Keep bool
}

// ToInt8 quantises the named float32 matrices to int8 and returns how many
// it converted. Builder.Affine, AffineT, MatMul and ProductT then multiply
// by the int8 matrix of any weight it holds one for.
func (s *Store) ToInt8(ws []Int8Weight) (int, error) {
	if s.dtype != tensor.Float32 {
		return 0, fmt.Errorf("int8 weights are computed with float32 activations, but this model's dtype is %v", s.dtype)
	}
	n := 0
	for _, w := range ws {
		t := s.vals[w.Name]
		if t == nil {
			return n, fmt.Errorf("int8: the model has no parameter %q", w.Name)
		}
		if _, ok := s.q8[w.Name]; ok {
			continue
		}
		v, ok := t.Data().([]float32)
		if !ok || t.Dims() != 2 {
			return n, fmt.Errorf("int8: parameter %q is a %v tensor of shape %v, not a float32 matrix", w.Name, t.Dtype(), t.Shape())
		}
		k, c := t.Shape()[0], t.Shape()[1]
		if w.Trans {
			k, c = c, k
		}
		m, err := i8.Quantize(v, k, c, w.Trans)
		if err != nil {
			return n, fmt.Errorf("parameter %q: %w", w.Name, err)
		}
		if s.q8 == nil {
			s.q8 = map[string]int8Matrix{}
		}
		s.q8[w.Name] = int8Matrix{m, w.Trans}
		if !w.Keep {
			q := make([]int8, len(v))
			for i := range q {
				p, j := i/t.Shape()[1], i%t.Shape()[1]
				if w.Trans {
					q[i] = m.Q(j, p)
				} else {
					q[i] = m.Q(p, j)
				}
			}
			s.vals[w.Name] = tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.WithBacking(q))
		}
		n++
	}
	return n, nil
}

// int8Matrix is a quantised parameter: op(W) as an int8 matrix.
type int8Matrix struct {
	m     *i8.Matrix
	trans bool // op(W) = Wᵀ
}

// Int8 returns the int8 matrix of parameter name (ToInt8) and whether it
// stands for the parameter transposed; nil when there is none.
func (s *Store) Int8(name string) (m *i8.Matrix, trans bool) {
	q := s.q8[name]
	return q.m, q.trans
}

// Int8Count is the number of int8 matrices the store holds.
func (s *Store) Int8Count() int { return len(s.q8) }

// int8Of returns the int8 matrix of the parameter node w used as op(W),
// op transposing when trans, or nil when there is none.
func (b *Builder) int8Of(w *G.Node, trans bool) *i8.Matrix {
	if q, ok := b.Store.q8[w.Name()]; ok && q.trans == trans {
		return q.m
	}
	return nil
}

// Int8Product returns x·W (+ bias, when bias is not nil) for float32 x
// [N, K] and an int8 matrix W [K, M] named name (the name tells ops apart).
func Int8Product(x *G.Node, w *i8.Matrix, name string, bias *G.Node) *G.Node {
	return int8Product(nil, x, w, name, bias)
}

// int8Product is Int8Product with its result lent by a.
func int8Product(a *Arena, x *G.Node, w *i8.Matrix, name string, bias *G.Node) *G.Node {
	op := int8ProductOp{w: w, name: name, bias: bias != nil, arena: a}
	if bias != nil {
		return G.Must(apply(op, x, bias))
	}
	return G.Must(apply(op, x))
}

// int8ProductOp is x·W (+ b) for the int8 matrix w.
type int8ProductOp struct {
	w     *i8.Matrix
	name  string
	bias  bool
	arena *Arena // lends the result (nil: allocated)
}

func (op int8ProductOp) Arity() int {
	if op.bias {
		return 2
	}
	return 1
}

func (op int8ProductOp) Type() hm.Type {
	ts := []hm.Type{G.TensorType{Dims: 2, Of: tensor.Float32}}
	if op.bias {
		ts = append(ts, G.TensorType{Dims: 1, Of: tensor.Float32})
	}
	return hm.NewFnType(append(ts, G.TensorType{Dims: 2, Of: tensor.Float32})...)
}

func (op int8ProductOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	x := in[0].(tensor.Shape)
	if len(x) != 2 || x[1] != op.w.K || op.bias && in[1].(tensor.Shape).TotalSize() != op.w.N {
		return nil, fmt.Errorf("%v: x %v does not fit W [%d, %d]", op, x, op.w.K, op.w.N)
	}
	return tensor.Shape{x[0], op.w.N}, nil
}

func (op int8ProductOp) String() string {
	return fmt.Sprintf("Int8Product{%s,%v,%p}", op.name, op.bias, op.w)
}

func (op int8ProductOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	xs, ok := ts[0].Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("%v: want float32 x, got %v", op, ts[0].Dtype())
	}
	var bias []float32
	if op.bias {
		if bias, ok = ts[1].Data().([]float32); !ok {
			return nil, fmt.Errorf("%v: want a float32 bias, got %v", op, ts[1].Dtype())
		}
	}
	rows := ts[0].Shape()[0]
	ys := op.arena.float32s(rows * op.w.N)
	op.w.Product(rows, xs, bias, ys)
	return tensor.New(tensor.WithShape(rows, op.w.N), tensor.WithBacking(ys)), nil
}
