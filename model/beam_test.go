package model

import (
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
)

// peakedTranslator builds a float64 model of c with every weight scaled by
// scale, which makes its output distributions peaked and varied.
func peakedTranslator(t *testing.T, c Config, seed int64, scale float64) *Translator {
	t.Helper()
	m, err := New(c, tensor.Float64, seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range m.Store.Names() {
		v := graph.Float64s(m.Store.Get(name)) // the backing slice
		for i := range v {
			v[i] *= scale
		}
	}
	tr := NewTranslator(m, 0)
	t.Cleanup(tr.Close)
	return tr
}

func beamModel(t *testing.T) *Translator {
	c := tinyConfig(true)
	c.EncoderLayers, c.DecoderLayers = 2, 2
	return peakedTranslator(t, c, 11, 3)
}

var beamSrcs = [][]int{{4, 5, 6}, {6}, {5, 5, 4, 6, 4}, {4, 6}, {}}

func TestBeamOneIsGreedy(t *testing.T) {
	tr := beamModel(t)
	opt := DecodeOptions{BatchSize: 3, MaxLenA: 1, MaxLenB: 3}
	want, err := tr.Greedy(beamSrcs, opt)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tr.Beam(beamSrcs, BeamOptions{DecodeOptions: opt, Beam: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if len(got[i]) != 1 || !reflect.DeepEqual(nonNil(got[i][0].Tokens), nonNil(want[i])) {
			t.Errorf("sentence %d: beam 1 %v, greedy %v", i, got[i], want[i])
		}
	}
}

func nonNil(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

// seqLogProb scores a whole output teacher-forced: the sum of the
// log-probabilities of its tokens, and of </s> if ended.
func seqLogProb(t *testing.T, tr *Translator, src, out []int, ended bool) float64 {
	s := append(append([]int(nil), src...), data.EosID)
	in := append([]int{data.BosID}, out...)
	next := append(append([]int(nil), out...), data.EosID)
	if !ended {
		in, next = in[:len(out)], out
	}
	logits, err := tr.Logits(s, in, 1, len(s), len(in))
	if err != nil {
		t.Fatal(err)
	}
	v := tr.Model.Config.TgtVocab
	scores := graph.Float64s(logits)
	lp := make([]float64, v)
	sum := 0.0
	for i, tok := range next {
		logSoftmax(scores[i*v:(i+1)*v], lp)
		sum += lp[tok]
	}
	return sum
}

// With a beam wider than the search space, beam search is exhaustive: its
// best output is the best of all outputs, scored independently.
func TestBeamWideIsExhaustive(t *testing.T) {
	tr := beamModel(t)
	const limit = 3                       // ⌈1e-9·(|x|+1)⌉ + 2 tokens
	allowed := []int{1, 3, 4, 5, 6, 7, 8} // every token but <pad> and <s>
	for _, alpha := range []float64{0, 0.6} {
		for _, src := range beamSrcs[:4] {
			bestScore, bestLP := math.Inf(-1), 0.0
			var best []int
			var walk func(prefix []int)
			walk = func(prefix []int) {
				for _, tok := range allowed {
					var out []int
					ended := tok == data.EosID
					switch {
					case ended:
						out = prefix
					case len(prefix)+1 == limit:
						out = append(append([]int(nil), prefix...), tok)
					default:
						walk(append(append([]int(nil), prefix...), tok))
						continue
					}
					n := len(out)
					if ended {
						n++
					}
					lp := seqLogProb(t, tr, src, out, ended)
					if s := lp / lengthPenalty(n, alpha); s > bestScore {
						bestScore, bestLP, best = s, lp, out
					}
				}
			}
			walk(nil)
			got, err := tr.Beam([][]int{src}, BeamOptions{DecodeOptions: DecodeOptions{MaxLenA: 1e-9, MaxLenB: limit - 1}, Beam: 400, Alpha: alpha, NBest: 3})
			if err != nil {
				t.Fatal(err)
			}
			h := got[0][0]
			if !reflect.DeepEqual(nonNil(h.Tokens), nonNil(best)) || math.Abs(h.Score-bestScore) > 1e-9 || math.Abs(h.LogProb-bestLP) > 1e-9 {
				t.Errorf("alpha %g, source %v: beam %v (%.6f), exhaustive %v (%.6f)", alpha, src, h.Tokens, h.Score, best, bestScore)
			}
			if len(got[0]) != 3 || got[0][1].Score > h.Score || got[0][2].Score > got[0][1].Score {
				t.Errorf("n-best not sorted: %+v", got[0])
			}
		}
	}
}

func TestBeamOptions(t *testing.T) {
	tr := beamModel(t)
	if _, err := tr.Beam(beamSrcs, BeamOptions{Beam: 2, NBest: 3}); err == nil {
		t.Error("no error for n-best above the beam size")
	}
	// Batching does not change the results.
	a, err := tr.Beam(beamSrcs, BeamOptions{DecodeOptions: DecodeOptions{BatchSize: 4}, Beam: 4, Alpha: 0.6})
	if err != nil {
		t.Fatal(err)
	}
	b, err := tr.Beam(beamSrcs, BeamOptions{DecodeOptions: DecodeOptions{BatchSize: 100}, Beam: 4, Alpha: 0.6})
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if !reflect.DeepEqual(nonNil(a[i][0].Tokens), nonNil(b[i][0].Tokens)) || math.Abs(a[i][0].Score-b[i][0].Score) > 1e-9 {
			t.Errorf("sentence %d: %v with batch 1 sentence, %v with all", i, a[i][0], b[i][0])
		}
	}
}

// Beam search with the key/value cache finds the same hypotheses, with the
// same scores, as beam search that recomputes every prefix.
func TestBeamCacheSameResults(t *testing.T) {
	srcs := [][]int{{4, 5, 6}, {6}, {5, 5, 4, 6, 4, 4, 5, 6, 6, 5, 4}, {4, 6}, {}, {7, 8, 4}}
	for name, tr := range cacheModels(t) {
		opt := BeamOptions{DecodeOptions: DecodeOptions{BatchSize: 12, MaxLenA: 2, MaxLenB: 5}, Beam: 4, Alpha: 0.6, NBest: 4}
		got, err := tr.Beam(srcs, opt)
		if err != nil {
			t.Fatal(err)
		}
		opt.NoCache = true
		want, err := tr.Beam(srcs, opt)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if len(got[i]) != len(want[i]) {
				t.Fatalf("%s, sentence %d: %d hypotheses with cache, %d without", name, i, len(got[i]), len(want[i]))
			}
			for j := range want[i] {
				g, w := got[i][j], want[i][j]
				if !reflect.DeepEqual(nonNil(g.Tokens), nonNil(w.Tokens)) || math.Abs(g.Score-w.Score) > 1e-9 {
					t.Errorf("%s, sentence %d, hypothesis %d: with cache %v (%.9f), without %v (%.9f)", name, i, j, g.Tokens, g.Score, w.Tokens, w.Score)
				}
			}
		}
	}
}

// Search goes on after Beam hypotheses have ended while a live one can
// still beat them: here the first step's </s> and a second-step </s> end
// two hypotheses, but "w w w w" scores better under the length penalty.
// Stopping at the first Beam finished ones would return the empty output.
func TestBeamStopsOnlyWhenLiveCannotWin(t *testing.T) {
	const w, alpha, k, limit = 4, 1.4, 2, 4
	// next gives log P(token | last token) over [pad unk bos eos w].
	next := func(last int) []float64 {
		p := map[int][]float64{
			-1:         {0, 0.15, 0, 0.40, 0.45}, // first step
			w:          {0, 1e-6, 0, 0.15, 0.85 - 1e-6},
			data.UnkID: {0, 0.025, 0, 0.95, 0.025},
		}[last]
		out := make([]float64, len(p))
		for i, v := range p {
			out[i] = math.Log(math.Max(v, 1e-12))
		}
		return out
	}
	b := &beam{live: []Hypothesis{{}}, parents: []int{0}, limit: limit}
	for step := 0; !b.done && step < limit; step++ {
		b.expand(step, k, alpha, func(r int) []float64 {
			last := -1
			if toks := b.live[r].Tokens; len(toks) > 0 {
				last = toks[len(toks)-1]
			}
			return next(last)
		})
	}
	best := b.finished[0]
	empty := math.Log(0.40) / lengthPenalty(1, alpha)
	want := (math.Log(0.45) + 3*math.Log(0.85-1e-6)) / lengthPenalty(4, alpha)
	if !reflect.DeepEqual(best.Tokens, []int{w, w, w, w}) || math.Abs(best.Score-want) > 1e-9 || best.Score <= empty {
		t.Fatalf("best %v score %.4f; want [4 4 4 4] with %.4f (the empty output scores %.4f)", best.Tokens, best.Score, want, empty)
	}
}

// logSoftmax writes the log-probabilities of the scores x into out: the
// composed reference of logSumExp and appendTop.
func logSoftmax(x, out []float64) {
	lse := logSumExp(x)
	for i, v := range x {
		out[i] = v - lse
	}
}

// topByLogSoftmax is appendTop's reference: every token's log-probability
// (logSoftmax), then the best n by better.
func topByLogSoftmax(x []float64, row int, base float64, n int) []candidate {
	lp := make([]float64, len(x))
	logSoftmax(x, lp)
	var all []candidate
	for tok, v := range lp {
		if tok != data.PadID && tok != data.BosID {
			all = append(all, candidate{row, tok, base + v})
		}
	}
	sort.SliceStable(all, func(a, b int) bool { return better(all[a], all[b]) })
	return all[:min(n, len(all))]
}

// appendTop, which chooses by scores and computes n log-probabilities,
// equals choosing by every token's log-probability, ties (repeated
// scores) and masked scores included.
func TestAppendTopMatchesLogSoftmax(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, v := range []int{3, 4, 9, 64, 8000} {
		for _, n := range []int{1, 2, 10, 70} {
			x := make([]float64, v)
			for i := range x {
				x[i] = float64(float32(r.NormFloat64() * 4))
				switch i % 7 {
				case 2:
					x[i] = x[i/2] // ties
				case 5:
					x[i] = -1e9 // masked
				}
			}
			got := appendTop([]candidate{{9, 9, 9}}, x, logSumExp(x), 1, -2.5, n)
			want := append([]candidate{{9, 9, 9}}, topByLogSoftmax(x, 1, -2.5, n)...)
			if len(got) != len(want) {
				t.Fatalf("v=%d n=%d: %d candidates, want %d", v, n, len(got), len(want))
			}
			for i := range got {
				if got[i].row != want[i].row || got[i].tok != want[i].tok || math.Abs(got[i].logp-want[i].logp) > 1e-12 {
					t.Fatalf("v=%d n=%d: candidate %d is %+v, want %+v", v, n, i, got[i], want[i])
				}
			}
		}
	}
	x := []float64{0, 1, 0, 2, math.NaN(), 3}
	for _, c := range appendTop(nil, x, logSumExp32(x), 0, 0, 3) {
		if !math.IsNaN(c.logp) {
			t.Fatalf("a NaN score left candidate %+v", c)
		}
	}
}

// logSumExp32 agrees with logSumExp to float32 precision, on rows with
// masked (very negative) scores and large ranges too, and a NaN score
// makes it NaN.
func TestLogSumExp32(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{1, 7, 16, 33, 8000} {
		x := make([]float64, n)
		for i := range x {
			x[i] = float64(float32(r.NormFloat64() * 8))
			if i%97 == 5 {
				x[i] = -1e9
			}
		}
		want, got := logSumExp(x), logSumExp32(x)
		if d := math.Abs(got - want); d > 1e-6*max(1, math.Abs(want)) {
			t.Fatalf("n=%d: logSumExp32 = %v, float64 exponentials %v", n, got, want)
		}
		if n > 3 {
			nan := append([]float64(nil), x...)
			nan[3] = math.NaN()
			if v := logSumExp32(nan); !math.IsNaN(v) {
				t.Fatalf("n=%d: a NaN score gave %v", n, v)
			}
		}
	}
}

// argmax, which runs four lanes, and selectTop of one token pick what one
// pass does (and selectTop of float32 scores what it does of float64): the first largest score, never PadID or BosID, a NaN never
// beating a number.
func TestArgmaxMatchesOnePass(t *testing.T) {
	onePass := func(v []float64) int {
		best := -1
		for i, x := range v {
			if i != data.PadID && i != data.BosID && (best < 0 || x > v[best]) {
				best = i
			}
		}
		return best
	}
	r := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{1, 2, 3, 4, 5, 8, 9, 13, 100, 8000} {
		for trial := 0; trial < 50; trial++ {
			v := make([]float64, n)
			for i := range v {
				v[i] = float64(r.IntN(5)) // many ties
				if r.IntN(20) == 0 {
					v[i] = math.NaN()
				}
			}
			want := onePass(v)
			if got := argmax(v); got != want {
				t.Fatalf("n=%d %v: argmax %d, one pass %d", n, v, got, want)
			}
			// The decoder's summary for greedy search (rowTops, n 1).
			if top := selectTop(v, 0, 1, nil); want >= 0 && (len(top) != 1 || top[0].tok != want) {
				t.Fatalf("n=%d %v: best token %v, one pass %d", n, v, top, want)
			}
			// float32 scores, which skip to the next one above the worst
			// kept a vector at a time (f32.FirstAbove), keep what the
			// float64 loop keeps, in the same heap order.
			v32 := make([]float32, n)
			for i, x := range v {
				v32[i] = float32(x)
			}
			for _, k := range []int{1, 2, 5, 10} {
				if got, want := selectTop(v32, 3, k, nil), selectTop(v, 3, k, nil); !sameCandidates(got, want) {
					t.Fatalf("n=%d k=%d %v: float32 kept %v, float64 %v", n, k, v, got, want)
				}
			}
		}
	}
}

// sameCandidates reports whether a and b hold the same candidates in the
// same order, a NaN log-probability equal to a NaN.
func sameCandidates(a, b []candidate) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.row != y.row || x.tok != y.tok || x.logp != y.logp && !(math.IsNaN(x.logp) && math.IsNaN(y.logp)) {
			return false
		}
	}
	return true
}

