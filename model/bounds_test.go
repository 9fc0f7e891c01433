package model

import (
	"context"
	"errors"
	"math"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
)

func TestBeamOptionsCheck(t *testing.T) {
	ok := []BeamOptions{{}, {Beam: 1}, {Beam: MaxBeam, NBest: MaxBeam, Alpha: 0.6}, {Beam: 9, NBest: 9},
		{DecodeOptions: DecodeOptions{MaxLen: MaxDecodeLen, MaxLenB: MaxDecodeLen, MaxLenA: 3}, Beam: 4}}
	for _, o := range ok {
		if err := o.Check(MaxBeam); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
	bad := []struct {
		o     BeamOptions
		vocab int
		want  string
	}{
		{BeamOptions{Beam: 1_000_000_000}, 0, "beam: must be at most 256, got 1000000000"},
		{BeamOptions{Beam: 10}, 9, "beam: must be at most the target vocabulary of 9 tokens, got 10"},
		{BeamOptions{Beam: -1}, 0, "beam: must be positive"},
		{BeamOptions{Beam: 2, NBest: 3}, 0, "nbest: 3 exceeds the beam size 2"},
		{BeamOptions{NBest: -1}, 0, "nbest: must be positive"},
		{BeamOptions{Beam: 2, Alpha: math.NaN()}, 0, "length_penalty: must be a finite number ≥ 0, got NaN"},
		{BeamOptions{Beam: 2, Alpha: math.Inf(1)}, 0, "length_penalty:"},
		{BeamOptions{Beam: 2, Alpha: -1}, 0, "length_penalty:"},
		{BeamOptions{DecodeOptions: DecodeOptions{MaxLen: 100_000_000}}, 0, "max_len: must be in [0, 1024], got 100000000"},
		{BeamOptions{DecodeOptions: DecodeOptions{MaxLenB: MaxDecodeLen + 1}}, 0, "max_len_b: must be in [0, 1024]"},
		{BeamOptions{DecodeOptions: DecodeOptions{MaxLenB: -1}}, 0, "max_len_b:"},
		{BeamOptions{DecodeOptions: DecodeOptions{MaxLenA: math.NaN()}}, 0, "max_len_a:"},
		{BeamOptions{DecodeOptions: DecodeOptions{MaxLenA: math.Inf(1)}}, 0, "max_len_a:"},
		{BeamOptions{DecodeOptions: DecodeOptions{BatchSize: -2}}, 0, "batch_size:"},
		{BeamOptions{DecodeOptions: DecodeOptions{LenStep: 1 << 30}}, 0, "len_step:"},
	}
	for _, c := range bad {
		err := c.o.Check(c.vocab)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: got %v, want %q", c.o, err, c.want)
		}
	}
}

func learnedModel(t *testing.T, maxPos int) *Translator {
	t.Helper()
	c := tinyConfig(true)
	c.Positions, c.MaxPositions = "learned", maxPos
	m, err := New(c, tensor.Float64, 5)
	if err != nil {
		t.Fatal(err)
	}
	tr := NewTranslator(m, 0)
	t.Cleanup(tr.Close)
	return tr
}

func longSource(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 4 + i%3
	}
	return s
}

// A source longer than a learned position table is refused with an error,
// never indexed out of range; one that fits (with </s>) decodes.
func TestLearnedPositionsLongSource(t *testing.T) {
	tr := learnedModel(t, 12)
	if got := tr.Model.MaxSourceLen(); got != 11 {
		t.Errorf("MaxSourceLen %d, want 11", got)
	}
	if got := tr.Model.MaxTargetLen(); got != 11 {
		t.Errorf("MaxTargetLen %d, want 11", got)
	}
	for _, noCache := range []bool{false, true} {
		opt := DecodeOptions{NoCache: noCache, MaxLenA: 3, MaxLenB: 50, MaxLen: 1000}
		if _, err := tr.Greedy([][]int{longSource(40)}, opt); err == nil || !strings.Contains(err.Error(), "exceeds the model's limit of 11 tokens") {
			t.Errorf("no cache %v: 40 tokens: %v", noCache, err)
		}
		if _, err := tr.Beam([][]int{longSource(12)}, BeamOptions{DecodeOptions: opt, Beam: 3}); err == nil {
			t.Errorf("no cache %v: beam took 12 tokens", noCache)
		}
		out, err := tr.Greedy([][]int{longSource(11), {4}}, opt)
		if err != nil {
			t.Fatalf("no cache %v: %v", noCache, err)
		}
		for _, o := range out {
			if len(o) > 11 {
				t.Errorf("no cache %v: %d output tokens, more than the table", noCache, len(o))
			}
		}
		if _, err := tr.Beam([][]int{longSource(11)}, BeamOptions{DecodeOptions: opt, Beam: 3}); err != nil {
			t.Errorf("no cache %v: beam: %v", noCache, err)
		}
	}
}

