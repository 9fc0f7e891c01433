package graph

import (
	"fmt"
	"testing"

	"github.com/gotransformer/transformer/half"
)

// BenchmarkRoundedProducts times the products of a bfloat16 and float16
// training step of the small shape (1,536 rows, d 256, ff 1024, vocab
// 10,000): forward (x·W), the input gradient (dy·Wᵀ) and the weight
// gradient (xᵀ·dy), against the float32 products.
//
//	go test ./graph -run '^$' -bench RoundedProducts
func BenchmarkRoundedProducts(b *testing.B) {
	shapes := []struct {
		name    string
		ta, tb  bool
		m, n, k int
	}{
		{"ff-forward", false, false, 1536, 1024, 256},
		{"ff-dx", false, true, 1536, 256, 1024},
		{"ff-dW", true, false, 256, 1024, 1536},
		{"logits-forward", false, true, 1536, 10000, 256},
		{"logits-dx", false, false, 1536, 256, 10000},
		{"logits-dW", true, false, 10000, 256, 1536},
	}
	for _, s := range shapes {
		a, bm, c := make([]float32, s.m*s.k), make([]float32, s.k*s.n), make([]float32, s.m*s.n)
		for i := range a {
			a[i] = float32(i%7) - 3
		}
		for i := range bm {
			bm[i] = float32(i%5) - 2
		}
		for _, f := range []half.Format{0, half.BF16, half.F16} {
			b.Run(fmt.Sprintf("%s/%v", s.name, f), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					gemmRounded(f, s.ta, s.tb, s.m, s.n, s.k, a, bm, 0, c)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
