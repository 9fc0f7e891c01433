package f32

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gotransformer/transformer/half"
)

// halfB rounds values into format f and returns their bits and their
// float32 values.
func halfB(f half.Format, v []float32) ([]uint16, []float32) {
	bits, back := make([]uint16, len(v)), make([]float32, len(v))
	for i, x := range v {
		if f == half.F16 {
			bits[i] = uint16(half.FromFloat32(x))
		} else {
			bits[i] = uint16(half.BFloat16FromFloat32(x))
		}
	}
	half.Decode(f, back, bits)
	return bits, back
}

// TestSgemmHalfMatchesNaive checks SgemmHalf against the float64 product
// with B's rounded values, for both formats, B plain and transposed, beta
// 0, 1 and ½, edge tiles and strided views; with the kernels that read a
// 16-bit B in place (up to 24 rows) and with packing alone.
func TestSgemmHalfMatchesNaive(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		for _, direct := range []bool{true, false} {
			directHalf = direct
			t.Run(fmt.Sprintf("in-place kernels %v", direct), sgemmHalfMatchesNaive)
		}
		directHalf = true
		mk := active.Load()
		t.Logf("in place: f16 %v, bf16 %v", mk.halfKernel(half.F16) != nil, mk.halfKernel(half.BF16) != nil)
	})
}

func sgemmHalfMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	sizes := []int{1, 5, 6, 12, 17, 31, 33, 97}
	cases := 0
	for _, f := range []half.Format{half.F16, half.BF16} {
		for _, m := range sizes {
			for _, n := range sizes {
				for _, k := range []int{1, 3, 64, 257, 300} {
					for _, tb := range []bool{false, true} {
						beta := []float32{0, 1, 0.5}[cases%3]
						cases++
						lda, ldb, ldc, brows := k+3, n+2, n+5, k
						if tb {
							ldb, brows = k+4, n
						}
						a := randSlice(r, m*lda)
						bits, b := halfB(f, randSlice(r, brows*ldb))
						c := randSlice(r, m*ldc)
						if beta == 0 {
							for i := range c {
								c[i] = float32(math.NaN())
							}
						}
						want := naive(false, tb, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
						SgemmHalf(f, tb, m, n, k, a, lda, bits, ldb, beta, c, ldc)
						for i := 0; i < m; i++ {
							for j := 0; j < ldc && i*ldc+j < len(c); j++ {
								got, w := float64(c[i*ldc+j]), want[i*ldc+j]
								if j >= n {
									if beta != 0 && got != w {
										t.Fatalf("%v m=%d n=%d k=%d: wrote C[%d,%d] outside the matrix", f, m, n, k, i, j)
									}
									continue
								}
								if math.Abs(got-w) > 1e-4*math.Sqrt(float64(k))*(1+math.Abs(w)) {
									t.Fatalf("%v m=%d n=%d k=%d transB=%v beta=%v: C[%d,%d] = %v, want %v", f, m, n, k, tb, beta, i, j, got, w)
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

// TestSgemmHalfEqualsSgemm crosses every block boundary and splits across
// goroutines: converting B while packing gives the products of Sgemm on
// the converted float32 B, bit for bit.
func TestSgemmHalfEqualsSgemm(t *testing.T) { eachKernel(t, sgemmHalfEqualsSgemm) }

func sgemmHalfEqualsSgemm(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, f := range []half.Format{half.F16, half.BF16} {
		for _, s := range [][3]int{{200, 2100, 520}, {2100, 40, 300}, {7, 4500, 33}, {30, 5000, 256}} {
			m, n, k := s[0], s[1], s[2]
			for _, tb := range []bool{false, true} {
				a := randSlice(r, m*k)
				bits, b := halfB(f, randSlice(r, n*k))
				ldb := n
				if tb {
					ldb = k
				}
				c, want := make([]float32, m*n), make([]float32, m*n)
				SgemmHalf(f, tb, m, n, k, a, k, bits, ldb, 0, c, n)
				Sgemm(false, tb, m, n, k, 1, a, k, b, ldb, 0, want, n)
				diff := 0.0
				for i := range c {
					diff = max(diff, math.Abs(float64(c[i]-want[i]))/(1+math.Abs(float64(want[i]))))
				}
				if diff > 1e-6 {
					t.Fatalf("%v %v transB=%v: worst relative difference from Sgemm %.3g", f, s, tb, diff)
				}
				t.Logf("%v %v transB=%v: worst relative difference from Sgemm %.3g", f, s, tb, diff)
			}
		}
	}
}

// BenchmarkSgemmHalf compares products with 16-bit B against float32 B
// for the shapes of decoding (few rows) and of encoding a batch.
func BenchmarkSgemmHalf(b *testing.B) { eachKernelB(b, sgemmHalfBench) }

func sgemmHalfBench(b *testing.B) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, s := range [][3]int{{5, 1024, 256}, {64, 1024, 256}, {5, 6000, 256}, {1536, 1024, 256}} {
		m, n, k := s[0], s[1], s[2]
		x, y, z := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
		flops := 2 * float64(m) * float64(n) * float64(k)
		b.Run(fmt.Sprintf("f32/%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				Sgemm(false, false, m, n, k, 1, x, k, y, n, 0, z, n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		for _, f := range []half.Format{half.F16, half.BF16} {
			bits, _ := halfB(f, y)
			b.Run(fmt.Sprintf("%v/%dx%dx%d", f, m, n, k), func(b *testing.B) {
				for b.Loop() {
					SgemmHalf(f, false, m, n, k, x, k, bits, n, 0, z, n)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