// Without a position table, sources are bounded by MaxInputTokens.
func TestSourceBound(t *testing.T) {
	tr := NewTranslator(mustNew(t, tinyConfig(true)), 0)
	defer tr.Close()
	if got := tr.Model.MaxSourceLen(); got != MaxInputTokens {
		t.Errorf("MaxSourceLen %d, want %d", got, MaxInputTokens)
	}
	if _, err := tr.Greedy([][]int{longSource(MaxInputTokens + 1)}, DecodeOptions{}); err == nil {
		t.Errorf("a source of %d tokens was decoded", MaxInputTokens+1)
	}
	if _, err := tr.Greedy([][]int{{4}}, DecodeOptions{MaxLen: 100_000_000}); err == nil || !strings.HasPrefix(err.Error(), "max_len:") {
		t.Errorf("max_len 1e8: %v", err)
	}
}

func mustNew(t *testing.T, c Config) *Transformer {
	t.Helper()
	m, err := New(c, tensor.Float64, 5)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// countdown is a context that is cancelled after its Err has been asked n
// times.
type countdown struct {
	context.Context
	n int
}

func (c *countdown) Err() error {
	if c.n--; c.n < 0 {
		return context.Canceled
	}
	return nil
}

// Decoding stops at once when its context is cancelled, before or while
// decoding, with ctx.Err().
func TestDecodeCancelled(t *testing.T) {
	tr := beamModel(t)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	srcs := [][]int{{4, 5, 6}, {6}}
	for _, noCache := range []bool{false, true} {
		opt := DecodeOptions{NoCache: noCache, MaxLenA: 1e-9, MaxLenB: 200, MaxLen: 200}
		for _, ctx := range []context.Context{done, &countdown{context.Background(), 1}} {
			if _, err := tr.GreedyContext(ctx, srcs, opt); !errors.Is(err, context.Canceled) {
				t.Errorf("no cache %v: greedy gave %v", noCache, err)
			}
		}
		for _, ctx := range []context.Context{done, &countdown{context.Background(), 1}} {
			if _, err := tr.BeamContext(ctx, srcs, BeamOptions{DecodeOptions: opt, Beam: 3}); !errors.Is(err, context.Canceled) {
				t.Errorf("no cache %v: beam gave %v", noCache, err)
			}
		}
	}
}

// The widest beam on a short input with a small model stays cheap: the
// work per step is O(beam · vocabulary), whatever the requested beam.
func TestWidestBeamIsQuick(t *testing.T) {
	tr := beamModel(t)
	start := time.Now()
	out, err := tr.Beam([][]int{{4, 5, 6, 4}}, BeamOptions{DecodeOptions: DecodeOptions{MaxLen: 16}, Beam: 1_000_000_000, NBest: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || len(out[0]) != 4 {
		t.Errorf("got %d sentences, %d hypotheses", len(out), len(out[0]))
	}
	t.Logf("beam %d over %d tokens: %v", MaxBeam, tr.Model.Config.TgtVocab, time.Since(start))
}

// appendTop picks the same continuations, in the same order, as sorting
// every token by score (ties by token) and taking the first n.
func TestAppendTopMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 200; trial++ {
		v := 2 + rng.Intn(60)
		logp := make([]float64, v)
		for i := range logp {
			logp[i] = float64(rng.Intn(8)) // many ties
		}
		n := 1 + rng.Intn(v+3)
		var want []candidate
		for tok, lp := range logp {
			if tok != data.PadID && tok != data.BosID {
				want = append(want, candidate{2, tok, 0.5 + lp})
			}
		}
		sort.SliceStable(want, func(a, b int) bool { return want[a].logp > want[b].logp })
		want = want[:min(n, len(want))]
		prefix := []candidate{{9, 9, 9}}
		got := appendTop(prefix, logp, 0, 2, 0.5, n)
		if len(got) != len(want)+1 || got[0] != prefix[0] {
			t.Fatalf("v %d, n %d: got %d candidates, want %d", v, n, len(got)-1, len(want))
		}
		for i := range want {
			if got[i+1] != want[i] {
				t.Fatalf("v %d, n %d: candidate %d is %+v, want %+v", v, n, i, got[i+1], want[i])
			}
		}
	}
}
