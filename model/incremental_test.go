package model

import (
	"math"
	"reflect"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
)

func cacheModels(t *testing.T) map[string]*Translator {
	out := map[string]*Translator{}
	for _, v := range []struct {
		name                     string
		normFirst, learned, tied bool
		chunk                    int
	}{{"post-LN sinusoidal untied", false, false, false, 0}, {"pre-LN learned tied", true, true, true, 0},
		// trained with chunked attention, decoded with the key/value cache
		{"pre-LN sinusoidal, chunk 3", true, false, false, 3}} {
		c := tinyConfig(v.normFirst)
		c.Encoder.Attention.Chunk, c.Decoder.Attention.Chunk = v.chunk, v.chunk
		c.EncoderLayers, c.DecoderLayers = 2, 3
		c.FinalNorm = v.normFirst
		c.TieOutput = v.tied
		if v.learned {
			c.Positions, c.MaxPositions = "learned", 40
		}
		tr := peakedTranslator(t, c, 5, 2.5)
		out[v.name] = tr
	}
	return out
}

// Every step's scores equal those of the full teacher-forced model at that
// position (float64, to rounding).
func TestIncrementalMatchesFullDecoder(t *testing.T) {
	for name, tr := range cacheModels(t) {
		worst := incrementalError(t, tr)
		t.Logf("%s: float64 graph-free steps within %.2g of the graph's scores", name, worst)
		if worst > 1e-10 {
			t.Errorf("%s: incremental scores differ from the full decoder by %.3g", name, worst)
		}
	}
}

// The same in float32, with GELU feed-forward layers: the graph-free steps
// agree with the float32 graph to float32 rounding.
func TestIncrementalMatchesFullDecoderFloat32(t *testing.T) {
	for _, act := range []string{"gelu", "gelu_tanh"} {
		for _, normFirst := range []bool{false, true} {
			c := tinyConfig(normFirst)
			c.EncoderLayers, c.DecoderLayers, c.Activation = 2, 2, act
			c.FinalNorm, c.TieOutput = normFirst, normFirst
			m, err := New(c, tensor.Float32, 3)
			if err != nil {
				t.Fatal(err)
			}
			tr := NewTranslator(m, 0)
			worst := incrementalError(t, tr)
			tr.Close()
			t.Logf("%s, pre-LN %v: float32 graph-free steps within %.2g of the graph's scores", act, normFirst, worst)
			if worst > 1e-5 || worst == 0 {
				t.Errorf("%s, pre-LN %v: float32 incremental scores differ from the graph by %.3g", act, normFirst, worst)
			}
		}
	}
}

// incrementalError decodes two teacher-forced rows incrementally and
// returns the largest relative difference from the full decoder's scores.
func incrementalError(t *testing.T, tr *Translator) float64 {
	t.Helper()
	srcs := [][]int{{4, 5, 6, 3, 0, 0, 0, 0}, {6, 4, 5, 5, 4, 6, 4, 3}} // two rows of srcLen 8
	forced := [][]int{{2, 7, 8, 4, 5, 6, 7, 8, 4, 5, 6}, {2, 5, 5, 5, 7, 7, 8, 4, 4, 6, 6}}
	src := append(append([]int(nil), srcs[0]...), srcs[1]...)
	steps := len(forced[0])
	tgt := append(append([]int(nil), forced[0]...), forced[1]...)
	full, err := tr.Logits(src, tgt, 2, 8, steps)
	if err != nil {
		t.Fatal(err)
	}
	want := graph.Float64s(full)
	v := tr.Model.Config.TgtVocab
	worst := 0.0
	err = tr.incremental(src, 2, 8, steps, nil, func(step int, scores []float64) ([]int, bool) {
		for r := 0; r < 2; r++ {
			for j := 0; j < v; j++ {
				w := want[(r*steps+step)*v+j]
				worst = max(worst, math.Abs(scores[r*v+j]-w)/max(1, math.Abs(w)))
			}
		}
		if step+1 < steps {
			return []int{forced[0][step+1], forced[1][step+1]}, true
		}
		return nil, false
	})
	if err != nil {
		t.Fatal(err)
	}
	return worst
}

// Greedy decoding with the cache gives the same outputs as without.
func TestGreedyCacheSameOutputs(t *testing.T) {
	srcs := [][]int{{4, 5, 6}, {6}, {5, 5, 4, 6, 4, 4, 5, 6, 6, 5, 4}, {4, 6}, {}, {7, 8, 4}}
	long := 0
	for name, tr := range cacheModels(t) {
		for _, batch := range []int{1, 4, 64} {
			opt := DecodeOptions{BatchSize: batch, MaxLenA: 2, MaxLenB: 5}
			got, err := tr.Greedy(srcs, opt)
			if err != nil {
				t.Fatal(err)
			}
			opt.NoCache = true
			want, err := tr.Greedy(srcs, opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s, batch %d: with cache %v, without %v", name, batch, got, want)
			}
			for _, o := range got {
				long = max(long, len(o))
			}
		}
	}
	if long < 9 {
		t.Errorf("outputs too short (%d tokens) to cross a growth of the cache", long)
	}
}

// A translator's decoders reuse the arrays of its earlier batches
// (Translator.arrays): batches of other shapes in between, beam search and
// greedy decoding in turn, give exactly what a fresh translator gives.
func TestRecycledArraysSameResults(t *testing.T) {
	srcs := [][]int{{4, 5, 6}, {6}, {5, 5, 4, 6, 4, 4, 5, 6, 6, 5, 4}, {4, 6}, {}, {7, 8, 4}}
	for name, tr := range cacheModels(t) {
		beam := func(tr *Translator, batch int) [][]Hypothesis {
			out, err := tr.Beam(srcs, BeamOptions{DecodeOptions: DecodeOptions{BatchSize: batch, MaxLenA: 2, MaxLenB: 5}, Beam: 3, NBest: 2})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		greedy := func(tr *Translator, batch int) [][]int {
			out, err := tr.Greedy(srcs, DecodeOptions{BatchSize: batch, MaxLenA: 1.5, MaxLenB: 3})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		fresh := func() *Translator {
			f := NewTranslator(tr.Model, 0)
			t.Cleanup(f.Close)
			return f
		}
		kept := -1
		for i, batch := range []int{12, 3, 18, 6} {
			if got, want := beam(tr, batch), beam(fresh(), batch); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, round %d: beam search %v, fresh translator %v", name, i, got, want)
			}
			// What is kept is one decoder's arrays, whatever the shapes
			// before: not one more for each size met.
			n := len(tr.arrays.sets[0].(*arrays[float64]).free)
			if kept >= 0 && n != kept {
				t.Errorf("%s, round %d: %d arrays kept, %d after the first batch", name, i, n, kept)
			}
			kept = n
			if got, want := greedy(tr, batch/3+1), greedy(fresh(), batch/3+1); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, round %d: greedy %v, fresh translator %v", name, i, got, want)
			}
		}
		// One decoder at a time: one set of arrays kept, until dropped.
		if n := len(tr.arrays.sets); n != 1 {
			t.Errorf("%s: %d sets of arrays kept, want 1", name, n)
		}
		tr.DropArrays()
		if n := len(tr.arrays.sets); n != 0 {
			t.Errorf("%s: %d sets of arrays kept after DropArrays", name, n)
		}
	}
}
