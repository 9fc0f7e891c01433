package model

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// BenchmarkDecode measures greedy decoding and beam search (beam 5) with
// and without the key/value cache on random models of the reference's
// "tiny" shape (d_model 128, 4 heads, 2+2 layers, ff 512, vocabulary 8000)
// and "small" shape (256, 4 heads, 3+3 layers, ff 1024, vocabulary 10000),
// 64 random sources of 24 tokens, 24 output tokens each, with float32 and
// with int8 weights (ToInt8). Run with
//
//	go test ./model -run '^$' -bench Decode -benchtime 3x
func BenchmarkDecode(b *testing.B) {
	for _, shape := range []struct {
		name                 string
		d, ff, layers, vocab int
	}{{"tiny", 128, 512, 2, 8000}, {"small", 256, 1024, 3, 10000}} {
		c := DefaultConfig()
		c.DModel, c.Heads, c.FFDim, c.EncoderLayers, c.DecoderLayers = shape.d, 4, shape.ff, shape.layers, shape.layers
		c.SrcVocab, c.TgtVocab = shape.vocab, shape.vocab
		for _, quant := range []bool{false, true} {
			m, err := New(c, tensor.Float32, 1)
			if err != nil {
				b.Fatal(err)
			}
			if quant {
				if _, err := m.ToInt8(); err != nil {
					b.Fatal(err)
				}
			}
			b.Run(shape.name+"/"+map[bool]string{false: "f32", true: "int8"}[quant], func(b *testing.B) { benchDecode(b, m) })
		}
	}
}

func benchDecode(b *testing.B, m *Transformer) {
	rng := rand.New(rand.NewPCG(1, 2))
	srcs := make([][]int, 64)
	for i := range srcs {
		srcs[i] = make([]int, 23)
		for j := range srcs[i] {
			srcs[i][j] = 4 + rng.IntN(m.Config.SrcVocab-4)
		}
	}
	// Exactly 24 output tokens: the random model rarely says </s>, and the
	// limit is 0·24 + 24.
	base := DecodeOptions{BatchSize: 64, MaxLenA: 1e-9, MaxLenB: 23, MaxLen: 24}
	for _, cached := range []bool{true, false} {
		for _, beam := range []int{1, 5} {
			name := fmt.Sprintf("beam%d/cache=%v", beam, cached)
			b.Run(name, func(b *testing.B) {
				tr := NewTranslator(m, 0)
				defer tr.Close()
				opt := base
				opt.NoCache = !cached
				run := func() error {
					if beam == 1 {
						_, err := tr.Greedy(srcs, opt)
						return err
					}
					opt.BatchSize = 64 * beam
					_, err := tr.Beam(srcs, BeamOptions{DecodeOptions: opt, Beam: beam})
					return err
				}
				if err := run(); err != nil { // compile the graphs
					b.Fatal(err)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := run(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(srcs)*b.N)/b.Elapsed().Seconds(), "sentences/s")
			})
		}
	}
}