// reserve sizes the cache for every step at once up to reserveBytes, and
// leaves larger caches to grow as the steps need them.
func TestStepperReserve(t *testing.T) {
	for _, c := range []struct{ steps, want int }{{0, 0}, {1, 16}, {24, 24}, {200, 200}, {reserveBytes, 0}} {
		s := &stepper[float32]{rows: 10, d: 64, layers: make([]stepWeights[float32], 2)}
		s.cacheK, s.cacheV = make([][]float32, 2), make([][]float32, 2)
		s.reserve(c.steps)
		if s.capacity != c.want || len(s.cacheK[1]) != s.rows*c.want*s.d {
			t.Errorf("reserve(%d): capacity %d (%d values), want %d", c.steps, s.capacity, len(s.cacheK[1]), c.want)
		}
	}
}

// The cache's in-place reorder gives every row its parent's positions,
// whatever the parents: chains, swaps, cycles, shared parents, rows that
// keep their own; the positions past the filled ones are left alone.
func TestStepperReorderInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	for trial := 0; trial < 200; trial++ {
		rows, capacity, d := 1+r.IntN(12), 5, 3
		s := &stepper[float32]{rows: rows, d: d, capacity: capacity, filled: 1 + r.IntN(capacity)}
		for l := 0; l < 2; l++ {
			k, v := make([]float32, rows*capacity*d), make([]float32, rows*capacity*d)
			for i := range k {
				k[i], v[i] = float32(i+l*1000), float32(-i-l*1000)
			}
			s.cacheK, s.cacheV = append(s.cacheK, k), append(s.cacheV, v)
		}
		parents := make([]int, rows)
		for i := range parents {
			parents[i] = i
			if r.IntN(3) > 0 {
				parents[i] = r.IntN(rows)
			}
		}
		before := [2][][]float32{}
		for l := range s.cacheK {
			before[0] = append(before[0], append([]float32(nil), s.cacheK[l]...))
			before[1] = append(before[1], append([]float32(nil), s.cacheV[l]...))
		}
		s.reorder(parents)
		span, n := capacity*d, s.filled*d
		for l := range s.cacheK {
			for kv, got := range [2][]float32{s.cacheK[l], s.cacheV[l]} {
				old := before[kv][l]
				for row, p := range parents {
					if !reflect.DeepEqual(got[row*span:row*span+n], old[p*span:p*span+n]) ||
						!reflect.DeepEqual(got[row*span+n:(row+1)*span], old[row*span+n:(row+1)*span]) {
						t.Fatalf("parents %v, filled %d: layer %d row %d is %v, want parent %d's %v", parents, s.filled, l, row, got[row*span:(row+1)*span], p, old[p*span:p*span+n])
					}
				}
			}
		}
	}
}

