package graph

import (
	"fmt"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/half"
)

// Affine returns x·W + b for x [N, in], W [in, out] and b [out]: a linear
// layer as one op. Gorgonia's BroadcastAdd of the bias would first copy b
// into an [N, out] tensor and then allocate the sum; here the bias rows are
// written into the output and the product is added to them by one BLAS
// call (beta = 1). The backward pass is three BLAS-backed ops:
//
//	dx = dy·Wᵀ, dW = xᵀ·dy, db = Σ_rows dy
func Affine(x, w, b *G.Node) *G.Node { return affine(nil, x, w, b, false) }

// AffineT returns x·Wᵀ + b for W [out, in]: the output projection tied to
// an embedding table [vocab, d]. Its gradients are dx = dy·W and
// dW = dyᵀ·x.
func AffineT(x, w, b *G.Node) *G.Node { return affine(nil, x, w, b, true) }

// affine is Affine (AffineT when transW) with its result lent by a.
func affine(a *Arena, x, w, b *G.Node, transW bool) *G.Node {
	return G.Must(apply(affineOp{transW: transW, arena: a}, x, w, b))
}

// RoundedAffine is Affine (AffineT when transW) with the operands of its
// product and of its backward products rounded to f: the linear layer of
// mixed-precision training (precision.go).
func RoundedAffine(f half.Format, x, w, b *G.Node, transW bool) *G.Node {
	return G.Must(apply(affineOp{transW: transW, prec: f}, x, w, b))
}

// RoundedProduct is x·W (x·Wᵀ when transW) with the operands rounded to f,
// differentiable: a linear layer without bias in mixed-precision training.
func RoundedProduct(f half.Format, x, w *G.Node, transW bool) *G.Node {
	return G.Must(apply(productOp{transB: transW, prec: f}, x, w))
}

type affineOp struct {
	transW bool
	prec   half.Format // the operands' rounding (0: none)
	arena  *Arena      // lends the result (nil: allocated)
}

func (op affineOp) Arity() int { return 3 }
func (op affineOp) Type() hm.Type {
	return hm.NewFnType(tensorType(2), tensorType(2), tensorType(1), tensorType(2))
}
func (op affineOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	x, w, b := in[0].(tensor.Shape), in[1].(tensor.Shape), in[2].(tensor.Shape)
	inner, out := w[0], w[1]
	if op.transW {
		inner, out = w[1], w[0]
	}
	if len(x) != 2 || x[1] != inner || b.TotalSize() != out {
		return nil, fmt.Errorf("%v: shapes x %v, W %v, b %v do not fit", op, x, w, b)
	}
	return tensor.Shape{x[0], out}, nil
}
func (op affineOp) String() string {
	s := "Affine"
	if op.transW {
		s = "AffineT"
	}
	if op.prec != 0 {
		s += "{" + op.prec.String() + "}"
	}
	return s
}

func (op affineOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	x, w, b := ts[0], ts[1], ts[2]
	n, inner := x.Shape()[0], x.Shape()[1]
	outDim := b.Shape().TotalSize()
	out := op.arena.dense(x.Dtype(), n, outDim)
	switch xs := x.Data().(type) {
	case []float32:
		ys, bs := out.Data().([]float32), b.Data().([]float32)
		for r := 0; r < n; r++ {
			copy(ys[r*outDim:(r+1)*outDim], bs)
		}
		gemmRounded(op.prec, false, op.transW, n, outDim, inner, xs, w.Data().([]float32), 1, ys)
	case []float64:
		ys, bs := out.Data().([]float64), b.Data().([]float64)
		for r := 0; r < n; r++ {
			copy(ys[r*outDim:(r+1)*outDim], bs)
		}
		gemmT(false, op.transW, n, outDim, inner, xs, w.Data().([]float64), 1, ys)
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, x.Dtype())
	}
	return out, nil
}

func (op affineOp) DiffWRT(inputs int) []bool { return []bool{true, true, true} }

