package graph

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Chunk describes full attention computed in blocks (ChunkedAttention):
// Size queries at a time against Size keys at a time. Causal hides the keys
// after each query; Dropout is the probability with which each weight is
// zeroed (its mask comes from a seed input, see Builder.DropoutSeed).
type Chunk struct {
	Size    int
	Causal  bool
	Dropout float64
}

// ChunkedAttention is exact multi-head softmax attention, the same function
// as Attention under the mask that key padding pad [batch, sk] (0 or
// MaskValue) and, with Causal, the hiding of later keys make, computed in
// blocks of Size×Size scores so that no sq×sk matrix is ever held: each
// query row keeps a running maximum and sum over the key blocks (the
// online softmax of FlashAttention, Dao et al. 2022) and rescales its
// accumulated context when the maximum grows. The backward pass recomputes
// each row's log-sum-exp in one pass over the keys, then each block's
// weights from it:
//
//	P = exp(S − lse), dv += (P⊙M)ᵀ·dctx, dS = P ⊙ (M⊙(dctx·vᵀ) − rowsum(dctx ⊙ ctx)),
//	dq += dS·k/√dh, dk += dSᵀ·q/√dh
//
// with M the dropout mask (all ones without dropout). q [batch·sq, d] and
// k, v [batch·sk, d] hold the heads side by side, as for Attention; seed is
// nil without dropout, else the [2] input of Builder.DropoutSeed, from
// which ChunkDropoutMask derives the mask element by element. Memory is
// O(Size² + n·d) per worker, time that of full attention plus one more
// product of the scores in backward.
func ChunkedAttention(q, k, v, pad, seed *G.Node, batch, heads int, c Chunk) *G.Node {
	op := chunkedOp{batch: batch, heads: heads, chunk: c}
	in := []*G.Node{q, k, v, pad}
	if seed != nil {
		in = append(in, seed)
	} else {
		op.chunk.Dropout = 0
	}
	return G.Must(apply(op, in...))
}

type chunkedOp struct {
	batch, heads int
	chunk        Chunk
}

func (op chunkedOp) dropout() bool { return op.chunk.Dropout > 0 }

func (op chunkedOp) Arity() int {
	if op.dropout() {
		return 5
	}
	return 4
}
func (op chunkedOp) Type() hm.Type {
	rows := tensorType(2)
	if op.dropout() {
		return hm.NewFnType(rows, rows, rows, rows, tensorType(1), rows)
	}
	return hm.NewFnType(rows, rows, rows, rows, rows)
}
func (op chunkedOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	q, k, v, pad := in[0].(tensor.Shape), in[1].(tensor.Shape), in[2].(tensor.Shape), in[3].(tensor.Shape)
	if len(q) != 2 || !k.Eq(v) || q[1] != k[1] || q[1]%op.heads != 0 || q[0]%op.batch != 0 || k[0]%op.batch != 0 ||
		len(pad) != 2 || pad[0] != op.batch || pad[1] != k[0]/op.batch || op.chunk.Size <= 0 {
		return nil, fmt.Errorf("%v: q %v, k %v, v %v, pad %v do not split into %d sentences and %d heads", op, q, k, v, pad, op.batch, op.heads)
	}
	return q.Clone(), nil
}
func (op chunkedOp) String() string {
	return fmt.Sprintf("ChunkedAttention{b%d,h%d,chunk %d,causal %v,dropout %g}", op.batch, op.heads, op.chunk.Size, op.chunk.Causal, op.chunk.Dropout)
}
func (op chunkedOp) DiffWRT(inputs int) []bool {
	return []bool{true, true, true, false, false}[:inputs]
}

func (op chunkedOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	out := tensor.New(tensor.WithShape(ts[0].Shape().Clone()...), tensor.Of(ts[0].Dtype()))
	g := op.geometry(ts)
	switch ts[0].Dtype() {
	case tensor.Float32:
		chunkedForward(g, tensorArgs[float32](ts), out.Data().([]float32))
	case tensor.Float64:
		chunkedForward(g, tensorArgs[float64](ts), out.Data().([]float64))
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, ts[0].Dtype())
	}
	return out, nil
}

