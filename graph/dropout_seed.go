package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// DropoutSeed adds a dropout seed input for ops that draw their dropout
// mask element by element from a seed instead of reading a mask tensor
// (ChunkedAttention, whose mask would be as large as the weights it never
// forms). FillDropout refreshes it with the masks of Dropout: two numbers
// below 2²⁴, exact in float32, that together are a 48-bit seed. It returns
// nil when dropout is off (not training, or p = 0).
func (b *Builder) DropoutSeed(p float64) *G.Node {
	if !b.Train || p == 0 {
		return nil
	}
	m := b.Input(fmt.Sprintf("dropout.%d", len(b.masks)), 2)
	b.masks = append(b.masks, DropoutMask{Node: m, P: p, seed: true})
	return m
}

// seedBits joins the two halves of a dropout seed.
func seedBits(s [2]float64) uint64 { return uint64(s[0])<<24 | uint64(s[1]) }

// dropped reports whether element idx of the mask of seed is zeroed: the
// top 53 bits of SplitMix64's next number from state (seed·2¹⁶ ⊕ idx)·γ,
// below threshold (dropThreshold of the probability).
func dropped(seed, idx, threshold uint64) bool {
	r := RNG{State: (seed<<16 ^ idx) * gamma}
	return r.Uint64()>>11 < threshold
}

// dropThreshold is the threshold of dropped for probability p.
func dropThreshold(p float64) uint64 { return uint64(p * (1 << 53)) }

// ChunkDropoutMask is the dropout mask [batch, heads, sq, sk] that
// ChunkedAttention applies for the seed value s (as FillDropout writes it)
// and probability p: 0 or 1/(1−p) per weight. For tests, which pass it to
// Attention to check that both compute the same function.
func ChunkDropoutMask(dt tensor.Dtype, s [2]float64, p float64, batch, heads, sq, sk int) *tensor.Dense {
	seed, keep, thr := seedBits(s), 1/(1-p), dropThreshold(p)
	v := make([]float64, batch*heads*sq*sk)
	for i := range v {
		if !dropped(seed, uint64(i), thr) {
			v[i] = keep
		}
	}
	return FromFloat64s(dt, v, batch, heads, sq, sk)
}

// fillSeed draws a fresh seed: one number of the generator per element, as
// a mask of the same size takes.
func fillSeed(t *tensor.Dense, rng *RNG) {
	switch d := t.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(rng.Uint64() >> 40)
		}
	case []float64:
		for i := range d {
			d[i] = float64(rng.Uint64() >> 40)
		}
	}
}
