package model

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/graph/f32"
)

// BeamOptions configure beam search.
type BeamOptions struct {
	DecodeOptions
	// Beam is the number of hypotheses kept per sentence (default 5; a
	// beam above MaxBeam searches MaxBeam wide).
	Beam int
	// Alpha is the GNMT length penalty: scores are log P(y|x) / lp(y) with
	// lp(y) = ((5 + |y|) / 6)^Alpha, where |y| counts </s>. 0 ranks by
	// log-probability alone; about 0.6 favours longer outputs.
	Alpha float64
	// NBest is how many hypotheses to return per sentence (default 1,
	// at most Beam).
	NBest int
}

// Hypothesis is one beam-search output: token ids without BosID and
// EosID, with its length-penalised score and its log-probability.
type Hypothesis struct {
	Tokens  []int
	Score   float64
	LogProb float64
}

// lengthPenalty is GNMT's lp(y).
func lengthPenalty(n int, alpha float64) float64 {
	if alpha == 0 {
		return 1
	}
	return math.Pow((5+float64(n))/6, alpha)
}

// Beam translates token-id sentences by beam search and returns, for each
// sentence in input order, its NBest hypotheses, best first. A sentence
// ends when no live hypothesis can beat the Beam best finished ones (those
// that produced EosID), or at its length limit (then the live hypotheses
// are finished as they are). Sentences are decoded in length-sorted
// batches; the encoder runs once per batch. Options out of bounds
// (BeamOptions.Check, but for a beam wider than MaxBeam or the vocabulary,
// which is narrowed to MaxBeam) and sources longer than
// Transformer.MaxSourceLen are errors.
func (t *Translator) Beam(srcs [][]int, opt BeamOptions) ([][]Hypothesis, error) {
	return t.BeamContext(context.Background(), srcs, opt)
}