// SymDiff passes the op's output to the gradient op: the row sums
// rowsum(dctx ⊙ ctx) need it.
func (op chunkedOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	all, err := apply(chunkedGradOp(op), append(append(G.Nodes{}, inputs...), output, grad)...)
	if err != nil {
		return nil, err
	}
	return splitGrads(all, inputs, 3)
}

// chunkedGradOp maps (q, k, v, pad, [seed,] ctx, dctx) to dq, dk and dv,
// one after the other in a flat tensor.
type chunkedGradOp chunkedOp

func (op chunkedGradOp) Arity() int { return chunkedOp(op).Arity() + 2 }
func (op chunkedGradOp) Type() hm.Type {
	rows := tensorType(2)
	if chunkedOp(op).dropout() {
		return hm.NewFnType(rows, rows, rows, rows, tensorType(1), rows, rows, tensorType(1))
	}
	return hm.NewFnType(rows, rows, rows, rows, rows, rows, tensorType(1))
}
func (op chunkedGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{in[0].(tensor.Shape).TotalSize() + 2*in[1].(tensor.Shape).TotalSize()}, nil
}
func (op chunkedGradOp) String() string { return chunkedOp(op).String() + "Grad" }

func (op chunkedGradOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	g := chunkedOp(op).geometry(ts)
	out := tensor.New(tensor.WithShape(g.batch*(g.sq+2*g.sk)*g.d), tensor.Of(ts[0].Dtype()))
	n := len(ts)
	switch ts[0].Dtype() {
	case tensor.Float32:
		chunkedBackward(g, tensorArgs[float32](ts[:n-2]), ts[n-2].Data().([]float32), ts[n-1].Data().([]float32), out.Data().([]float32))
	case tensor.Float64:
		chunkedBackward(g, tensorArgs[float64](ts[:n-2]), ts[n-2].Data().([]float64), ts[n-1].Data().([]float64), out.Data().([]float64))
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, ts[0].Dtype())
	}
	return out, nil
}

// chunkGeometry is the layout of one ChunkedAttention call.
type chunkGeometry struct {
	attentionGeometry
	size   int
	causal bool
	p      float64 // dropout probability (0: none)
	seed   uint64
}

func (op chunkedOp) geometry(ts []*tensor.Dense) chunkGeometry {
	g := chunkGeometry{attentionGeometry: attentionOp{batch: op.batch, heads: op.heads}.geometry(ts),
		size: op.chunk.Size, causal: op.chunk.Causal, p: op.chunk.Dropout}
	if g.p > 0 {
		var s [2]float64
		switch d := ts[4].Data().(type) {
		case []float32:
			s = [2]float64{float64(d[0]), float64(d[1])}
		case []float64:
			s = [2]float64{d[0], d[1]}
		}
		g.seed = seedBits(s)
	}
	return g
}

// chunkArgs are the operands q, k, v and pad of a chunked attention.
type chunkArgs[T float32 | float64] struct{ q, k, v, pad []T }

func tensorArgs[T float32 | float64](ts []*tensor.Dense) chunkArgs[T] {
	return chunkArgs[T]{ts[0].Data().([]T), ts[1].Data().([]T), ts[2].Data().([]T), ts[3].Data().([]T)}
}

