package model

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/layers"
)

// Incremental decoding: the encoder runs once (as a graph), the keys and
// values of the memory are projected once per cross-attention layer, and
// each decoder step computes only the newest position, attending to the
// keys and values of earlier positions kept in a cache. A step costs O(t·d)
// instead of the O(t²·d) of recomputing the whole prefix.
//
// The steps do not build graphs: a step is a few small matrix products on
// rows of one position each, where a graph's per-op overhead, copies and
// allocations would cost more than the arithmetic. stepper runs them as
// plain loops and BLAS calls on the model's own weights, in the model's
// float type. Its scores are checked against the graph decoder's
// (TestIncrementalMatchesFullDecoder).

// stepWeights are one decoder layer's weights, as slices of the Store's
// tensors (no copies).
type stepWeights[T float] struct {
	norm           [3][2][]T // γ, β of norm1..3
	eps            [3]float64
	selfQ, selfK   affine[T]
	selfV, selfO   affine[T]
	selfQKV        *affine[T] // selfQ, selfK and selfV side by side, where they join
	crossQ, crossK affine[T]
	crossV, crossO affine[T]
	ff1, ff2       affine[T]
	hidden         int
	activation     string
	normFirst      bool
}

// stepper decodes rows sequences position by position.
type stepper[T float] struct {
	m                   *Transformer
	rows, srcLen        int
	group               int // consecutive rows decoding the same source
	d, heads, dh, vocab int
	layers              []stepWeights[T]
	embed               matrix[T] // [vocab, d]
	out                 affine[T] // output projection: [d, vocab], or tied: embed used transposed
	finalNorm           [2][]T
	finalEps            float64

	// memK holds per layer the memory's keys, each head's transposed:
	// [sources, heads, dh, memStride], the keys of a head side by side in
	// each row, which attendT reads a row of dh at a time. memV
	// holds the values, [sources·srcLen, d].
	memK, memV [][]T
	memStride  int    // srcLen rounded up to whole vectors
	memScratch []T    // the keys of one layer before transposing (kept for release)
	srcPad     []bool // [sources·srcLen]
	// cacheK and cacheV hold per layer the keys and values of decoded
	// positions, [rows, capacity, d].
	cacheK, cacheV [][]T
	capacity       int
	filled         int   // positions held in the cache
	slot, keep     []int // reorder's slot in saved of each row (1-based; 0: none), and the rows saved
	saved          []T   // reorder's copies of the rows it overwrites but still reads
	arr            *arrays[T]
	pool           *arrayPool // where release puts arr (nil: nowhere)

	x, h, q, k, v, ctx, tmp, ff, logits []T
	qkv                                 []T       // [rows, 3d], the joined projections' output
	scores64                            []float64 // logits as float64, converted by each row's goroutine (made by the first step without tops)
	tops                                *rowTops  // when set, each step's rows are summarised here instead
	pos                                 []float64 // sinusoidal table, grown as needed
}

func weight[T float](m *Transformer, name string) []T {
	return m.Store.Get(name).Data().([]T)
}

