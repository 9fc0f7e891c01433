package model

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
)

// DecodeOptions bound and batch decoding.
type DecodeOptions struct {
	// BatchSize is the number of sentences decoded together (default 64).
	BatchSize int
	// The output has at most MaxLenA·(source length) + MaxLenB tokens,
	// and never more than MaxLen (defaults 2, 10 and 128).
	MaxLenA float64
	MaxLenB int
	MaxLen  int
	// LenStep rounds decoder and source lengths up to a multiple of it, so
	// that few graph shapes are compiled (default 8).
	LenStep int
	// NoCache recomputes every earlier position at each step instead of
	// keeping their keys and values (slower; the outputs are the same).
	// Decoders without Config.IncrementalDecoding always recompute.
	NoCache bool
	// Sample, when set, draws each token from the model's distribution
	// (Sampling) instead of taking the most probable one.
	Sample *Sampling
}

func (o DecodeOptions) withDefaults() DecodeOptions {
	if o.BatchSize <= 0 {
		o.BatchSize = 64
	}
	if o.MaxLenA == 0 && o.MaxLenB == 0 {
		o.MaxLenA, o.MaxLenB = 2, 10
	}
	if o.MaxLen <= 0 {
		o.MaxLen = 128
	}
	if o.LenStep <= 0 {
		o.LenStep = 8
	}
	return o
}

func roundUp(n, step int) int { return (n + step - 1) / step * step }

// Greedy translates token-id sentences (without special tokens) by picking
// the most probable token at every step until EosID, returning the output
// ids without BosID and EosID, in input order. Sentences are sorted by
// length and decoded in batches; the encoder runs once per batch.
// Options out of bounds (DecodeOptions.Check) and sources longer than
// Transformer.MaxSourceLen are errors.
func (t *Translator) Greedy(srcs [][]int, opt DecodeOptions) ([][]int, error) {
	return t.GreedyContext(context.Background(), srcs, opt)
}

