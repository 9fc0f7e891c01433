package model

import (
	"math/rand/v2"
	"os"
	"testing"

	"gorgonia.org/tensor"
)

func BenchmarkZZGreedy(b *testing.B) {
	c := DefaultConfig()
	c.DModel, c.Heads, c.FFDim, c.EncoderLayers, c.DecoderLayers = 128, 4, 512, 2, 2
	c.SrcVocab, c.TgtVocab = 8000, 8000
	m, _ := New(c, tensor.Float32, 1)
	if os.Getenv("ZZ8") != "" {
		m.ToInt8()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	srcs := make([][]int, 32)
	for i := range srcs {
		srcs[i] = make([]int, 31)
		for j := range srcs[i] {
			srcs[i][j] = 4 + rng.IntN(c.SrcVocab-4)
		}
	}
	opt := DecodeOptions{BatchSize: 32, MaxLenA: 1e-9, MaxLenB: 31, MaxLen: 32}
	tr := NewTranslator(m, 0)
	tr.Greedy(srcs, opt)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.Greedy(srcs, opt)
	}
}