// BeamContext is Beam that stops when ctx is done, returning ctx.Err():
// it is checked before each batch and each output position.
func (t *Translator) BeamContext(ctx context.Context, srcs [][]int, opt BeamOptions) ([][]Hypothesis, error) {
	if opt.Beam <= 0 {
		opt.Beam = 5
	}
	opt.Beam = min(opt.Beam, MaxBeam)
	if opt.NBest <= 0 {
		opt.NBest = 1
	}
	if opt.NBest > opt.Beam {
		return nil, fmt.Errorf("n-best %d exceeds the beam size %d", opt.NBest, opt.Beam)
	}
	if err := opt.Check(0); err != nil {
		return nil, err
	}
	opt.DecodeOptions = opt.DecodeOptions.withDefaults()
	// Each sentence takes Beam rows of a decoder batch.
	per := max(1, opt.BatchSize/opt.Beam)
	out := make([][]Hypothesis, len(srcs))
	err := inLengthOrder(ctx, srcs, per, func(batch [][]int, idx []int) error {
		res, err := t.beamBatch(ctx, batch, opt)
		if err != nil {
			return err
		}
		for i, j := range idx {
			out[j] = res[i]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// beam is the search state of one sentence.
type beam struct {
	live     []Hypothesis // at most Beam, best first
	parents  []int        // for each live hypothesis, its parent's index in the previous live list
	finished []Hypothesis
	limit    int
	done     bool
	// float32 says the model computes in float32 (its scores are float32
	// logits, or an ensemble's average of float32 log-probabilities): their
	// log-softmax may use float32 exponentials (logSumExp32).
	float32 bool
}

func (t *Translator) beamBatch(ctx context.Context, srcs [][]int, opt BeamOptions) ([][]Hypothesis, error) {
	n, k := len(srcs), opt.Beam
	one, srcLen, limit, maxOut, err := t.batchSources(srcs, opt.DecodeOptions)
	if err != nil {
		return nil, err
	}
	// Each sentence takes k decoder rows. Decoding without the cache repeats
	// its source k times in src, so that the encoder output lines up with
	// the rows; the cached decoder encodes it once (one).
	src := make([]int, n*k*srcLen)
	beams := make([]*beam, n)
	for i := range srcs {
		for r := 0; r < k; r++ {
			copy(src[(i*k+r)*srcLen:], one[i*srcLen:(i+1)*srcLen])
		}
		beams[i] = &beam{live: []Hypothesis{{}}, parents: []int{0}, limit: limit[i], float32: t.Model.Store.Dtype() == tensor.Float32}
	}
	vocab := t.Model.Config.TgtVocab
	// rowScores gives the scores of live hypothesis r of sentence i.
	// The beams are independent: they expand in parallel.
	left := func() bool {
		for _, b := range beams {
			if !b.done {
				return true
			}
		}
		return false
	}
	step := func(step int, rowScores func(i, r int) []float64) bool {
		parallelFor(n, func(i int) {
			if b := beams[i]; !b.done {
				b.expand(step, k, opt.Alpha, func(r int) []float64 { return rowScores(i, r) })
			}
		})
		return left()
	}
	chosenStep := func(step int, rowChosen func(i, r int) (float64, []candidate)) bool {
		parallelFor(n, func(i int) {
			if b := beams[i]; !b.done {
				b.expandChosen(step, k, opt.Alpha, func(r int) (float64, []candidate) { return rowChosen(i, r) })
			}
		})
		return left()
	}
	if (opt.NoCache || !t.Model.Config.IncrementalDecoding()) && t.members == nil { // an ensemble always steps
		memory, err := t.EncodeBatch(src, n*k, srcLen)
		if err != nil {
			return nil, err
		}
		for s := 0; s < maxOut; s++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			tgtLen := roundUp(s+1, opt.LenStep)
			if pm := t.Model.TgtPos.MaxLen(); pm > 0 {
				tgtLen = min(tgtLen, pm)
			}
			tgt := make([]int, n*k*tgtLen)
			for i, b := range beams {
				for r, h := range b.live {
					row := tgt[(i*k+r)*tgtLen:]
					row[0] = data.BosID
					copy(row[1:], h.Tokens)
				}
			}
			logits, err := t.DecodeBatch(memory, src, tgt, n*k, srcLen, tgtLen)
			if err != nil {
				return nil, err
			}
			scores := graph.Float64s(logits)
			if !step(s, func(i, r int) []float64 {
				off := ((i*k+r)*tgtLen + s) * vocab
				return scores[off : off+vocab]
			}) {
				break
			}
		}
	} else {
		// Row i·k+r of the cache holds live hypothesis r of sentence i; after
		// each step the rows are reordered to follow the new hypotheses'
		// parents.
		tokens, parents := make([]int, n*k), make([]int, n*k)
		var stopped error
		tops := &rowTops{n: 2 * k}
		err := t.incrementalReorder(one, n*k, k, srcLen, maxOut, tops, func(s int, scores []float64) ([]int, []int, bool) {
			if stopped = ctx.Err(); stopped != nil {
				return nil, nil, false
			}
			var more bool
			if scores == nil { // the decoder chose each row's best tokens
				more = chosenStep(s, func(i, r int) (float64, []candidate) { return tops.chosen(i*k + r) })
			} else {
				more = step(s, func(i, r int) []float64 { return scores[(i*k+r)*vocab : (i*k+r+1)*vocab] })
			}
			for i, b := range beams {
				for r := 0; r < k; r++ {
					row := i*k + r
					tokens[row], parents[row] = data.PadID, row
					if r < len(b.live) && !b.done {
						h := b.live[r]
						tokens[row], parents[row] = h.Tokens[len(h.Tokens)-1], i*k+b.parents[r]
					}
				}
			}
			return tokens, parents, more
		})
		if err == nil {
			err = stopped
		}
		if err != nil {
			return nil, err
		}
	}
	res := make([][]Hypothesis, n)
	for i, b := range beams {
		all := b.finished
		if len(all) == 0 { // maxOut reached with live hypotheses only
			for _, h := range b.live {
				all = append(all, Hypothesis{Tokens: h.Tokens, LogProb: h.LogProb, Score: h.LogProb / lengthPenalty(len(h.Tokens), opt.Alpha)})
			}
		}
		sort.SliceStable(all, func(a, c int) bool { return all[a].Score > all[c].Score })
		res[i] = all[:min(opt.NBest, len(all))]
	}
	return res, nil
}

// expand advances the beam by one step: each live hypothesis offers its 2k
// best continuations (scores gives live hypothesis r's scores), and the
// best k of those stay live, ties going to the earlier hypothesis and
// token so that search is deterministic. Hypotheses that produce EosID or
// reach the length limit are finished.
func (b *beam) expand(step, k int, alpha float64, scores func(r int) []float64) {
	var cands []candidate
	for r, h := range b.live {
		row := scores(r)
		var lse float64
		if b.float32 {
			lse = logSumExp32(row)
		} else {
			lse = logSumExp(row)
		}
		cands = appendTop(cands, row, lse, r, h.LogProb, 2*k)
	}
	b.advance(step, k, alpha, cands)
}

// expandChosen is expand from each live hypothesis's log-sum-exp and 2k
// best tokens by score (rowTops), which the decoder chose as it computed
// the scores: the same continuations.
func (b *beam) expandChosen(step, k int, alpha float64, chosen func(r int) (lse float64, best []candidate)) {
	var cands []candidate
	for r, h := range b.live {
		lse, best := chosen(r)
		start := len(cands)
		cands = appendChosen(cands, best, lse, h.LogProb)
		for i := range cands[start:] {
			cands[start+i].row = r
		}
	}
	b.advance(step, k, alpha, cands)
}

// advance keeps the best k of the candidate continuations as the live
// hypotheses and finishes those that end.
func (b *beam) advance(step, k int, alpha float64, cands []candidate) {
	slices.SortStableFunc(cands, func(a, c candidate) int {
		switch {
		case a.logp > c.logp:
			return -1
		case c.logp > a.logp:
			return 1
		}
		return 0
	})
	var live []Hypothesis
	var parents []int
	for _, c := range cands {
		prev := b.live[c.row].Tokens
		toks := append(append(make([]int, 0, len(prev)+1), prev...), c.tok)
		switch {
		case c.tok == data.EosID:
			b.finished = append(b.finished, Hypothesis{Tokens: prev, LogProb: c.logp,
				Score: c.logp / lengthPenalty(len(prev)+1, alpha)})
		case step+1 >= b.limit: // out of room: finish without </s>
			b.finished = append(b.finished, Hypothesis{Tokens: toks, LogProb: c.logp,
				Score: c.logp / lengthPenalty(len(toks), alpha)})
		default:
			live = append(live, Hypothesis{Tokens: toks, LogProb: c.logp})
			parents = append(parents, c.row)
		}
		if len(live) == k {
			break
		}
	}
	b.live, b.parents = live, parents
	// Only the best k finished hypotheses can be returned.
	sort.SliceStable(b.finished, func(a, c int) bool { return b.finished[a].Score > b.finished[c].Score })
	if len(b.finished) > k {
		b.finished = b.finished[:k]
	}
	b.done = len(live) == 0 || len(b.finished) == k && b.finished[k-1].Score >= b.bound(alpha)
}

// bound is the best score any live hypothesis can still reach: its
// log-probability only falls, and the length penalty is at most that of
// the length limit. Search stops once the k-th finished hypothesis beats
// it, so that a longer output with a better length-penalised score is not
// cut off by k short ones found first.
func (b *beam) bound(alpha float64) float64 {
	return b.live[0].LogProb / lengthPenalty(b.limit, alpha)
}

// candidate is one continuation: token tok after live hypothesis row.
type candidate struct {
	row, tok int
	logp     float64
}

// appendTop appends the n most probable tokens of the scores x (never
// PadID or BosID) as continuations of row, whose log-probability is base,
// best first: token t's log-probability is x[t] − lse, lse being log Σ e^x
// (logSumExp). The tokens are chosen by their scores, whose order
// log-softmax keeps, so only the n chosen get a log-probability; equal
// scores keep token order. (Two scores less than a rounding step of
// base + x − lse apart tie in log-probability; the higher score wins.)
// It takes O(len(x)) and O(n log n) more. A NaN lse makes every chosen
// log-probability NaN, as a NaN score makes a log-softmax.
func appendTop(cands []candidate, x []float64, lse float64, row int, base float64, n int) []candidate {
	return appendChosen(cands, selectTop(x, row, n, nil), lse, base)
}

// selectTop returns the n best tokens of the scores x (never PadID or
// BosID) as candidates of row whose logp holds the score, in heap order,
// reusing h's array.
func selectTop[T float](x []T, row, n int, h candHeap) candHeap {
	h = h[:0]
	if n <= 0 {
		return h
	}
	// h is a min-heap of the best n scores so far: its root is the worst
	// kept. Tokens come in increasing order, so a later token with an
	// equal score is never better: only a higher score replaces the root.
	tok := 0
	for ; tok < len(x) && len(h) < n; tok++ {
		if tok != data.PadID && tok != data.BosID {
			h = append(h, candidate{row, tok, float64(x[tok])})
			h.up(len(h) - 1)
		}
	}
	if len(h) > 0 {
		worst := h[0].logp
		for ; tok < len(x); tok++ {
			tok = nextAbove(x, tok, worst)
			if tok == len(x) {
				break
			}
			if tok != data.PadID && tok != data.BosID {
				h[0] = candidate{row, tok, float64(x[tok])}
				h.down(0)
				worst = h[0].logp
			}
		}
	}
	return h
}

// nextAbove returns the first i ≥ from with x[i] > t, or len(x): for
// float32 scores a vector at a time (f32.FirstAbove), as t, a score of x or
// −Inf, is exact in float32.
func nextAbove[T float](x []T, from int, t float64) int {
	if x32, ok := any(x).([]float32); ok {
		return from + f32.FirstAbove(x32[from:], float32(t))
	}
	for i := from; i < len(x); i++ {
		if float64(x[i]) > t {
			return i
		}
	}
	return len(x)
}

// appendChosen appends the chosen candidates, whose logp holds their
// score, with log-probability base + (score − lse), best first.
func appendChosen(cands, chosen []candidate, lse, base float64) []candidate {
	start := len(cands)
	cands = append(cands, chosen...)
	top := cands[start:]
	for i := range top {
		top[i].logp = base + (top[i].logp - lse)
	}
	slices.SortFunc(top, byBetter)
	return cands
}

// better orders the continuations of one row: the more probable first,
// and of equal ones the lower token.
func better(a, b candidate) bool {
	return a.logp > b.logp || a.logp == b.logp && a.tok < b.tok
}

// byBetter orders candidates for slices.SortFunc as better does: the
// better first.
func byBetter(a, b candidate) int {
	switch {
	case better(a, b):
		return -1
	case better(b, a):
		return 1
	}
	return 0
}

// candHeap is a min-heap of candidates under better: the worst on top.
// up and down are container/heap's, step for step, on the concrete type
// (no calls through an interface).
type candHeap []candidate

// up moves h[j] up to its place.
func (h candHeap) up(j int) {
	for {
		i := (j - 1) / 2 // parent
		if i == j || !better(h[i], h[j]) {
			break
		}
		h[i], h[j] = h[j], h[i]
		j = i
	}
}

// down moves h[0] down to its place.
func (h candHeap) down(i int) {
	for {
		j1 := 2*i + 1
		if j1 >= len(h) || j1 < 0 {
			break
		}
		j := j1 // left child
		if j2 := j1 + 1; j2 < len(h) && better(h[j1], h[j2]) {
			j = j2
		}
		if !better(h[i], h[j]) {
			break
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}

// logSumExp is log Σ e^x, the normaliser of the row's log-softmax: the
// log-probability of token t is x[t] − logSumExp(x).
func logSumExp(x []float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, v)
	}
	sum := 0.0
	for _, v := range x {
		sum += math.Exp(v - m)
	}
	return m + math.Log(sum)
}

// logSumExp32 is logSumExp for scores that are float32 values: each
// e^(v − max) is a float32 exponential (graph/f32's vector kernel), the
// terms are summed in float64. Within about 1e-7 of logSumExp, and several
// times faster. A NaN score gives NaN.
func logSumExp32(x []float64) float64 {
	m, nan := maxNaN(x)
	if nan {
		return math.NaN()
	}
	e, buf := expBuf(len(x))
	defer expScratch.Put(buf)
	for i, v := range x {
		e[i] = float32(v - m)
	}
	f32.ExpShift(e, e, 0)
	return m + math.Log(sum8(e))
}

// logSumExpRow is the log-sum-exp of a model's row of scores as beam search
// takes it: logSumExp32 of float32 scores, read in place (e^(v − max)
// computed from them directly and summed as sum8 sums them, the same
// values: f32.ExpSum8), logSumExp of float64 ones.
func logSumExpRow[T float](x []T) float64 {
	x32, ok := any(x).([]float32)
	if !ok {
		return logSumExp(any(x).([]float64))
	}
	m, nan := f32.MaxNaN(x32)
	if nan {
		return math.NaN()
	}
	s := f32.ExpSum8(x32, m) // sum8 of ExpShift's values, without storing them
	return float64(m) + math.Log(((s[0]+s[1])+(s[2]+s[3]))+((s[4]+s[5])+(s[6]+s[7])))
}

// expBuf is scratch for n exponentials from expScratch, and what to put
// back.
func expBuf(n int) ([]float32, *[]float32) {
	buf := expScratch.Get().(*[]float32)
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n], buf
}

// sum8 is Σ e in float64, in eight partial sums so that the additions do
// not wait on each other.
func sum8(e []float32) float64 {
	var s [8]float64
	i := 0
	for ; i+8 <= len(e); i += 8 {
		s[0] += float64(e[i])
		s[1] += float64(e[i+1])
		s[2] += float64(e[i+2])
		s[3] += float64(e[i+3])
		s[4] += float64(e[i+4])
		s[5] += float64(e[i+5])
		s[6] += float64(e[i+6])
		s[7] += float64(e[i+7])
	}
	for ; i < len(e); i++ {
		s[0] += float64(e[i])
	}
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
}

// maxNaN is the largest of x (−Inf for none) and whether x holds a NaN.
// Four running maxima keep the comparisons independent; comparisons, not
// the builtin max, whose care for NaN and −0 costs a branch an element.
// The NaN check is a sum, which is NaN when an element is (or when +Inf
// meets −Inf, for which x is scanned again).
func maxNaN[T float](x []T) (m float64, nan bool) {
	inf := T(math.Inf(-1))
	m0, m1, m2, m3 := inf, inf, inf, inf
	var s0, s1 T
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a, b, c, d := x[i], x[i+1], x[i+2], x[i+3]
		if a > m0 {
			m0 = a
		}
		if b > m1 {
			m1 = b
		}
		if c > m2 {
			m2 = c
		}
		if d > m3 {
			m3 = d
		}
		s0 += a + b
		s1 += c + d
	}
	for ; i < len(x); i++ {
		if x[i] > m0 {
			m0 = x[i]
		}
		s0 += x[i]
	}
	if s := s0 + s1; s != s {
		for _, v := range x {
			if v != v {
				return math.NaN(), true
			}
		}
	}
	if m1 > m0 {
		m0 = m1
	}
	if m3 > m2 {
		m2 = m3
	}
	if m2 > m0 {
		m0 = m2
	}
	return float64(m0), false
}

var expScratch = sync.Pool{New: func() any { return new([]float32) }}

// parallelFor calls f(i) for i in 0..n-1, spread over the CPUs.
func parallelFor(n int, f func(i int)) {
	parts := min(runtime.GOMAXPROCS(0), n)
	if parts <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	for p := 0; p < parts; p++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				f(i)
			}
		}(p*n/parts, (p+1)*n/parts)
	}
	wg.Wait()
}
