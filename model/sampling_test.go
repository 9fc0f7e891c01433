package model

import (
	"math"
	"reflect"
	"testing"
)

// The sampler draws from the tempered, cut and renormalised distribution.
func TestSamplerDistribution(t *testing.T) {
	// PadID, UnkID (impossible here), BosID, then three tokens; PadID and
	// BosID are never drawn, whatever their score.
	scores := []float64{0, math.Inf(-1), 0, math.Log(0.5), math.Log(0.3), math.Log(0.2)}
	const n = 40000
	for _, c := range []struct {
		s    Sampling
		want []float64
	}{
		{Sampling{Temperature: 1}, []float64{0.5, 0.3, 0.2}},
		{Sampling{Temperature: 1, TopK: 2}, []float64{0.625, 0.375, 0}},
		{Sampling{Temperature: 1, TopP: 0.6}, []float64{0.625, 0.375, 0}},
		{Sampling{Temperature: 1, TopP: 0.5}, []float64{1, 0, 0}},
		{Sampling{Temperature: 2}, normalise([]float64{math.Sqrt(0.5), math.Sqrt(0.3), math.Sqrt(0.2)})},
		{Sampling{Temperature: 1e-9}, []float64{1, 0, 0}},
	} {
		sm := newSampler(c.s, []int{0})
		counts := make([]float64, 6)
		for k := 0; k < n; k++ {
			counts[sm.draw(0, scores)]++
		}
		if counts[0]+counts[1]+counts[2] > 0 {
			t.Errorf("%+v: drew padding, <unk> or BOS: %v", c.s, counts)
		}
		counts = counts[3:]
		for k := range counts {
			if got := counts[k] / n; math.Abs(got-c.want[k]) > 0.015 {
				t.Errorf("%+v: token %d drawn %.3f of the time, want %.3f", c.s, k, got, c.want[k])
			}
		}
	}
}

func normalise(p []float64) []float64 {
	s := 0.0
	for _, x := range p {
		s += x
	}
	for i := range p {
		p[i] /= s
	}
	return p
}

// Sampling with top-k 1 is greedy decoding; a sentence's sample depends on
// the seed and its position only, not on the batching or the key/value
// cache; another seed gives other samples.
func TestSamplingDecodes(t *testing.T) {
	tr := beamModel(t)
	srcs := append(append([][]int{}, beamSrcs...), beamSrcs...)
	opt := DecodeOptions{BatchSize: 3, MaxLenA: 1, MaxLenB: 6}
	greedy, err := tr.Greedy(srcs, opt)
	if err != nil {
		t.Fatal(err)
	}
	k1 := opt
	k1.Sample = &Sampling{Temperature: 5, TopK: 1, Seed: 3}
	if got, err := tr.Greedy(srcs, k1); err != nil || !reflect.DeepEqual(got, greedy) {
		t.Errorf("top-k 1: %v (%v), greedy %v", got, err, greedy)
	}
	s := opt
	s.Sample = &Sampling{Temperature: 1.5, Seed: 7}
	a, err := tr.Greedy(srcs, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []DecodeOptions{{BatchSize: 1}, {BatchSize: 10}, {BatchSize: 10, NoCache: true}} {
		o := s
		o.BatchSize, o.NoCache = v.BatchSize, v.NoCache
		b, err := tr.Greedy(srcs, o)
		if err != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("batch %d, no cache %v: samples %v, batch 3 gave %v (%v)", v.BatchSize, v.NoCache, b, a, err)
		}
	}
	s.Sample = &Sampling{Temperature: 1.5, Seed: 8}
	if c, _ := tr.Greedy(srcs, s); reflect.DeepEqual(a, c) {
		t.Errorf("seeds 7 and 8 gave the same samples %v", a)
	}
	if reflect.DeepEqual(a, greedy) {
		t.Errorf("samples at temperature 1.5 equal greedy decoding: %v", a)
	}
}

func TestSamplingBounds(t *testing.T) {
	for _, s := range []Sampling{{Temperature: 0}, {Temperature: -1}, {Temperature: math.NaN()}, {Temperature: 1, TopK: -1},
		{Temperature: 1, TopP: 1.5}, {Temperature: 1, TopP: math.NaN()}} {
		if err := (DecodeOptions{Sample: &s}).Check(); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
}