// A stepper that summarises its rows (useTops) gives, bit for bit, the
// log-sum-exp and best tokens that beam search computes from the scores
// it otherwise hands over, in float32 and float64.
func TestStepperTopsMatchScores(t *testing.T) {
	c := halfConfigs()["pre-LN learned tied"]
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		m, err := New(c, dt, 3)
		if err != nil {
			t.Fatal(err)
		}
		const rows, srcLen, n = 3, 8, 6
		src := []int{4, 5, 6, 3, 0, 0, 0, 0, 6, 4, 5, 5, 4, 6, 4, 3, 7, 7, 8, 3, 0, 0, 0, 0}
		tok := []int{data.BosID, data.BosID, data.BosID}
		compare := func(plain, summed interface {
			stepRunner
			useTops(*rowTops)
		}) {
			tops := &rowTops{n: n}
			summed.useTops(tops)
			for step := 0; step < 3; step++ {
				plain.step(tok, step)
				summed.step(tok, step)
				scores := plain.scores(nil)
				if summed.scores(nil) != nil {
					t.Fatal("a summarising stepper handed over scores")
				}
				for r := 0; r < rows; r++ {
					row := scores[r*c.TgtVocab : (r+1)*c.TgtVocab]
					want := logSumExp(row)
					if dt == tensor.Float32 {
						want = logSumExp32(row)
					}
					lse, best := tops.chosen(r)
					if math.Float64bits(lse) != math.Float64bits(want) {
						t.Fatalf("%v step %d row %d: log-sum-exp %v, from the scores %v", dt, step, r, lse, want)
					}
					got := appendChosen(nil, append([]candidate(nil), best...), lse, -1.5)
					if ref := appendTop(nil, row, want, r, -1.5, n); !reflect.DeepEqual(got, ref) {
						t.Fatalf("%v step %d row %d: chosen %v, from the scores %v", dt, step, r, got, ref)
					}
				}
				tok = []int{4 + step, 5, 6}
			}
		}
		tr := NewTranslator(m, 0)
		memory, err := tr.EncodeBatch(src, rows, srcLen)
		if err != nil {
			t.Fatal(err)
		}
		switch mem := memory.Data().(type) {
		case []float32:
			compare(newStepper[float32](m, rows, 1, srcLen, mem, src, nil), newStepper[float32](m, rows, 1, srcLen, mem, src, nil))
		case []float64:
			compare(newStepper[float64](m, rows, 1, srcLen, mem, src, nil), newStepper[float64](m, rows, 1, srcLen, mem, src, nil))
		}
		tr.Close()
	}
}