// chunkScores writes the scaled, masked scores of queries i0 … i0+rows−1
// of pair (b, h) against keys j0 … j0+cols−1 into s [rows, cols]: the
// products, then MaskValue added where a key is padding or, with causal,
// later than the query, as Attention adds its mask.
func chunkScores[T float32 | float64](g chunkGeometry, a chunkArgs[T], b, h, i0, rows, j0, cols int, s []T) {
	qo, ko := (b*g.sq+i0)*g.d+h*g.dh, (b*g.sk+j0)*g.d+h*g.dh
	gemmLD(false, true, rows, cols, g.dh, T(g.scale), a.q[qo:], g.d, a.k[ko:], g.d, 0, s, cols)
	pad := a.pad[b*g.sk+j0 : b*g.sk+j0+cols]
	padded := -1 // the first padding key of the block (padding is trailing, but any is handled)
	for c, pv := range pad {
		if pv != 0 {
			padded = c
			break
		}
	}
	if padded < 0 && (!g.causal || j0+cols-1 <= i0) {
		return // nothing in the block is hidden
	}
	for r := 0; r < rows; r++ {
		row := s[r*cols : (r+1)*cols]
		// Keys after the query (from column later on) are hidden; of the
		// others, the padding.
		later := cols
		if g.causal {
			later = max(0, min(cols, i0+r-j0+1))
		}
		if padded >= 0 {
			for c, pv := range pad[padded:max(later, padded)] {
				if pv != 0 {
					row[padded+c] += MaskValue
				}
			}
		}
		for c := later; c < cols; c++ {
			row[c] += MaskValue
		}
	}
}

// keyEnd is the end of the keys query block [i0, i0+rows) reads: with
// causal, no key block lies wholly after its last query.
func (g chunkGeometry) keyEnd(i0, rows int) int {
	if g.causal {
		return min(g.sk, i0+rows)
	}
	return g.sk
}

// dropMask sets keep [rows·cols] to whether each weight of pair (b, h),
// queries from i0 and keys from j0, survives dropout.
func dropMask(g chunkGeometry, pair, i0, rows, j0, cols int, keep []bool) {
	thr := dropThreshold(g.p)
	for r := 0; r < rows; r++ {
		base := uint64((pair*g.sq+i0+r)*g.sk + j0)
		row := keep[r*cols : (r+1)*cols]
		for c := range row {
			row[c] = !dropped(g.seed, base+uint64(c), thr)
		}
	}
}

// applyDrop multiplies p by the dropout mask keep: 0 where a weight is
// dropped, 1/(1−p) elsewhere.
func applyDrop[T float32 | float64](g chunkGeometry, keep []bool, p []T) {
	scale := T(1 / (1 - g.p))
	for i, k := range keep {
		if k {
			p[i] *= scale
		} else {
			p[i] = 0
		}
	}
}

// onlineSoftmax runs the online softmax of query block [i0, i0+rows) of pair
// (b, h) over its keys, giving each row's maximum m and sum l of
// exp(score − m); with v non-nil it also accumulates the unnormalised
// context (after dropout) into acc [rows, dh].
func onlineSoftmax[T float32 | float64](g chunkGeometry, a chunkArgs[T], b, h, i0, rows int, s []T, m, l []float64, acc []T, keepBuf []bool, withV bool) {
	for r := 0; r < rows; r++ {
		m[r], l[r] = math.Inf(-1), 0
	}
	clear(acc[:rows*g.dh])
	end := g.keyEnd(i0, rows)
	for j0 := 0; j0 < end; j0 += g.size {
		cols := min(g.size, end-j0)
		chunkScores(g, a, b, h, i0, rows, j0, cols, s)
		for r := 0; r < rows; r++ {
			row := s[r*cols : (r+1)*cols]
			best := m[r]
			for _, x := range row {
				best = max(best, float64(x))
			}
			corr := math.Exp(m[r] - best) // 0 on the first block
			l[r] = l[r]*corr + expShift(row, row, T(best))
			m[r] = best
			if withV && corr != 1 {
				ar := acc[r*g.dh : (r+1)*g.dh]
				for c := range ar {
					ar[c] = T(float64(ar[c]) * corr)
				}
			}
		}
		if withV {
			if g.p > 0 {
				keep := keepBuf[:rows*cols]
				dropMask(g, b*g.heads+h, i0, rows, j0, cols, keep)
				applyDrop(g, keep, s)
			}
			ko := (b*g.sk+j0)*g.d + h*g.dh
			gemmLD(false, false, rows, g.dh, cols, 1, s, cols, a.v[ko:], g.d, 1, acc, g.dh)
		}
	}
}