// newStepper prepares decoding rows sequences, group consecutive rows per
// source, from the encoder's output memory [rows/group·srcLen, d] of the
// sources src [rows/group·srcLen].
// Its arrays come from arr (nil: new ones), where release returns them.
func newStepper[T float](m *Transformer, rows, group, srcLen int, memory []T, src []int, arr *arrays[T]) *stepper[T] {
	c := m.Config
	if arr == nil {
		arr = &arrays[T]{}
	}
	s := &stepper[T]{m: m, rows: rows, group: group, srcLen: srcLen, d: c.DModel, heads: c.Heads, dh: c.DModel / c.Heads, vocab: c.TgtVocab, arr: arr}
	lin := func(l layers.MultiHeadAttention, p string) affine[T] {
		return affineOf[T](m, l.Name+"."+p)
	}
	for _, l := range m.Decoder.Layers {
		w := stepWeights[T]{hidden: l.FF.Hidden, activation: l.FF.Activation, normFirst: l.NormFirst,
			selfQ: lin(l.SelfAttn, "q_proj"), selfK: lin(l.SelfAttn, "k_proj"), selfV: lin(l.SelfAttn, "v_proj"), selfO: lin(l.SelfAttn, "out_proj"),
			crossQ: lin(l.CrossAttn, "q_proj"), crossK: lin(l.CrossAttn, "k_proj"), crossV: lin(l.CrossAttn, "v_proj"), crossO: lin(l.CrossAttn, "out_proj"),
		}
		for i, n := range []layers.LayerNorm{l.Norm1, l.Norm2, l.Norm3} {
			w.norm[i] = [2][]T{weight[T](m, n.Name+".weight"), weight[T](m, n.Name+".bias")}
			w.eps[i] = n.Eps
		}
		w.ff1, w.ff2 = affineOf[T](m, l.FF.Name+".linear1"), affineOf[T](m, l.FF.Name+".linear2")
		if qkv, ok := sideBySide(c.DModel, w.selfQ, w.selfK, w.selfV); ok {
			w.selfQKV = &qkv
		}
		s.layers = append(s.layers, w)
	}
	if n := m.Decoder.Norm; n != nil {
		s.finalNorm = [2][]T{weight[T](m, n.Name+".weight"), weight[T](m, n.Name+".bias")}
		s.finalEps = n.Eps
	}
	s.embed = matrixOf[T](m, m.TgtEmbed.Name+".weight")
	if c.TieOutput {
		// The tied projection is x·Eᵀ; a transposed copy [d, V], made once
		// per batch, lets every step use the row-major product that
		// small row counts are fastest with (for 16-bit tables too: their
		// kernel reads a row-major B in place).
		s.out = affine[T]{w: s.embed, b: weight[T](m, m.OutputBias)}
		if q, trans := m.Store.Int8(m.TgtEmbed.Name + ".weight"); q != nil && trans {
			s.out.w = matrix[T]{q: q} // quantised as used, transposed: no copy
		} else if s.embed.bits == nil {
			s.out.w.v = transpose(s.embed.v, c.TgtVocab, c.DModel)
		} else {
			s.out.w.bits = transpose(s.embed.bits, c.TgtVocab, c.DModel)
		}
	} else {
		s.out = affineOf[T](m, m.Output.Name)
	}
	d := s.d
	s.memStride = (srcLen + 15) &^ 15
	sources := len(src) / srcLen
	k := arr.get(len(memory))
	s.memScratch = k
	for _, w := range s.layers {
		v, kt := arr.get(len(memory)), arr.get(sources*d*s.memStride)
		w.crossK.apply(len(src), d, d, memory, k)
		w.crossV.apply(len(src), d, d, memory, v)
		for b := range sources {
			for j := range srcLen {
				row := k[(b*srcLen+j)*d : (b*srcLen+j+1)*d]
				for c, x := range row { // column c = head c/dh, its element c%dh
					kt[(b*d+c)*s.memStride+j] = x
				}
			}
		}
		s.memK, s.memV = append(s.memK, kt), append(s.memV, v)
	}
	s.srcPad = make([]bool, len(src))
	for i, id := range src {
		s.srcPad[i] = id == data.PadID
	}
	s.cacheK, s.cacheV = make([][]T, len(s.layers)), make([][]T, len(s.layers))
	hidden := 0
	for _, w := range s.layers {
		hidden = max(hidden, w.hidden)
	}
	buf := arr.get
	s.x, s.h, s.q, s.k, s.v, s.ctx, s.tmp = buf(rows*d), buf(rows*d), buf(rows*d), buf(rows*d), buf(rows*d), buf(rows*d), buf(rows*d)
	s.ff, s.logits = buf(rows*hidden), buf(rows*s.vocab)
	for _, w := range s.layers {
		if w.selfQKV != nil { // layers join or not on their own (formats may differ)
			s.qkv = buf(rows * 3 * d)
			break
		}
	}
	return s
}

// reserveBytes is the most cache reserve sizes for all steps at once;
// beyond it the cache grows as the steps need it.
const reserveBytes = 64 << 20

