package graph

import (
	"sync"

	"github.com/gotransformer/transformer/graph/f32"
	"github.com/gotransformer/transformer/half"
)

// Mixed-precision training. A Builder with Precision set to half.BF16 or
// half.F16 over a float32 Store builds every weight product (Affine,
// AffineT, MatMul, ProductT) and the products of their backward passes with
// both operands rounded to that format and float32 sums, as
// torch.autocast does: the Store keeps the float32 master weights, which
// the optimizer updates, and each product reads a half-precision copy made
// while packing. bfloat16 products run the VDPBF16PS kernel
// (f32.SgemmBF16) where the CPU has AVX512_BF16; float16 ones, and
// bfloat16 elsewhere, round the operands and multiply in float32, which
// gives the same result as a half-precision kernel with float32
// accumulation (each product of two 11-bit significands is exact in
// float32). Softmax, layer norm, the loss and attention's own products stay
// float32.

// gemmRounded computes c = op(a)·op(b) + beta·c like gemmT, with a and b
// rounded to f first; f 0 is gemmT itself. Every path rounds while packing,
// with no rounded copy of an operand. bfloat16 products whose A is packed
// once for many columns (A not transposed and n ≥ 2k: the feed-forward
// up-projection, the output projection and the input gradient of the
// down-projection) run the VDPBF16PS kernel where the CPU has it; the
// others, whose pair packing would cost more than the kernel saves
// (BenchmarkRoundedProducts), run the float32 kernel on rounded panels
// (f32.SgemmRounded), which is exact as well. Without an assembly kernel
// (--kernel go), blocks of the operands are rounded into scratch for the
// graphs' BLAS.
func gemmRounded(f half.Format, transA, transB bool, m, n, k int, a, b []float32, beta float32, c []float32) {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	switch {
	case f == half.BF16 && f32.BF16Native() && !transA && n >= 2*k:
		f32.SgemmRoundedBF16(transA, transB, m, n, k, a, lda, b, ldb, beta, c, n)
	case f != 0 && f32.Available():
		f32.SgemmRounded(f, transA, transB, m, n, k, a, lda, b, ldb, beta, c, n)
	case f != 0:
		gemmRoundedBlocks(f, transA, transB, m, n, k, a, lda, b, ldb, beta, c)
	default:
		gemmT(transA, transB, m, n, k, a, b, beta, c)
	}
}

// roundBlock is about how many values of a large operand gemmRoundedBlocks
// rounds at a time, so that its scratch stays small whatever the product;
// blocks keep at least minBlock rows or values of k, so that each product
// stays large enough to run at full speed on every core.
var roundBlock, minBlock = 1 << 20, 192

// gemmRoundedBlocks is gemmRounded by rounded copies, for BLAS without
// rounding: blocks of A's rows
// with B whole when A is not transposed (B is then a weight), blocks of k
// of both otherwise (the weight gradient Aᵀ·B of two activations).
func gemmRoundedBlocks(f half.Format, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32) {
	rounded := func(v []float32) *[]float32 {
		r := floatsPool.get(len(v))
		roundTo(f, *r, v)
		return r
	}
	switch {
	case !transA:
		br := rounded(b)
		defer floatsPool.put(br)
		rows := max(minBlock, roundBlock/max(k, 1))
		for i0 := 0; i0 < m; i0 += rows {
			mi := min(rows, m-i0)
			ar := rounded(a[i0*lda : (i0+mi)*lda])
			gemmLD(false, transB, mi, n, k, 1, *ar, lda, *br, ldb, beta, c[i0*n:], n)
			floatsPool.put(ar)
		}
	case !transB:
		ks := max(minBlock, roundBlock/max(m, n))
		for p0 := 0; p0 < k; p0 += ks {
			kb := min(ks, k-p0)
			ar, br := rounded(a[p0*lda:(p0+kb)*lda]), rounded(b[p0*ldb:(p0+kb)*ldb])
			gemmLD(true, false, m, n, kb, 1, *ar, lda, *br, ldb, beta, c, n)
			floatsPool.put(ar)
			floatsPool.put(br)
			beta = 1
		}
	default:
		ar, br := rounded(a), rounded(b)
		gemmLD(transA, transB, m, n, k, 1, *ar, lda, *br, ldb, beta, c, n)
		floatsPool.put(ar)
		floatsPool.put(br)
	}
}

// RoundTo rounds each value of x to the nearest number of format f (to
// nearest even; beyond f's range to ±Inf), in place. It is what a product
// of mixed-precision training does to its operands.
func RoundTo(f half.Format, x []float32) { roundTo(f, x, x) }

// roundTo writes src rounded to f into dst, on every core for long slices.
func roundTo(f half.Format, dst, src []float32) {
	parallelChunks(len(src), func(lo, hi int) { half.Round(f, dst[lo:hi], src[lo:hi]) })
}

// parallelChunks splits [0, n) among the cores from 64K values on.
func parallelChunks(n int, f func(lo, hi int)) { parallelSplit(n, 1<<16, f) }

// slicePool lends scratch slices of one element type, so that the
// rounded copies of the operands (float16, or bfloat16 without
// AVX512_BF16) are not a new allocation per product.
type slicePool[T any] struct{ p sync.Pool }

func (s *slicePool[T]) get(n int) *[]T {
	if v, ok := s.p.Get().(*[]T); ok && cap(*v) >= n {
		*v = (*v)[:n]
		return v
	}
	v := make([]T, n)
	return &v
}

func (s *slicePool[T]) put(v *[]T) { s.p.Put(v) }

var floatsPool slicePool[float32]
