package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/gotransformer/transformer/data"
)

// Sampling draws each output token from the model's distribution instead
// of taking the most probable one (DecodeOptions.Sample): the scores are
// divided by Temperature, cut to the TopK most probable tokens and to the
// smallest set whose probability reaches TopP (nucleus sampling, Holtzman
// et al. 2020), renormalised, and sampled. Each sentence draws from its own
// generator, seeded by Seed and the sentence's position in the input, so
// that a sentence's sample does not depend on how the input was batched.
type Sampling struct {
	Temperature float64 // > 0; 1 samples the model's distribution
	TopK        int     // 0: every token
	TopP        float64 // in (0, 1]; 0 or 1: every token
	Seed        uint64
	// First is the position of the first sentence in the whole input, for
	// an input decoded in parts.
	First int
}

// Check reports the first option out of bounds, named by its flag.
func (s *Sampling) Check() error {
	switch {
	case s == nil:
		return nil
	case !(s.Temperature > 0) || math.IsInf(s.Temperature, 0) || s.Temperature > 1e6:
		return fmt.Errorf("temperature: must be a number in (0, 1e6], got %g", s.Temperature)
	case s.First < 0:
		return fmt.Errorf("first: must not be negative, got %d", s.First)
	case s.TopK < 0:
		return fmt.Errorf("top_k: must not be negative (0: every token), got %d", s.TopK)
	case !(s.TopP >= 0 && s.TopP <= 1):
		return fmt.Errorf("top_p: must be in [0, 1] (0 or 1: every token), got %g", s.TopP)
	}
	return nil
}

// sampler draws tokens for the rows of a batch.
type sampler struct {
	s     Sampling
	rngs  []*rand.Rand
	probs []float64
	order []int
}

// newSampler gives each row its generator from the seed and the row's
// position idx[i] in the whole input.
func newSampler(s Sampling, idx []int) *sampler {
	sm := &sampler{s: s, rngs: make([]*rand.Rand, len(idx))}
	for i, j := range idx {
		sm.rngs[i] = rand.New(rand.NewPCG(s.Seed, uint64(s.First+j)))
	}
	return sm
}

// draw samples a token of row i from its scores (logits or
// log-probabilities); PadID and BosID are never drawn.
func (sm *sampler) draw(i int, scores []float64) int {
	v := len(scores)
	if cap(sm.probs) < v {
		sm.probs, sm.order = make([]float64, v), make([]int, v)
	}
	p, order := sm.probs[:v], sm.order[:v]
	top := scores[argmax(scores)]
	sum := 0.0
	for k, x := range scores {
		p[k] = math.Exp((x - top) / sm.s.Temperature)
		if k == data.PadID || k == data.BosID { // never output, as in greedy decoding
			p[k] = 0
		}
		sum += p[k]
		order[k] = k
	}
	keep := v
	if sm.s.TopK > 0 || (sm.s.TopP > 0 && sm.s.TopP < 1) {
		sort.Slice(order, func(a, b int) bool {
			if p[order[a]] != p[order[b]] {
				return p[order[a]] > p[order[b]]
			}
			return order[a] < order[b]
		})
		if sm.s.TopK > 0 {
			keep = min(keep, sm.s.TopK)
		}
		if sm.s.TopP > 0 && sm.s.TopP < 1 {
			acc := 0.0
			for n := 0; n < keep; n++ {
				acc += p[order[n]] / sum
				if acc >= sm.s.TopP {
					keep = n + 1
					break
				}
			}
		}
		sum = 0
		for _, k := range order[:keep] {
			sum += p[k]
		}
	}
	u := sm.rngs[i].Float64() * sum
	for _, k := range order[:keep] {
		if u -= p[k]; u < 0 {
			return k
		}
	}
	return order[keep-1] // rounding left u at 0
}
