package graph

import (
	"fmt"
	"reflect"
	"sync"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph/f32"
	"github.com/gotransformer/transformer/half"
)

// Half-precision weights for inference. A Store converted with ToHalf holds
// its matrices as tensors of Float16 or BFloat16 numbers; the graphs built
// over it read them with the ops below, which convert them to float32
// inside the matrix product's packing (f32.SgemmHalf), so that no float32
// copy of a weight is made and every product, sum and activation stays
// float32. These ops have no gradient: half weights are for translating
// and evaluating, not for training.

// The tensor dtypes of 16-bit weights.
var (
	Float16  = tensor.Dtype{Type: reflect.TypeOf(half.Float16(0))}
	BFloat16 = tensor.Dtype{Type: reflect.TypeOf(half.BFloat16(0))}
)

// HalfFormat is the 16-bit format of t's values, or 0 when they are not
// 16-bit numbers.
func HalfFormat(t *tensor.Dense) half.Format {
	switch t.Data().(type) {
	case []half.Float16:
		return half.F16
	case []half.BFloat16:
		return half.BF16
	}
	return 0
}

// halfBits is t's format and its values' bits (no copy).
func halfBits(t *tensor.Dense) (half.Format, []uint16) {
	switch d := t.Data().(type) {
	case []half.Float16:
		return half.F16, half.Float16Bits(d)
	case []half.BFloat16:
		return half.BF16, half.BFloat16Bits(d)
	}
	return 0, nil
}

// ToHalf rounds a float32 or float64 tensor into a new tensor of format f.
func ToHalf(f half.Format, t *tensor.Dense) *tensor.Dense {
	v := Float64s(t)
	switch f {
	case half.F16:
		d := make([]half.Float16, len(v))
		for i, x := range v {
			d[i] = half.FromFloat32(float32(x))
		}
		return tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.WithBacking(d))
	case half.BF16:
		d := make([]half.BFloat16, len(v))
		for i, x := range v {
			d[i] = half.BFloat16FromFloat32(float32(x))
		}
		return tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.WithBacking(d))
	}
	panic(fmt.Sprintf("graph: no half format %v", f))
}

// FromHalf converts a tensor of 16-bit numbers to a float32 tensor.
func FromHalf(t *tensor.Dense) *tensor.Dense {
	f, bits := halfBits(t)
	if f == 0 {
		panic(fmt.Sprintf("graph: %v is not a half-precision dtype", t.Dtype()))
	}
	out := make([]float32, len(bits))
	half.Decode(f, out, bits)
	return tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.WithBacking(out))
}

// IsHalf reports whether n's values are 16-bit numbers.
func IsHalf(n *G.Node) bool { return n.Dtype() == Float16 || n.Dtype() == BFloat16 }

// gemmHalf computes c = x·op(W) + beta·c for float32 x [m, k] and a 16-bit
// W ([k, n], or [n, k] when transW). With package f32's kernel W is
// converted while packed; otherwise a block of 256 of its rows (or
// columns) at a time is converted and multiplied by the BLAS in use.
func gemmHalf(f half.Format, transW bool, m, n, k int, x []float32, w []uint16, beta float32, c []float32) {
	ldw := n
	if transW {
		ldw = k
	}
	if f32.Available() {
		f32.SgemmHalf(f, transW, m, n, k, x, k, w, ldw, beta, c, n)
		return
	}
	if k == 0 && beta == 0 {
		clear(c[:m*n]) // no block runs below; c may hold an arena's old values
		return
	}
	const block = 256
	buf := halfScratch.Get().(*[]float32)
	defer halfScratch.Put(buf)
	if need := block * n; cap(*buf) < need {
		*buf = make([]float32, need)
	}
	s := (*buf)[:block*n]
	for p0 := 0; p0 < k; p0 += block {
		kb := min(block, k-p0)
		b := beta
		if p0 > 0 {
			b = 1
		}
		if transW { // op(W) rows p0… are W's columns p0…: convert W[:, p0:p0+kb] as [n, kb]
			for j := 0; j < n; j++ {
				half.Decode(f, s[j*kb:(j+1)*kb], w[j*ldw+p0:j*ldw+p0+kb])
			}
			G.WhichBLAS().Sgemm(blas.NoTrans, blas.Trans, m, n, kb, 1, x[p0:], k, s, kb, b, c, n)
			continue
		}
		half.Decode(f, s[:kb*n], w[p0*ldw:(p0+kb)*ldw])
		G.WhichBLAS().Sgemm(blas.NoTrans, blas.NoTrans, m, n, kb, 1, x[p0:], k, s, n, b, c, n)
	}
}

// SgemmHalf computes c = x·op(W) + beta·c for float32 x [m, k] and c
// [m, n] and a 16-bit W of format f given by its bits ([k, n], or [n, k]
// when transW), converting W as the graph ops do.
func SgemmHalf(f half.Format, transW bool, m, n, k int, x []float32, w []uint16, beta float32, c []float32) {
	gemmHalf(f, transW, m, n, k, x, w, beta, c)
}

// HalfBits is t's 16-bit format and its values' bits (no copy), or 0 and
// nil when t is not 16-bit.
func HalfBits(t *tensor.Dense) (half.Format, []uint16) { return halfBits(t) }