// reserve makes room in the cache for the given number of steps at once
// where that takes at most reserveBytes, so that the cache is not copied
// as it grows.
func (s *stepper[T]) reserve(steps int) {
	size := 4
	if _, ok := any(T(0)).(float64); ok {
		size = 8
	}
	if steps > 0 && steps <= reserveBytes/(2*len(s.layers)*s.rows*s.d*size+1) {
		s.grow(steps - 1)
	}
}

// grow makes room in the cache for position pos.
func (s *stepper[T]) grow(pos int) {
	if pos < s.capacity {
		return
	}
	capacity := max(2*s.capacity, pos+1, 16)
	for l := range s.cacheK {
		s.cacheK[l], s.cacheV[l] = s.regrow(s.cacheK[l], capacity), s.regrow(s.cacheV[l], capacity)
	}
	s.capacity = capacity
}

func (s *stepper[T]) regrow(old []T, capacity int) []T {
	out := s.arr.get(s.rows * capacity * s.d)
	for r := 0; r < s.rows && old != nil; r++ {
		copy(out[r*capacity*s.d:], old[r*s.capacity*s.d:(r+1)*s.capacity*s.d])
	}
	return out // old is not kept: the arrays kept stay those a decoder holds at its end
}

// release hands the stepper's arrays back to its arrays for another
// stepper; it must not be used after. Only these are kept: recycled arrays
// this stepper did not take (a batch of another shape) are let go, so that
// what a Translator keeps is one batch's arrays, not every size it met.
func (s *stepper[T]) release() {
	if s.arr != nil {
		clear(s.arr.free)
		s.arr.free = s.arr.free[:0]
	}
	s.arr.put(s.x, s.h, s.q, s.k, s.v, s.ctx, s.tmp, s.ff, s.logits, s.qkv, s.saved, s.memScratch)
	for _, l := range [][][]T{s.memK, s.memV, s.cacheK, s.cacheV} {
		s.arr.put(l...)
	}
	if s.pool != nil {
		s.pool.Put(s.arr)
	}
}

// reorder makes row r of the cache hold what row parents[r] held, for the
// positions decoded so far (the rest of a row is written before it is
// read).
func (s *stepper[T]) reorder(parents []int) {
	span, n := s.capacity*s.d, s.filled*s.d
	// In place: a row that continues its own history stays as it is (a
	// finished sentence's rows, and often the best hypothesis), the others
	// copy their parent's. A parent that is itself overwritten is saved
	// first, in saved's slot.
	if cap(s.slot) < len(parents) {
		s.slot = make([]int, len(parents))
	}
	s.slot = s.slot[:len(parents)]
	clear(s.slot)
	keep := s.keep[:0]
	for r, p := range parents {
		if p != r && parents[p] != p && s.slot[p] == 0 {
			keep = append(keep, p)
			s.slot[p] = len(keep) // 1-based: 0 says not saved
		}
	}
	s.keep = keep
	// The layers' keys and values are independent caches, reordered side
	// by side, each with its own part of saved.
	caches := len(s.cacheK) * 2
	need := len(keep) * n
	if cap(s.saved) < need*caches {
		s.saved = s.arr.get(need * caches)
	}
	parallelFor(caches, func(c int) {
		kv, saved := s.cacheK[c/2], s.saved[c*need:(c+1)*need]
		if c%2 == 1 {
			kv = s.cacheV[c/2]
		}
		for i, p := range keep {
			copy(saved[i*n:(i+1)*n], kv[p*span:p*span+n])
		}
		for r, p := range parents {
			switch {
			case p == r:
			case s.slot[p] > 0:
				i := s.slot[p] - 1
				copy(kv[r*span:r*span+n], saved[i*n:(i+1)*n])
			default:
				copy(kv[r*span:r*span+n], kv[p*span:p*span+n])
			}
		}
	})
}

