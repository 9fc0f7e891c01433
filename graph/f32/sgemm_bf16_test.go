package f32

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gotransformer/transformer/half"
)

// bf16Matrix returns rows×cols random bfloat16 bits and their float32
// values.
func bf16Matrix(r *rand.Rand, n int) ([]uint16, []float32) {
	return halfB(half.BF16, randSlice(r, n))
}

// emulateBF16 computes what the VDPBF16PS kernel computes, in Go float32
// arithmetic: per block of kc values of k, each pair (p, p+1) adds
// a[p+1]·b[p+1] and then a[p]·b[p] to a float32 sum (each product exact in
// float32, each sum rounded once, as the instruction's FMA does); the
// block's sum is then added to C (or is C, for the first block with beta
// 0).
func emulateBF16(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float32 {
	out := append([]float32(nil), c...)
	at := func(i, p int) float32 {
		if transA {
			return a[p*lda+i]
		}
		return a[i*lda+p]
	}
	bt := func(p, j int) float32 {
		if transB {
			return b[j*ldb+p]
		}
		return b[p*ldb+j]
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			for pc := 0; pc < k; pc += kc {
				kb := min(kc, k-pc)
				var s float32
				for p := 0; p < kb; p += 2 {
					if p+1 < kb {
						s = float32(s + float32(at(i, pc+p+1)*bt(pc+p+1, j)))
					} else {
						s = float32(s + 0) // the zero of the padded pair
					}
					s = float32(s + float32(at(i, pc+p)*bt(pc+p, j)))
				}
				if pc == 0 && beta == 0 {
					out[i*ldc+j] = s
				} else {
					out[i*ldc+j] += s
				}
			}
		}
	}
	return out
}

// TestSgemmBF16MatchesEmulation checks the VDPBF16PS kernel bit for bit
// against its emulation in Go, and within float32 rounding of the float64
// product, over transposes, edge tiles, odd k, strided operands, beta 0
// and 1, and block boundaries.
func TestSgemmBF16MatchesEmulation(t *testing.T) {
	if !BF16Native() {
		t.Skip("no AVX512_BF16 on this processor (or the avx512 kernel is not in use)")
	}
	r := rand.New(rand.NewPCG(21, 22))
	cases := 0
	for _, s := range [][3]int{{1, 1, 1}, {5, 7, 3}, {12, 32, 2}, {13, 33, 5}, {30, 70, 64}, {97, 65, 257}, {200, 40, 600}, {24, 4200, 33}} {
		m, n, k := s[0], s[1], s[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				beta := float32(cases % 2)
				cases++
				lda, ldb, ldc := k+3, n+2, n+5
				arows, brows := m, k
				if ta {
					lda, arows = m+1, k
				}
				if tb {
					ldb, brows = k+4, n
				}
				ab, af := bf16Matrix(r, arows*lda)
				bb, bf := bf16Matrix(r, brows*ldb)
				c := randSlice(r, m*ldc)
				if beta == 0 {
					for i := range c {
						c[i] = float32(math.NaN())
					}
				}
				want := emulateBF16(ta, tb, m, n, k, af, lda, bf, ldb, beta, c, ldc)
				exact := naive(ta, tb, m, n, k, 1, af, lda, bf, ldb, beta, c, ldc)
				got := append([]float32(nil), c...)
				SgemmBF16(ta, tb, m, n, k, ab, lda, bb, ldb, beta, got, ldc)
				for i := 0; i < m; i++ {
					for j := 0; j < ldc && i*ldc+j < len(c); j++ {
						g, w := got[i*ldc+j], want[i*ldc+j]
						if j >= n {
							if beta != 0 && g != c[i*ldc+j] {
								t.Fatalf("%v: wrote C[%d,%d] outside the matrix", s, i, j)
							}
							continue
						}
						if math.Float32bits(g) != math.Float32bits(w) {
							t.Fatalf("%v transA=%v transB=%v: C[%d,%d] = %v, emulation %v", s, ta, tb, i, j, g, w)
						}
						if e := exact[i*ldc+j]; math.Abs(float64(g)-e) > 1e-4*math.Sqrt(float64(k))*(1+math.Abs(e)) {
							t.Fatalf("%v: C[%d,%d] = %v, float64 %v", s, i, j, g, e)
						}
					}
				}
			}
		}
	}
	t.Logf("%d products equal to the emulation bit for bit", cases)
}

// TestSgemmBF16Conversion checks the path without VDPBF16PS: equal to
// Sgemm on the converted values.
func TestSgemmBF16Conversion(t *testing.T) {
	if !Available() {
		t.Skip("no micro-kernel on this processor")
	}
	defer func() { useBF16 = true }()
	useBF16 = false
	r := rand.New(rand.NewPCG(23, 24))
	const m, n, k = 37, 70, 129
	ab, af := bf16Matrix(r, m*k)
	bb, bf := bf16Matrix(r, k*n)
	got, want := make([]float32, m*n), make([]float32, m*n)
	SgemmBF16(false, false, m, n, k, ab, k, bb, n, 0, got, n)
	Sgemm(false, false, m, n, k, 1, af, k, bf, n, 0, want, n)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("element %d = %v, Sgemm %v", i, got[i], want[i])
		}
	}
}