var halfScratch = sync.Pool{New: func() any { return new([]float32) }}

// HalfAffine returns x·W + b (transW: x·Wᵀ + b) for float32 x and b and a
// 16-bit W: Affine and AffineT for half weights.
func HalfAffine(x, w, b *G.Node, transW bool) *G.Node { return halfProduct(nil, x, w, b, transW) }

// HalfProduct returns x·W (transW: x·Wᵀ) for float32 x and a 16-bit W.
func HalfProduct(x, w *G.Node, transW bool) *G.Node { return halfProduct(nil, x, w, nil, transW) }

// halfProduct is HalfAffine (HalfProduct for a nil b) with its result lent
// by a.
func halfProduct(a *Arena, x, w, b *G.Node, transW bool) *G.Node {
	op := halfProductOp{transW: transW, bias: b != nil, dt: w.Dtype(), arena: a}
	if b == nil {
		return G.Must(apply(op, x, w))
	}
	return G.Must(apply(op, x, w, b))
}

// halfProductOp is x·op(W) (+ b) with W of dtype dt.
type halfProductOp struct {
	transW, bias bool
	dt           tensor.Dtype
	arena        *Arena // lends the result (nil: allocated)
}

func (op halfProductOp) Arity() int {
	if op.bias {
		return 3
	}
	return 2
}

func (op halfProductOp) Type() hm.Type {
	ts := []hm.Type{G.TensorType{Dims: 2, Of: tensor.Float32}, G.TensorType{Dims: 2, Of: op.dt}}
	if op.bias {
		ts = append(ts, G.TensorType{Dims: 1, Of: tensor.Float32})
	}
	return hm.NewFnType(append(ts, G.TensorType{Dims: 2, Of: tensor.Float32})...)
}

func (op halfProductOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	x, w := in[0].(tensor.Shape), in[1].(tensor.Shape)
	inner, out := w[0], w[1]
	if op.transW {
		inner, out = w[1], w[0]
	}
	if len(x) != 2 || x[1] != inner || op.bias && in[2].(tensor.Shape).TotalSize() != out {
		return nil, fmt.Errorf("%v: shapes x %v, W %v do not fit", op, x, w)
	}
	return tensor.Shape{x[0], out}, nil
}

func (op halfProductOp) String() string {
	return fmt.Sprintf("HalfProduct{%v,%v,%v}", op.transW, op.bias, op.dt)
}

func (op halfProductOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	x, w := ts[0], ts[1]
	xs, ok := x.Data().([]float32)
	f, bits := halfBits(w)
	if !ok || f == 0 {
		return nil, fmt.Errorf("%v: want float32 x and 16-bit W, got %v and %v", op, x.Dtype(), w.Dtype())
	}
	n, inner := x.Shape()[0], x.Shape()[1]
	outDim := w.Shape()[1]
	if op.transW {
		outDim = w.Shape()[0]
	}
	ys := op.arena.float32s(n * outDim)
	beta := float32(0)
	if op.bias {
		bs, ok := ts[2].Data().([]float32)
		if !ok {
			return nil, fmt.Errorf("%v: want a float32 bias, got %v", op, ts[2].Dtype())
		}
		for r := 0; r < n; r++ {
			copy(ys[r*outDim:(r+1)*outDim], bs)
		}
		beta = 1
	}
	gemmHalf(f, op.transW, n, outDim, inner, xs, bits, beta, ys)
	return tensor.New(tensor.WithShape(n, outDim), tensor.WithBacking(ys)), nil
}

// HalfLookup returns the float32 rows ids (an Int vector [N]) of a 16-bit
// table [V, d]: an embedding lookup, [N, d].
func HalfLookup(table, ids *G.Node) *G.Node {
	return G.Must(apply(halfLookupOp{dt: table.Dtype()}, table, ids))
}

type halfLookupOp struct{ dt tensor.Dtype }

func (op halfLookupOp) Arity() int { return 2 }
func (op halfLookupOp) Type() hm.Type {
	return hm.NewFnType(G.TensorType{Dims: 2, Of: op.dt}, G.TensorType{Dims: 1, Of: tensor.Int}, G.TensorType{Dims: 2, Of: tensor.Float32})
}
func (op halfLookupOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	t, ids := in[0].(tensor.Shape), in[1].(tensor.Shape)
	return tensor.Shape{ids.TotalSize(), t[1]}, nil
}
func (op halfLookupOp) String() string { return fmt.Sprintf("HalfLookup{%v}", op.dt) }

func (op halfLookupOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	f, bits := halfBits(ts[0])
	ids, ok := ts[1].Data().([]int)
	if f == 0 || !ok {
		return nil, fmt.Errorf("%v: want a 16-bit table and int ids, got %v and %v", op, ts[0].Dtype(), ts[1].Dtype())
	}
	v, d := ts[0].Shape()[0], ts[0].Shape()[1]
	out := make([]float32, len(ids)*d)
	for i, id := range ids {
		if id < 0 || id >= v {
			return nil, fmt.Errorf("%v: id %d outside the table's %d rows", op, id, v)
		}
		half.Decode(f, out[i*d:(i+1)*d], bits[id*d:(id+1)*d])
	}
	return tensor.New(tensor.WithShape(len(ids), d), tensor.WithBacking(out)), nil
}