// step feeds token tok[r] at position pos to every row and leaves the
// scores [rows, vocab] of the next token in s.logits. Rows are independent,
// so they are split into one chunk per CPU, each decoded by its own
// goroutine.
func (s *stepper[T]) step(tok []int, pos int) {
	if s.tops == nil && s.scores64 == nil {
		s.scores64 = make([]float64, s.rows*s.vocab)
	}
	s.grow(pos)
	s.filled = pos + 1
	if (pos+1)*s.d > len(s.pos) {
		s.pos = layers.SinusoidalTable(max(2*(pos+1), 64), s.d)
	}
	parts := min(runtime.GOMAXPROCS(0), s.rows)
	if parts <= 1 {
		s.stepRows(tok, pos, 0, s.rows)
		return
	}
	var wg sync.WaitGroup
	for p := 0; p < parts; p++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			s.stepRows(tok, pos, lo, hi)
		}(p*s.rows/parts, (p+1)*s.rows/parts)
	}
	wg.Wait()
}

// rowsOf returns rows lo..hi of buf, whose rows have width values each.
func rowsOf[T float](buf []T, width, lo, hi int) []T { return buf[lo*width : hi*width] }

// stepRows is step for rows lo..hi, which it alone reads and writes.
func (s *stepper[T]) stepRows(tok []int, pos, lo, hi int) {
	d, n := s.d, hi-lo
	scale := T(1)
	if !s.m.TgtEmbed.Unscaled {
		scale = T(math.Sqrt(float64(d)))
	}
	var pv []T
	if p, ok := s.m.TgtPos.(layers.LearnedPositions); ok {
		pv = weight[T](s.m, p.Name+".weight")[pos*d : (pos+1)*d]
	}
	sin := s.pos[pos*d : (pos+1)*d]
	x := rowsOf(s.x, d, lo, hi)
	for r := lo; r < hi; r++ {
		xr := s.x[r*d : (r+1)*d]
		e := s.embed.row(tok[r], d, xr)
		for i := range xr {
			if pv != nil {
				xr[i] = e[i]*scale + pv[i]
			} else {
				xr[i] = e[i]*scale + T(sin[i])
			}
		}
	}
	for l := range s.layers {
		w := &s.layers[l]
		s.sublayer(w, 0, lo, hi, func(h, out []T) { s.selfAttention(l, w, pos, lo, hi, h, out) })
		s.sublayer(w, 1, lo, hi, func(h, out []T) { s.crossAttention(l, w, lo, hi, h, out) })
		s.sublayer(w, 2, lo, hi, func(h, out []T) {
			ff := rowsOf(s.ff, w.hidden, lo, hi)
			w.ff1.apply(n, d, w.hidden, h, ff)
			activate(w.activation, ff)
			w.ff2.apply(n, w.hidden, d, ff, out)
		})
	}
	if s.finalNorm[0] != nil {
		h := rowsOf(s.h, d, lo, hi)
		layerNorm(n, d, x, s.finalNorm[0], s.finalNorm[1], s.finalEps, h)
		x = h
	}
	logits := rowsOf(s.logits, s.vocab, lo, hi)
	s.out.apply(n, d, s.vocab, x, logits)
	if t := s.tops; t != nil {
		// Each row's summary, while its scores are in this core's cache.
		for r := lo; r < hi; r++ {
			row := s.logits[r*s.vocab : (r+1)*s.vocab]
			if !t.noLSE {
				t.lse[r] = logSumExpRow(row)
			}
			t.count[r] = len(selectTop(row, r, t.n, t.best[r*t.n:r*t.n:(r+1)*t.n]))
		}
		return
	}
	out := s.scores64[lo*s.vocab : hi*s.vocab]
	for i, v := range logits {
		out[i] = float64(v)
	}
}

// rowTops are what beam search needs of each row's scores: their
// log-sum-exp and the n best tokens by score (never PadID or BosID; a
// candidate's logp holds its score), which a stepper computes in the
// goroutines that computed the scores (useTops) instead of handing them
// over.
type rowTops struct {
	n     int
	noLSE bool        // the best tokens only (greedy search: the argmax)
	lse   []float64   // [rows]
	best  []candidate // [rows·n]: row r's in heap order, count[r] of them
	count []int
}

