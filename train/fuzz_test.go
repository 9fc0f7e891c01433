package train

import (
	"math"
	"testing"
)

// FuzzTokenStats: metrics stay in range for any scores and gold ids.
func FuzzTokenStats(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, uint8(4), 0.1)
	f.Add([]byte{0, 0, 0, 0}, uint8(2), 0.0)
	f.Fuzz(func(t *testing.T, raw []byte, v uint8, eps float64) {
		if v < 2 || len(raw) < int(v) || math.IsNaN(eps) || eps < 0 || eps >= 1 {
			return
		}
		n := len(raw) / int(v)
		logits := make([]float64, n*int(v))
		gold := make([]int, n)
		for i := range logits {
			logits[i] = float64(int(raw[i])-128) / 8
		}
		for i := range gold {
			gold[i] = int(raw[i]) % int(v)
		}
		var s TokenStats
		s.Add(logits, gold, int(v), eps)
		if a := s.Accuracy(); a < 0 || a > 1 {
			t.Fatalf("accuracy %g", a)
		}
		if l := s.Loss(); math.IsNaN(l) || l < -1e-9 {
			t.Fatalf("loss %g", l)
		}
		if p := s.Perplexity(); math.IsNaN(p) || p < 1-1e-9 {
			t.Fatalf("perplexity %g", p)
		}
	})
}
