package graph

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
)

// BenchmarkBLASSgemm measures the single-precision product of the BLAS in
// use (BLAS names it) on the shapes of a training step of the reference's
// small model (1,536 target rows, d 256, feed-forward 1,024, vocabulary
// 10,000) and of a decoding step (16 rows): go test ./graph -bench BLASSgemm,
// with -tags openblas for OpenBLAS.
func BenchmarkBLASSgemm(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	shapes := []struct {
		m, n, k int
		tb      bool
	}{
		{1536, 1024, 256, false}, {1536, 256, 1024, false}, {1536, 10000, 256, true}, {256, 1024, 1536, false}, {16, 1024, 256, false}, {16, 10000, 256, false},
	}
	for _, s := range shapes {
		x, y, z := make([]float32, s.m*s.k), make([]float32, s.k*s.n), make([]float32, s.m*s.n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for i := range y {
			y[i] = float32(r.NormFloat64())
		}
		tb, ldb := blas.NoTrans, s.n
		if s.tb {
			tb, ldb = blas.Trans, s.k
		}
		b.Run(fmt.Sprintf("%s/%dx%dx%d/transB=%v", BLAS, s.m, s.n, s.k, s.tb), func(b *testing.B) {
			for b.Loop() {
				G.WhichBLAS().Sgemm(blas.NoTrans, tb, s.m, s.n, s.k, 1, x, s.k, y, ldb, 0, z, s.n)
			}
			b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