// chosen returns row r's log-sum-exp and best tokens.
func (t *rowTops) chosen(r int) (float64, []candidate) {
	return t.lse[r], t.best[r*t.n : r*t.n+t.count[r]]
}

// useTops makes each step fill t for the stepper's rows instead of the
// scores, which scores then no longer returns.
func (s *stepper[T]) useTops(t *rowTops) {
	t.lse, t.best, t.count = make([]float64, s.rows), make([]candidate, s.rows*t.n), make([]int, s.rows)
	s.tops = t
}

// sublayer applies sublayer i of a layer to rows lo..hi with its residual
// connection and norm (pre-LN: x + f(norm(x)); post-LN: norm(x + f(x))).
func (s *stepper[T]) sublayer(w *stepWeights[T], i, lo, hi int, f func(h, out []T)) {
	x, tmp := rowsOf(s.x, s.d, lo, hi), rowsOf(s.tmp, s.d, lo, hi)
	if w.normFirst {
		h := rowsOf(s.h, s.d, lo, hi)
		layerNorm(hi-lo, s.d, x, w.norm[i][0], w.norm[i][1], w.eps[i], h)
		f(h, tmp)
		addInto(x, tmp)
		return
	}
	f(x, tmp)
	addInto(x, tmp)
	layerNorm(hi-lo, s.d, x, w.norm[i][0], w.norm[i][1], w.eps[i], x)
}

func (s *stepper[T]) selfAttention(l int, w *stepWeights[T], pos, lo, hi int, h, out []T) {
	d, n := s.d, hi-lo
	ck, cv := s.cacheK[l], s.cacheV[l]
	if w.selfQKV != nil {
		// One product for the three projections, quantising or packing h
		// once; its rows are [q | k | v].
		w.selfQKV.apply(n, d, 3*d, h, rowsOf(s.qkv, 3*d, lo, hi))
		for r := lo; r < hi; r++ {
			row := s.qkv[r*3*d : (r+1)*3*d]
			copy(s.q[r*d:(r+1)*d], row[:d])
			copy(ck[(r*s.capacity+pos)*d:], row[d:2*d])
			copy(cv[(r*s.capacity+pos)*d:], row[2*d:])
		}
	} else {
		q, k, v := rowsOf(s.q, d, lo, hi), rowsOf(s.k, d, lo, hi), rowsOf(s.v, d, lo, hi)
		w.selfQ.apply(n, d, d, h, q)
		w.selfK.apply(n, d, d, h, k)
		w.selfV.apply(n, d, d, h, v)
		for r := lo; r < hi; r++ {
			copy(ck[(r*s.capacity+pos)*d:], s.k[r*d:(r+1)*d])
			copy(cv[(r*s.capacity+pos)*d:], s.v[r*d:(r+1)*d])
		}
	}
	s.attendRows(lo, hi, 1, pos+1, s.capacity, ck, cv, nil)
	w.selfO.apply(n, d, d, rowsOf(s.ctx, d, lo, hi), out)
}

func (s *stepper[T]) crossAttention(l int, w *stepWeights[T], lo, hi int, h, out []T) {
	d, n := s.d, hi-lo
	w.crossQ.apply(n, d, d, h, rowsOf(s.q, d, lo, hi))
	dh, stride := s.dh, s.memStride
	scale := T(1 / math.Sqrt(float64(dh)))
	ws := make([]T, stride)
	for r := lo; r < hi; r++ {
		blk := r / s.group
		keys, vals, skip := s.memK[l][blk*d*stride:], s.memV[l][blk*s.srcLen*d:], s.srcPad[blk*s.srcLen:(blk+1)*s.srcLen]
		for hd := 0; hd < s.heads; hd++ {
			o := hd * dh
			attendT(s.q[r*d+o:], keys[o*stride:], vals[o:], s.srcLen, stride, d, dh, skip, scale, ws, s.ctx[r*d+o:])
		}
	}
	w.crossO.apply(n, d, d, rowsOf(s.ctx, d, lo, hi), out)
}