// chunkBuffers are one worker's scratch: two score blocks, the row
// statistics and a context block.
type chunkBuffers[T float32 | float64] struct {
	s, x   []T
	keep   []bool // a block's dropout mask
	m, l   []float64
	acc    []T
	dk, dv []T // a pair's key and value gradients, when its queries are split
}

func newChunkBuffers[T float32 | float64](g chunkGeometry) *chunkBuffers[T] {
	z := g.size
	return &chunkBuffers[T]{s: make([]T, z*z), x: make([]T, z*z), keep: make([]bool, z*z), m: make([]float64, z), l: make([]float64, z), acc: make([]T, z*g.dh)}
}

// forQueries calls f(pair, lo, hi) for query ranges [lo, hi) covering
// every (batch, head) pair, on one goroutine per CPU: with at least as many
// pairs as CPUs each goroutine takes whole pairs; otherwise the queries of
// each pair are split into one range of whole chunks per CPU.
func (g chunkGeometry) forQueries(f func(pair, lo, hi int)) {
	pairs, workers := g.batch*g.heads, runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	if pairs >= workers {
		for w := 0; w < workers; w++ {
			wg.Go(func() {
				for p := w * pairs / workers; p < (w+1)*pairs/workers; p++ {
					f(p, 0, g.sq)
				}
			})
		}
		wg.Wait()
		return
	}
	blocks := (g.sq + g.size - 1) / g.size
	parts := min(blocks, (workers+pairs-1)/pairs)
	for p := 0; p < pairs; p++ {
		for w := 0; w < parts; w++ {
			lo, hi := w*blocks/parts*g.size, min((w+1)*blocks/parts*g.size, g.sq)
			wg.Go(func() { f(p, lo, hi) })
		}
	}
	wg.Wait()
}

func chunkedForward[T float32 | float64](g chunkGeometry, a chunkArgs[T], out []T) {
	var pool sync.Pool
	pool.New = func() any { return newChunkBuffers[T](g) }
	g.forQueries(func(pair, lo, hi int) {
		buf := pool.Get().(*chunkBuffers[T])
		defer pool.Put(buf)
		b, h := pair/g.heads, pair%g.heads
		for i0 := lo; i0 < hi; i0 += g.size {
			rows := min(g.size, hi-i0)
			onlineSoftmax(g, a, b, h, i0, rows, buf.s, buf.m, buf.l, buf.acc, buf.keep, true)
			for r := 0; r < rows; r++ {
				inv := 1 / buf.l[r]
				o := out[(b*g.sq+i0+r)*g.d+h*g.dh:]
				for c, x := range buf.acc[r*g.dh : (r+1)*g.dh] {
					o[c] = T(float64(x) * inv)
				}
			}
		}
	})
}

