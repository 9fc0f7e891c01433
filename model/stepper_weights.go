package model

import (
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/graph/i8"
	"github.com/gotransformer/transformer/half"
)

// matrix is a weight matrix of the graph-free decoder: the Store's values
// in the model's float type, the bits of 16-bit values (Store.ToHalf),
// which the products convert as they pack them (graph.SgemmHalf), or an
// int8 matrix (Store.ToInt8) for products only.
type matrix[T float] struct {
	v    []T
	bits []uint16
	f    half.Format
	q    *i8.Matrix
}

func matrixOf[T float](m *Transformer, name string) matrix[T] {
	if q, trans := m.Store.Int8(name); q != nil && !trans {
		return matrix[T]{q: q}
	}
	t := m.Store.Get(name)
	if f, bits := graph.HalfBits(t); f != 0 {
		return matrix[T]{bits: bits, f: f}
	}
	return matrix[T]{v: t.Data().([]T)}
}

// row returns row i of a matrix with d columns: a slice of the weights, or
// for 16-bit weights the row converted into buf.
func (w matrix[T]) row(i, d int, buf []T) []T {
	if w.bits == nil {
		return w.v[i*d : (i+1)*d]
	}
	half.Decode(w.f, any(buf).([]float32)[:d], w.bits[i*d:(i+1)*d])
	return buf[:d]
}

// affine is a linear layer's weight [in, out] and bias [out].
type affine[T float] struct {
	w matrix[T]
	b []T
}

func affineOf[T float](m *Transformer, name string) affine[T] {
	return affine[T]{w: matrixOf[T](m, name+".weight"), b: weight[T](m, name+".bias")}
}

// apply computes y = x·W + b for x [rows, in].
func (a affine[T]) apply(rows, in, out int, x, y []T) {
	if a.w.q != nil {
		a.w.q.Product(rows, any(x).([]float32), any(a.b).([]float32), any(y).([]float32))
		return
	}
	if a.w.bits == nil {
		linear(rows, in, out, x, a.w.v, a.b, y)
		return
	}
	for r := 0; r < rows; r++ {
		copy(y[r*out:(r+1)*out], a.b)
	}
	graph.SgemmHalf(a.w.f, false, rows, out, in, any(x).([]float32), a.w.bits, 1, any(y).([]float32))
}