// SymDiff differentiates y = x·op(W) + b: dx and dW are those of the
// product (productOp.SymDiff), db = Σ_rows dy.
func (op affineOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	d, err := productOp{transB: op.transW, prec: op.prec}.SymDiff(inputs[:2], output, grad)
	if err != nil {
		return nil, err
	}
	db, err := G.Sum(grad, 0)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d[0], d[1], db}, nil
}

// productOp is op(A)·op(B) for matrices, op transposing where asked,
// without materialising a transpose, its operands rounded to prec if set.
type productOp struct {
	transA, transB bool
	prec           half.Format
}

func (op productOp) Arity() int { return 2 }
func (op productOp) Type() hm.Type {
	return hm.NewFnType(tensorType(2), tensorType(2), tensorType(2))
}
func (op productOp) dims(a, b tensor.Shape) (m, n, k int) {
	m, k = a[0], a[1]
	if op.transA {
		m, k = a[1], a[0]
	}
	n = b[1]
	if op.transB {
		n = b[0]
	}
	return m, n, k
}
func (op productOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	m, n, _ := op.dims(in[0].(tensor.Shape), in[1].(tensor.Shape))
	return tensor.Shape{m, n}, nil
}
func (op productOp) String() string {
	if op.prec != 0 {
		return fmt.Sprintf("Product{%v,%v,%v}", op.transA, op.transB, op.prec)
	}
	return fmt.Sprintf("Product{%v,%v}", op.transA, op.transB)
}

func (op productOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	a, b := ts[0], ts[1]
	m, n, k := op.dims(a.Shape(), b.Shape())
	out := tensor.New(tensor.WithShape(m, n), tensor.Of(a.Dtype()))
	switch as := a.Data().(type) {
	case []float32:
		gemmRounded(op.prec, op.transA, op.transB, m, n, k, as, b.Data().([]float32), 0, out.Data().([]float32))
	case []float64:
		gemmT(op.transA, op.transB, m, n, k, as, b.Data().([]float64), 0, out.Data().([]float64))
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, a.Dtype())
	}
	return out, nil
}

func (op productOp) DiffWRT(inputs int) []bool { return []bool{true, true} }

// SymDiff differentiates C = A·op(B): dA = dC·op(B)ᵀ, and dB = Aᵀ·dC
// (dB = dCᵀ·A when B is transposed), each a productOp of the same
// precision. It serves RoundedProduct and Affine; a transposed A has no
// gradient here.
func (op productOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.transA {
		return nil, fmt.Errorf("%v: no gradient for a transposed first operand", op)
	}
	a, b := inputs[0], inputs[1]
	da, err := apply(productOp{transB: !op.transB, prec: op.prec}, grad, b)
	if err != nil {
		return nil, err
	}
	var db *G.Node
	if op.transB {
		db, err = apply(productOp{transA: true, prec: op.prec}, grad, a)
	} else {
		db, err = apply(productOp{transA: true, prec: op.prec}, a, grad)
	}
	if err != nil {
		return nil, err
	}
	return G.Nodes{da, db}, nil
}

// gemmT computes c = op(a)·op(b) + beta·c for dense row-major matrices
// with the BLAS the graphs use; a is [m, k] ([k, m] when transA), b is
// [k, n] ([n, k] when transB).
func gemmT[T float32 | float64](transA, transB bool, m, n, k int, a, b []T, beta T, c []T) {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	gemmLD(transA, transB, m, n, k, 1, a, lda, b, ldb, beta, c, n)
}

// gemmLD is gemmT for matrices inside larger row-major arrays: the leading
// dimensions lda, ldb and ldc are the row strides of a, b and c (the
// columns of one attention head within rows of all heads, say).
func gemmLD[T float32 | float64](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	switch a := any(a).(type) {
	case []float32:
		G.WhichBLAS().Sgemm(ta, tb, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		G.WhichBLAS().Dgemm(ta, tb, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}
