package f32

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// naive computes alpha·op(A)·op(B) + beta·C in float64.
func naive(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, len(c))
	for i := range c {
		out[i] = float64(c[i])
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				ai, bi := i*lda+p, p*ldb+j
				if transA {
					ai = p*lda + i
				}
				if transB {
					bi = j*ldb + p
				}
				av, bv := a[ai], b[bi]
				s += float64(av) * float64(bv)
			}
			old := float64(beta) * float64(c[i*ldc+j])
			if beta == 0 {
				old = 0
			}
			out[i*ldc+j] = float64(alpha)*s + old
		}
	}
	return out
}

func randSlice(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func TestSgemmMatchesNaive(t *testing.T) { eachKernel(t, sgemmMatchesNaive) }

func sgemmMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := []int{1, 5, 6, 7, 12, 13, 16, 17, 31, 32, 33, 97, 130}
	cases := 0
	for _, m := range sizes {
		for _, n := range sizes {
			for _, k := range []int{1, 3, 64, 257, 300} {
				for _, ta := range []bool{false, true} {
					for _, tb := range []bool{false, true} {
						alpha := float32(1)
						beta := []float32{0, 1, 0.5}[cases%3]
						if cases%4 == 1 {
							alpha = -0.75
						}
						cases++
						// Leading dimensions wider than the rows, as for strided views.
						lda, ldb, ldc := k+3, n+2, n+5
						arows, brows := m, k
						if ta {
							lda, arows = m+1, k
						}
						if tb {
							ldb, brows = k+4, n
						}
						a, b := randSlice(r, arows*lda), randSlice(r, brows*ldb)
						c := randSlice(r, m*ldc)
						if beta == 0 {
							for i := range c {
								c[i] = float32(math.NaN()) // C must not be read
							}
						}
						want := naive(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
						Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								got, w := float64(c[i*ldc+j]), want[i*ldc+j]
								if math.Abs(got-w) > 1e-4*math.Sqrt(float64(k))*(1+math.Abs(w)) {
									t.Fatalf("m=%d n=%d k=%d transA=%v transB=%v alpha=%v beta=%v: C[%d,%d] = %v, want %v",
										m, n, k, ta, tb, alpha, beta, i, j, got, w)
								}
							}
							// Columns past n belong to someone else: untouched.
							for j := n; j < ldc && i*ldc+j < len(c); j++ {
								if beta != 0 && float64(c[i*ldc+j]) != want[i*ldc+j] {
									t.Fatalf("m=%d n=%d k=%d: wrote C[%d,%d] outside the matrix", m, n, k, i, j)
								}
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d products checked", cases)
}

// TestSgemmLarge crosses every block boundary (k > kc, m > mc, n > nc) and
// splits across goroutines, against gonum's Sgemm.
func TestSgemmLarge(t *testing.T) { eachKernel(t, sgemmLarge) }

func sgemmLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range [][3]int{{200, 2100, 520}, {2100, 40, 300}, {7, 4500, 33}} {
		m, n, k := s[0], s[1], s[2]
		a, b := randSlice(r, m*k), randSlice(r, n*k)
		c, want := make([]float32, m*n), make([]float32, m*n)
		Sgemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n)
		gonum.Implementation{}.Sgemm(blas.NoTrans, blas.Trans, m, n, k, 1, a, k, b, k, 0, want, n)
		for i := range c {
			if d := math.Abs(float64(c[i] - want[i])); d > 1e-3*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%v: element %d = %v, gonum %v", s, i, c[i], want[i])
			}
		}
	}
}

func BenchmarkSgemm(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range [][3]int{{1536, 1024, 256}, {1536, 256, 1024}, {1536, 10000, 256}, {256, 256, 1536}, {16, 1024, 256}, {16, 10000, 256}} {
		m, n, k := s[0], s[1], s[2]
		x, y, z := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
		flops := 2 * float64(m) * float64(n) * float64(k)
		b.Run(fmt.Sprintf("ours/%dx%dx%d", m, n, k), func(b *testing.B) {
			eachKernelB(b, func(b *testing.B) {
				for b.Loop() {
					Sgemm(false, false, m, n, k, 1, x, k, y, n, 0, z, n)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		})
		b.Run(fmt.Sprintf("gonum/%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, x, k, y, n, 0, z, n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
