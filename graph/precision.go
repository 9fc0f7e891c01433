package graph

import (
	"runtime"
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
// rounded to f first; f 0 is gemmT itself.
func gemmRounded(f half.Format, transA, transB bool, m, n, k int, a, b []float32, beta float32, c []float32) {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	switch {
	case f == half.BF16 && f32.BF16Native():
		a16, b16 := bitsPool.get(len(a)), bitsPool.get(len(b))
		encodeBF16(*a16, a)
		encodeBF16(*b16, b)
		f32.SgemmBF16(transA, transB, m, n, k, *a16, lda, *b16, ldb, beta, c, n)
		bitsPool.put(a16)
		bitsPool.put(b16)
	case f != 0:
		ar, br := floatsPool.get(len(a)), floatsPool.get(len(b))
		roundTo(f, *ar, a)
		roundTo(f, *br, b)
		gemmLD(transA, transB, m, n, k, 1, *ar, lda, *br, ldb, beta, c, n)
		floatsPool.put(ar)
		floatsPool.put(br)
	default:
		gemmT(transA, transB, m, n, k, a, b, beta, c)
	}
}

// RoundTo rounds each value of x to the nearest number of format f (to
// nearest even; beyond f's range to ±Inf), in place. It is what a product
// of mixed-precision training does to its operands.
func RoundTo(f half.Format, x []float32) { roundTo(f, x, x) }

// roundTo writes src rounded to f into dst, on every core for long slices.
func roundTo(f half.Format, dst, src []float32) {
	parallelChunks(len(src), func(lo, hi int) {
		switch f {
		case half.BF16:
			for i, v := range src[lo:hi] {
				dst[lo+i] = half.BFloat16FromFloat32(v).Float32()
			}
		case half.F16:
			for i, v := range src[lo:hi] {
				dst[lo+i] = half.FromFloat32(v).Float32()
			}
		}
	})
}

// encodeBF16 writes the bfloat16 bits of src, rounded to nearest even,
// into dst, on every core for long slices.
func encodeBF16(dst []uint16, src []float32) {
	parallelChunks(len(src), func(lo, hi int) {
		for i, v := range src[lo:hi] {
			dst[lo+i] = uint16(half.BFloat16FromFloat32(v))
		}
	})
}

// parallelChunks splits [0, n) among the cores when n is above 64K.
func parallelChunks(n int, f func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || n <= 1<<16 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += step {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, min(lo+step, n))
	}
	wg.Wait()
}

// slicePool lends scratch slices of one element type, so that the
// rounded copies of the operands are not a new allocation per product.
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

var (
	bitsPool   slicePool[uint16]
	floatsPool slicePool[float32]
)