// eachRandomProduct calls f with random float32 operands (N(0,1) for A,
// N(0, scaleB²) for B) of each shape m, n, k in dims, every transposition
// and their leading dimensions.
func eachRandomProduct(r *rand.Rand, dims [][3]int, scaleB float64, f func(m, n, k int, ta, tb bool, a []float32, lda int, b []float32, ldb int)) {
	for _, d := range dims {
		m, n, k := d[0], d[1], d[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				a, b := make([]float32, m*k), make([]float32, k*n)
				for i := range a {
					a[i] = float32(r.NormFloat64())
				}
				for i := range b {
					b[i] = float32(r.NormFloat64() * scaleB)
				}
				lda, ldb := k, n
				if ta {
					lda = m
				}
				if tb {
					ldb = k
				}
				f(m, n, k, ta, tb, a, lda, b, ldb)
			}
		}
	}
}

// TestSgemmRoundedBF16 checks that rounding float32 operands while packing
// gives, bit for bit, SgemmBF16 on the operands rounded beforehand
// (half.BFloat16FromFloat32), for every transposition, odd k and edges,
// with NaN and infinities among the values.
func TestSgemmRoundedBF16(t *testing.T) {
	if !BF16Native() {
		t.Skip("no AVX512_BF16 on this processor")
	}
	r := rand.New(rand.NewPCG(25, 26))
	dims := [][3]int{{37, 70, 129}, {13, 33, 1}, {100, 45, 300}}
	eachRandomProduct(r, dims, 1, func(m, n, k int, ta, tb bool, a []float32, lda int, b []float32, ldb int) {
		a[3], b[5] = float32(math.Inf(1)), float32(math.NaN())
		ab, bb := make([]uint16, len(a)), make([]uint16, len(b))
		for i, v := range a {
			ab[i] = uint16(half.BFloat16FromFloat32(v))
		}
		for i, v := range b {
			bb[i] = uint16(half.BFloat16FromFloat32(v))
		}
		got, want := make([]float32, m*n), make([]float32, m*n)
		SgemmRoundedBF16(ta, tb, m, n, k, a, lda, b, ldb, 0, got, n)
		SgemmBF16(ta, tb, m, n, k, ab, lda, bb, ldb, 0, want, n)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Fatalf("%d×%d×%d (ta %v tb %v): element %d = %v, pre-rounded %v", m, n, k, ta, tb, i, got[i], want[i])
			}
		}
	})
}

// BenchmarkSgemmBF16 compares the VDPBF16PS kernel with float32 Sgemm on
// the training shapes.
func BenchmarkSgemmBF16(b *testing.B) {
	r := rand.New(rand.NewPCG(25, 26))
	for _, s := range [][3]int{{1536, 1024, 256}, {1536, 256, 1024}, {256, 256, 1536}} {
		m, n, k := s[0], s[1], s[2]
		ab, af := bf16Matrix(r, m*k)
		bb, bf := bf16Matrix(r, k*n)
		c := make([]float32, m*n)
		flops := 2 * float64(m) * float64(n) * float64(k)
		b.Run(fmt.Sprintf("bf16/%dx%dx%d", m, n, k), func(b *testing.B) {
			if !BF16Native() {
				b.Skip("no AVX512_BF16")
			}
			for b.Loop() {
				SgemmBF16(false, false, m, n, k, ab, k, bb, n, 0, c, n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("f32/%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				Sgemm(false, false, m, n, k, 1, af, k, bf, n, 0, c, n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// SgemmRounded equals Sgemm on operands rounded beforehand, bit for bit,
// for both formats, every transposition and every kernel.
func TestSgemmRounded(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(27, 28))
		for _, f := range []half.Format{half.BF16, half.F16} {
			dims := [][3]int{{37, 70, 129}, {5, 33, 1}, {130, 45, 300}}
			eachRandomProduct(r, dims, 1e3, func(m, n, k int, ta, tb bool, a []float32, lda int, b []float32, ldb int) {
				ar, br := make([]float32, len(a)), make([]float32, len(b))
				half.Round(f, ar, a)
				half.Round(f, br, b)
				got, want := make([]float32, m*n), make([]float32, m*n)
				SgemmRounded(f, ta, tb, m, n, k, a, lda, b, ldb, 0, got, n)
				Sgemm(ta, tb, m, n, k, 1, ar, lda, br, ldb, 0, want, n)
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%v %d×%d×%d (ta %v tb %v): element %d = %v, on rounded copies %v", f, m, n, k, ta, tb, i, got[i], want[i])
					}
				}
			})
		}
	})
}