func chunkedBackward[T float32 | float64](g chunkGeometry, a chunkArgs[T], ctx, dctx, grads []T) {
	nq, nk := g.batch*g.sq*g.d, g.batch*g.sk*g.d
	dq, dk, dv := grads[:nq], grads[nq:nq+nk], grads[nq+nk:]
	var pool sync.Pool
	pool.New = func() any { return newChunkBuffers[T](g) }
	var mu sync.Mutex
	g.forQueries(func(pair, lo, hi int) {
		buf := pool.Get().(*chunkBuffers[T])
		defer pool.Put(buf)
		b, h := pair/g.heads, pair%g.heads
		ko := b*g.sk*g.d + h*g.dh
		// The pair's dk and dv: in place, or in buffers of their own when
		// other workers take other queries of the same pair.
		pdk, pdv, ld := dk[ko:], dv[ko:], g.d
		split := lo > 0 || hi < g.sq
		if split {
			if buf.dk == nil {
				buf.dk, buf.dv = make([]T, g.sk*g.dh), make([]T, g.sk*g.dh)
			}
			clear(buf.dk)
			clear(buf.dv)
			pdk, pdv, ld = buf.dk, buf.dv, g.dh
		}
		dsum := make([]float64, g.size)
		for i0 := lo; i0 < hi; i0 += g.size {
			rows := min(g.size, hi-i0)
			onlineSoftmax(g, a, b, h, i0, rows, buf.s, buf.m, buf.l, buf.acc, nil, false)
			qo := (b*g.sq+i0)*g.d + h*g.dh
			for r := 0; r < rows; r++ {
				buf.m[r] += math.Log(buf.l[r]) // the log-sum-exp
				var dot float64
				o, do := ctx[qo+r*g.d:qo+r*g.d+g.dh], dctx[qo+r*g.d:qo+r*g.d+g.dh]
				for c := range o {
					dot += float64(o[c]) * float64(do[c])
				}
				dsum[r] = dot
			}
			dqb := buf.acc[:rows*g.dh]
			clear(dqb)
			end := g.keyEnd(i0, rows)
			for j0 := 0; j0 < end; j0 += g.size {
				cols := min(g.size, end-j0)
				p, x := buf.s[:rows*cols], buf.x[:rows*cols]
				chunkScores(g, a, b, h, i0, rows, j0, cols, p)
				for r := 0; r < rows; r++ {
					row := p[r*cols : (r+1)*cols]
					expShift(row, row, T(buf.m[r]))
				}
				kb := (b*g.sk+j0)*g.d + h*g.dh
				// dv += (P⊙M)ᵀ·dctx
				keep := buf.keep[:rows*cols]
				if g.p > 0 {
					dropMask(g, pair, i0, rows, j0, cols, keep)
					copy(x, p)
					applyDrop(g, keep, x)
					gemmLD(true, false, cols, g.dh, rows, 1, x, cols, dctx[qo:], g.d, 1, pdv[j0*ld:], ld)
				} else {
					gemmLD(true, false, cols, g.dh, rows, 1, p, cols, dctx[qo:], g.d, 1, pdv[j0*ld:], ld)
				}
				// x = M⊙(dctx·vᵀ), then dS = P ⊙ (x − rowsum(dctx ⊙ ctx))
				gemmLD(false, true, rows, cols, g.dh, 1, dctx[qo:], g.d, a.v[kb:], g.d, 0, x, cols)
				if g.p > 0 {
					applyDrop(g, keep, x)
				}
				for r := 0; r < rows; r++ {
					pr, xr, dr := p[r*cols:(r+1)*cols], x[r*cols:(r+1)*cols], dsum[r]
					for c := range xr {
						xr[c] = T(float64(pr[c]) * (float64(xr[c]) - dr))
					}
				}
				gemmLD(false, false, rows, g.dh, cols, T(g.scale), x, cols, a.k[kb:], g.d, 1, dqb, g.dh)
				gemmLD(true, false, cols, g.dh, rows, T(g.scale), x, cols, a.q[qo:], g.d, 1, pdk[j0*ld:], ld)
			}
			for r := 0; r < rows; r++ {
				copy(dq[qo+r*g.d:qo+r*g.d+g.dh], dqb[r*g.dh:(r+1)*g.dh])
			}
		}
		if split {
			mu.Lock()
			for j := 0; j < g.sk; j++ {
				kr, vr := dk[ko+j*g.d:ko+j*g.d+g.dh], dv[ko+j*g.d:ko+j*g.d+g.dh]
				for c := range kr {
					kr[c] += buf.dk[j*g.dh+c]
					vr[c] += buf.dv[j*g.dh+c]
				}
			}
			mu.Unlock()
		}
	})
}
