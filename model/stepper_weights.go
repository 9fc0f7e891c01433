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

// sideBySide returns the linear layer whose weight holds those of as side
// by side ([in, Σ out_i]) and whose bias is theirs in turn, so that one
// product computes them all, column for column as each would; ok is false
// where the weights cannot be joined (formats that differ, or int8
// matrices whose columns are not whole blocks: i8.Concat).
func sideBySide[T float](in int, as ...affine[T]) (joined affine[T], ok bool) {
	var outs []int
	for _, a := range as {
		outs = append(outs, len(a.b))
	}
	first := as[0].w
	for _, a := range as {
		if a.b == nil || (a.w.q == nil) != (first.q == nil) || (a.w.bits == nil) != (first.bits == nil) || a.w.f != first.f {
			return affine[T]{}, false
		}
		joined.b = append(joined.b, a.b...)
	}
	switch {
	case first.q != nil:
		var qs []*i8.Matrix
		for _, a := range as {
			qs = append(qs, a.w.q)
		}
		q, err := i8.Concat(qs...)
		if err != nil {
			return affine[T]{}, false
		}
		joined.w = matrix[T]{q: q}
	case first.bits != nil:
		joined.w = matrix[T]{f: first.f, bits: joinRows(in, outs, func(i int) []uint16 { return as[i].w.bits })}
	default:
		joined.w = matrix[T]{v: joinRows(in, outs, func(i int) []T { return as[i].w.v })}
	}
	return joined, true
}

// joinRows lays the row-major matrices part(i) [rows, cols[i]] side by
// side.
func joinRows[E any](rows int, cols []int, part func(i int) []E) []E {
	total := 0
	for _, c := range cols {
		total += c
	}
	out := make([]E, 0, rows*total)
	for r := 0; r < rows; r++ {
		for i, c := range cols {
			out = append(out, part(i)[r*c:(r+1)*c]...)
		}
	}
	return out
}