// attendRows attends from s.q's rows lo..hi to the first n keys and values
// of their block (row r's block r/group starts at (r/group)·span·d) and
// writes the heads' contexts to s.ctx; skip [blocks·span] (nil: none)
// leaves keys out.
func (s *stepper[T]) attendRows(lo, hi, group, n, span int, keys, vals []T, skip []bool) {
	d, dh := s.d, s.dh
	scale := T(1 / math.Sqrt(float64(dh)))
	w := make([]T, n)
	for r := lo; r < hi; r++ {
		blk := r / group
		var sk []bool
		if skip != nil {
			sk = skip[blk*span : blk*span+n]
		}
		for hd := 0; hd < s.heads; hd++ {
			o := hd * dh
			attend(s.q[r*d+o:], keys[blk*span*d+o:], vals[blk*span*d+o:], n, d, dh, sk, scale, w, s.ctx[r*d+o:])
		}
	}
}

// scores returns the latest step's scores as float64 [rows, vocab]: the
// stepper's own buffer (each step's goroutines convert their rows), which
// the next step overwrites; buf is not used. With useTops, nil.
func (s *stepper[T]) scores(buf []float64) []float64 { return s.scores64 }

// incremental decodes one batch step by step with the cache. next is
// called after each step with the scores [rows, vocab] of the newest
// position and returns the token each row feeds to the next step, and
// whether decoding goes on; scores is reused by the next step. src holds
// rows·srcLen ids (each source ending with EosID, then padding). tops: as
// for incrementalReorder.
func (t *Translator) incremental(src []int, rows, srcLen, steps int, tops *rowTops, next func(step int, scores []float64) (tokens []int, more bool)) error {
	return t.incrementalReorder(src, rows, 1, srcLen, steps, tops, func(step int, scores []float64) ([]int, []int, bool) {
		tokens, more := next(step, scores)
		return tokens, nil, more
	})
}

// incrementalReorder is incremental for search over several hypotheses per
// sentence: next also returns, for each row, the row whose cached keys and
// values it continues (nil: each its own), as beam search does when a
// hypothesis extends another row's prefix. Each source of src
// [rows/group·srcLen] is decoded by group consecutive rows, and encoded
// once. With tops, a decoder that can (not an ensemble) fills tops at
// each step and gives next nil scores.
func (t *Translator) incrementalReorder(src []int, rows, group, srcLen, steps int, tops *rowTops, next func(step int, scores []float64) (tokens, parents []int, more bool)) error {
	if group < 1 || rows%group != 0 || len(src) != rows/group*srcLen {
		return fmt.Errorf("model: %d decoding rows in groups of %d do not match %d source tokens of length %d", rows, group, len(src), srcLen)
	}
	var r stepRunner
	var err error
	if t.members != nil {
		r, err = t.ensembleRunner(src, rows, group, srcLen)
	} else {
		r, err = t.runner(src, rows, group, srcLen)
	}
	if err != nil {
		return err
	}
	if u, ok := r.(interface{ useTops(*rowTops) }); ok && tops != nil {
		u.useTops(tops)
	}
	if u, ok := r.(interface{ reserve(int) }); ok {
		u.reserve(steps)
	}
	if u, ok := r.(interface{ release() }); ok {
		defer u.release()
	}
	return runSteps(r, rows, steps, next)
}

// runSteps decodes rows step by step with s, feeding each step's scores to
// next and its tokens back to s.
func runSteps(s stepRunner, rows, steps int, next func(step int, scores []float64) (tokens, parents []int, more bool)) error {
	tok := make([]int, rows)
	for i := range tok {
		tok[i] = data.BosID
	}
	var buf []float64
	for step := 0; step < steps; step++ {
		s.step(tok, step)
		buf = s.scores(buf)
		var more bool
		var parents []int
		tok, parents, more = next(step, buf)
		if !more {
			return nil
		}
		if parents != nil {
			s.reorder(parents)
		}
	}
	return nil
}