// GreedyContext is Greedy that stops when ctx is done, returning
// ctx.Err(): it is checked before each batch and each output position.
func (t *Translator) GreedyContext(ctx context.Context, srcs [][]int, opt DecodeOptions) ([][]int, error) {
	if err := opt.Check(); err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	out := make([][]int, len(srcs))
	err := inLengthOrder(ctx, srcs, opt.BatchSize, func(batch [][]int, idx []int) error {
		res, err := t.greedyBatch(ctx, batch, idx, opt)
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

// inLengthOrder calls decode on batches of at most per sources, taken in
// order of length so that little padding is decoded; idx gives each
// batch row's position in srcs. It stops with ctx.Err() when ctx is done.
func inLengthOrder(ctx context.Context, srcs [][]int, per int, decode func(batch [][]int, idx []int) error) error {
	order := make([]int, len(srcs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(srcs[order[a]]) < len(srcs[order[b]]) })
	for start := 0; start < len(order); start += per {
		if err := ctx.Err(); err != nil {
			return err
		}
		idx := order[start:min(start+per, len(order))]
		batch := make([][]int, len(idx))
		for i, j := range idx {
			batch[i] = srcs[j]
		}
		if err := decode(batch, idx); err != nil {
			return err
		}
	}
	return nil
}

// greedyRows is the state of greedy decoding of a batch: each row's output
// so far and whether it has ended.
type greedyRows struct {
	out    [][]int
	done   []bool
	limit  []int
	left   int
	sample *sampler // nil: the most probable token
}

// newGreedyRows starts rows with their output limits; with sampling on,
// idx gives each row's position in the whole input (for its generator).
func newGreedyRows(limit []int, opt DecodeOptions, idx []int) *greedyRows {
	n := len(limit)
	g := &greedyRows{out: make([][]int, n), done: make([]bool, n), limit: limit, left: n}
	if opt.Sample != nil {
		g.sample = newSampler(*opt.Sample, idx)
	}
	return g
}

// take picks the best token of row i at step from its scores and records
// it; a row ends with EosID (not kept) or at its length limit. It returns
// the token, or PadID for a row that had already ended.
func (g *greedyRows) take(i, step int, scores []float64) int {
	if g.done[i] {
		return data.PadID
	}
	if g.sample != nil {
		return g.record(i, step, g.sample.draw(i, scores))
	}
	return g.record(i, step, argmax(scores))
}

// takeAll is take for rows 0…n−1 of scores [n, vocab], writing their
// tokens into tokens. Without sampling, the rows' argmax run in parallel.
func (g *greedyRows) takeAll(step, vocab int, scores []float64, tokens []int) {
	n := len(tokens)
	if g.sample != nil {
		for i := range tokens {
			tokens[i] = g.take(i, step, scores[i*vocab:(i+1)*vocab])
		}
		return
	}
	parallelFor(n, func(i int) {
		if !g.done[i] {
			tokens[i] = argmax(scores[i*vocab : (i+1)*vocab])
		}
	})
	for i := range tokens {
		if g.done[i] {
			tokens[i] = data.PadID
		} else {
			tokens[i] = g.record(i, step, tokens[i])
		}
	}
}

// recordAll is takeAll from each row's best token, which the decoder
// chose (rowTops with n 1: the argmax, the same token).
func (g *greedyRows) recordAll(step int, tops *rowTops, tokens []int) {
	for i := range tokens {
		tokens[i] = data.PadID
		if _, best := tops.chosen(i); !g.done[i] && len(best) > 0 {
			tokens[i] = g.record(i, step, best[0].tok)
		}
	}
}

// record keeps token best as row i's choice at step; a row ends with
// EosID (not kept) or at its length limit.
func (g *greedyRows) record(i, step, best int) int {
	if best == data.EosID || step+1 >= g.limit[i] {
		g.done[i] = true
		g.left--
		if best == data.EosID {
			return best
		}
	}
	g.out[i] = append(g.out[i], best)
	return best
}

// batchSources lays out a batch of sources as rows of srcLen ids (each
// ending with EosID, then padding) and gives each row's output limit,
// at most Transformer.MaxTargetLen. A source longer than
// Transformer.MaxSourceLen is an error.
func (t *Translator) batchSources(srcs [][]int, opt DecodeOptions) (src []int, srcLen int, limit []int, maxOut int, err error) {
	longest := 0
	for _, s := range srcs {
		longest = max(longest, len(s)+1) // + EosID
	}
	if most := t.Model.MaxSourceLen(); longest-1 > most {
		return nil, 0, nil, 0, fmt.Errorf("source of %d tokens exceeds the model's limit of %d tokens", longest-1, most)
	}
	srcLen = roundUp(longest, opt.LenStep)
	if pm := t.Model.SrcPos.MaxLen(); pm > 0 && srcLen > pm {
		if longest > pm {
			return nil, 0, nil, 0, fmt.Errorf("source of %d tokens exceeds the model's %d positions", longest, pm)
		}
		srcLen = pm
	}
	src = make([]int, len(srcs)*srcLen)
	limit = make([]int, len(srcs))
	for i, s := range srcs {
		copy(src[i*srcLen:], s)
		src[i*srcLen+len(s)] = data.EosID
		// In floating point, so that no factor overflows an int.
		l := math.Min(float64(opt.MaxLen), math.Ceil(opt.MaxLenA*float64(len(s)+1))+float64(opt.MaxLenB))
		limit[i] = max(0, min(int(l), t.Model.MaxTargetLen()))
		maxOut = max(maxOut, limit[i])
	}
	return src, srcLen, limit, maxOut, nil
}

// greedyCached decodes a batch incrementally, with the key/value cache.
func (t *Translator) greedyCached(ctx context.Context, srcs [][]int, idx []int, opt DecodeOptions) ([][]int, error) {
	n := len(srcs)
	src, srcLen, limit, maxOut, err := t.batchSources(srcs, opt)
	if err != nil {
		return nil, err
	}
	g := newGreedyRows(limit, opt, idx)
	vocab := t.Model.Config.TgtVocab
	tokens := make([]int, n)
	var tops *rowTops
	if g.sample == nil { // the decoder takes each row's argmax itself
		tops = &rowTops{n: 1, noLSE: true}
	}
	var stopped error
	err = t.incremental(src, n, srcLen, maxOut, tops, func(step int, scores []float64) ([]int, bool) {
		if stopped = ctx.Err(); stopped != nil {
			return nil, false
		}
		if scores == nil {
			g.recordAll(step, tops, tokens)
		} else {
			g.takeAll(step, vocab, scores, tokens)
		}
		return tokens, g.left > 0
	})
	if err == nil {
		err = stopped
	}
	if err != nil {
		return nil, err
	}
	return g.out, nil
}

func (t *Translator) greedyBatch(ctx context.Context, srcs [][]int, idx []int, opt DecodeOptions) ([][]int, error) {
	if !opt.NoCache && t.Model.Config.IncrementalDecoding() || t.members != nil { // an ensemble always steps
		return t.greedyCached(ctx, srcs, idx, opt)
	}
	n := len(srcs)
	src, srcLen, limit, maxOut, err := t.batchSources(srcs, opt)
	if err != nil {
		return nil, err
	}
	memory, err := t.EncodeBatch(src, n, srcLen)
	if err != nil {
		return nil, err
	}
	// ys holds BosID followed by the tokens chosen so far, padded.
	full := maxOut + 1
	ys := make([]int, n*full)
	for i := 0; i < n; i++ {
		ys[i*full] = data.BosID
	}
	g := newGreedyRows(limit, opt, idx)
	vocab := t.Model.Config.TgtVocab
	for step := 0; step < maxOut && g.left > 0; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tgtLen := min(roundUp(step+1, opt.LenStep), full)
		if pm := t.Model.TgtPos.MaxLen(); pm > 0 {
			tgtLen = min(tgtLen, pm)
		}
		tgt := make([]int, n*tgtLen)
		for i := 0; i < n; i++ {
			copy(tgt[i*tgtLen:(i+1)*tgtLen], ys[i*full:i*full+tgtLen])
		}
		logits, err := t.DecodeBatch(memory, src, tgt, n, srcLen, tgtLen)
		if err != nil {
			return nil, err
		}
		scores := graph.Float64s(logits)
		for i := 0; i < n; i++ {
			off := (i*tgtLen + step) * vocab
			ys[i*full+step+1] = g.take(i, step, scores[off:off+vocab])
		}
	}
	return g.out, nil
}

// argmax returns the most probable token, never PadID or BosID, which a
// decoder must not produce.
func argmax(v []float64) int {
	best := -1
	// The ids that are never chosen are among the first four: check them
	// one by one, then run a loop with one comparison an element.
	head := min(len(v), 4)
	for i, x := range v[:head] {
		if i != data.PadID && i != data.BosID && (best < 0 || x > v[best]) {
			best = i
		}
	}
	if best < 0 {
		return best
	}
	// Four lanes, each keeping its first largest, so that the comparisons
	// do not wait on each other; then the largest of the lanes, the
	// earliest of equal ones.
	b0, b1, b2, b3 := best, best, best, best
	v0 := v[best]
	v1, v2, v3 := v0, v0, v0
	i := head
	for ; i+4 <= len(v); i += 4 {
		x := v[i : i+4 : i+4]
		if x[0] > v0 {
			b0, v0 = i, x[0]
		}
		if x[1] > v1 {
			b1, v1 = i+1, x[1]
		}
		if x[2] > v2 {
			b2, v2 = i+2, x[2]
		}
		if x[3] > v3 {
			b3, v3 = i+3, x[3]
		}
	}
	for ; i < len(v); i++ {
		if v[i] > v0 {
			b0, v0 = i, v[i]
		}
	}
	best, bv := b0, v0
	for _, c := range [...]struct {
		i int
		v float64
	}{{b1, v1}, {b2, v2}, {b3, v3}} {
		if c.v > bv || c.v == bv && c.i < best {
			best, bv = c.i, c.v
		}
	}
	return best
}
