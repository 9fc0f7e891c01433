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

// Attention is multi-head scaled dot-product attention as one op, on the
// projected rows themselves:
//
//	ctx_h = dropout(softmax(q_h·k_hᵀ/√dh + mask))·v_h
//
// q [batch·sq, d] and k, v [batch·sk, d] hold the heads side by side
// (head h in columns h·dh … (h+1)·dh−1), so no head is split off or merged
// back by a transpose; each (sentence, head) pair is a few BLAS calls on
// strided sub-matrices. mask [batch, 1, sq, sk] is added to every head's
// scores. drop (nil: no dropout) [batch, heads, sq, sk] multiplies the
// weights (0 or 1/(1−p), from Builder.DropoutMask). The result ctx is
// [batch·sq, d].
//
// Neither pass keeps the sq×sk weights: the backward pass recomputes them
// from q and k, then
//
//	dv = Pᵀ·dctx, dP = dctx·vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)),
//	dq = dS·k/√dh, dk = dSᵀ·q/√dh
//
// with P the weights after dropout where it multiplies. The graph of
// separate ops (layers.ScaledDotProductAttention) remains for attention
// maps, which need the weights as a node.
func Attention(q, k, v, mask, drop *G.Node, batch, heads int) *G.Node {
	return attention(nil, q, k, v, mask, drop, batch, heads)
}

// attention is Attention with its result lent by a.
func attention(a *Arena, q, k, v, mask, drop *G.Node, batch, heads int) *G.Node {
	op := attentionOp{batch: batch, heads: heads, dropout: drop != nil, arena: a}
	in := []*G.Node{q, k, v, mask}
	if drop != nil {
		in = append(in, drop)
	}
	return G.Must(apply(op, in...))
}

type attentionOp struct {
	batch, heads int
	dropout      bool
	arena        *Arena // lends the result (nil: allocated)
}

func (op attentionOp) Arity() int {
	if op.dropout {
		return 5
	}
	return 4
}
func (op attentionOp) Type() hm.Type {
	rows, sq := tensorType(2), tensorType(4)
	if op.dropout {
		return hm.NewFnType(rows, rows, rows, sq, sq, rows)
	}
	return hm.NewFnType(rows, rows, rows, sq, rows)
}
func (op attentionOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	q, k, v := in[0].(tensor.Shape), in[1].(tensor.Shape), in[2].(tensor.Shape)
	if len(q) != 2 || !k.Eq(v) || q[1] != k[1] || q[1]%op.heads != 0 || q[0]%op.batch != 0 || k[0]%op.batch != 0 {
		return nil, fmt.Errorf("%v: q %v, k %v, v %v do not split into %d sentences and %d heads", op, q, k, v, op.batch, op.heads)
	}
	return q.Clone(), nil
}
func (op attentionOp) String() string {
	return fmt.Sprintf("Attention{b%d,h%d,dropout %v}", op.batch, op.heads, op.dropout)
}

func (op attentionOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	out := op.arena.dense(ts[0].Dtype(), ts[0].Shape()...)
	switch ts[0].Dtype() {
	case tensor.Float32:
		attentionForward[float32](op.geometry(ts), ts, out.Data().([]float32))
	case tensor.Float64:
		attentionForward[float64](op.geometry(ts), ts, out.Data().([]float64))
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, ts[0].Dtype())
	}
	return out, nil
}

func (op attentionOp) DiffWRT(inputs int) []bool {
	return []bool{true, true, true, false, false}[:inputs]
}

func (op attentionOp) SymDiff(inputs G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	all, err := apply(attentionGradOp(op), append(append(G.Nodes{}, inputs...), grad)...)
	if err != nil {
		return nil, err
	}
	return splitGrads(all, inputs, 3)
}

// attentionGradOp maps (q, k, v, mask, [drop,] dctx) to dq, dk and dv,
// laid out one after the other in a flat tensor.
type attentionGradOp attentionOp

func (op attentionGradOp) Arity() int { return attentionOp(op).Arity() + 1 }
func (op attentionGradOp) Type() hm.Type {
	rows, sq := tensorType(2), tensorType(4)
	if op.dropout {
		return hm.NewFnType(rows, rows, rows, sq, sq, rows, tensorType(1))
	}
	return hm.NewFnType(rows, rows, rows, sq, rows, tensorType(1))
}
func (op attentionGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{in[0].(tensor.Shape).TotalSize() + 2*in[1].(tensor.Shape).TotalSize()}, nil
}
func (op attentionGradOp) String() string { return attentionOp(op).String() + "Grad" }

func (op attentionGradOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	g := attentionOp(op).geometry(ts)
	out := tensor.New(tensor.WithShape(g.batch*(g.sq+2*g.sk)*g.d), tensor.Of(ts[0].Dtype()))
	switch ts[0].Dtype() {
	case tensor.Float32:
		attentionBackward[float32](g, ts, out.Data().([]float32))
	case tensor.Float64:
		attentionBackward[float64](g, ts, out.Data().([]float64))
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, ts[0].Dtype())
	}
	return out, nil
}

// attentionGeometry is the layout of one Attention call.
type attentionGeometry struct {
	batch, heads, sq, sk, d, dh int
	dropout                     bool
	scale                       float64
}

func (op attentionOp) geometry(ts []*tensor.Dense) attentionGeometry {
	q, k := ts[0].Shape(), ts[1].Shape()
	g := attentionGeometry{batch: op.batch, heads: op.heads, sq: q[0] / op.batch, sk: k[0] / op.batch,
		d: q[1], dh: q[1] / op.heads, dropout: op.dropout}
	g.scale = 1 / math.Sqrt(float64(g.dh))
	return g
}

// eachPair calls f for every (sentence, head) pair, spread over the CPUs,
// with per-worker scratch of n values.
func eachPair[T float32 | float64](pairs, n int, f func(p int, s1, s2 []T)) {
	workers := min(runtime.GOMAXPROCS(0), pairs)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			s1, s2 := make([]T, n), make([]T, n)
			for p := lo; p < hi; p++ {
				f(p, s1, s2)
			}
		}(w*pairs/workers, (w+1)*pairs/workers)
	}
	wg.Wait()
}

// attentionWeights computes the weights of pair (b, h) into p [sq, sk]:
// softmax over each row of q_h·k_hᵀ·scale + mask, in float64 for the sum.
func attentionWeights[T float32 | float64](g attentionGeometry, b, h int, q, k, mask, p []T) {
	qo, ko := b*g.sq*g.d+h*g.dh, b*g.sk*g.d+h*g.dh
	gemmLD(false, true, g.sq, g.sk, g.dh, T(g.scale), q[qo:], g.d, k[ko:], g.d, 0, p, g.sk)
	m := mask[b*g.sq*g.sk : (b+1)*g.sq*g.sk]
	for i := 0; i < g.sq; i++ {
		row, mr := p[i*g.sk:(i+1)*g.sk], m[i*g.sk:(i+1)*g.sk]
		best := T(math.Inf(-1))
		for j := range row {
			row[j] += mr[j]
			// Not max: see model.attend (a NaN score makes the whole row
			// NaN either way).
			if row[j] > best {
				best = row[j]
			}
		}
		sum := expShift(row, row, best)
		inv := 1 / sum
		for j := range row {
			row[j] = T(float64(row[j]) * inv)
		}
	}
}

func attentionForward[T float32 | float64](g attentionGeometry, ts []*tensor.Dense, out []T) {
	q, k, v, mask := ts[0].Data().([]T), ts[1].Data().([]T), ts[2].Data().([]T), ts[3].Data().([]T)
	var drop []T
	if g.dropout {
		drop = ts[4].Data().([]T)
	}
	n := g.sq * g.sk
	eachPair(g.batch*g.heads, n, func(pair int, p, _ []T) {
		b, h := pair/g.heads, pair%g.heads
		attentionWeights(g, b, h, q, k, mask, p)
		if drop != nil {
			for i, f := range drop[pair*n : (pair+1)*n] {
				p[i] *= f
			}
		}
		qo, ko := b*g.sq*g.d+h*g.dh, b*g.sk*g.d+h*g.dh
		gemmLD(false, false, g.sq, g.dh, g.sk, 1, p, g.sk, v[ko:], g.d, 0, out[qo:], g.d)
	})
}

func attentionBackward[T float32 | float64](g attentionGeometry, ts []*tensor.Dense, out []T) {
	q, k, v, mask := ts[0].Data().([]T), ts[1].Data().([]T), ts[2].Data().([]T), ts[3].Data().([]T)
	var drop []T
	dctx := ts[len(ts)-1].Data().([]T)
	if g.dropout {
		drop = ts[4].Data().([]T)
	}
	nq, nk := g.batch*g.sq*g.d, g.batch*g.sk*g.d
	dq, dk, dv := out[:nq], out[nq:nq+nk], out[nq+nk:]
	n := g.sq * g.sk
	eachPair(g.batch*g.heads, n, func(pair int, p, dp []T) {
		b, h := pair/g.heads, pair%g.heads
		qo, ko := b*g.sq*g.d+h*g.dh, b*g.sk*g.d+h*g.dh
		attentionWeights(g, b, h, q, k, mask, p)
		// dv = P'ᵀ·dctx with P' = P ⊙ drop the weights after dropout
		// (computed in dp, which then receives dP' = dctx·vᵀ).
		if drop != nil {
			for i, f := range drop[pair*n : (pair+1)*n] {
				dp[i] = p[i] * f
			}
			gemmLD(true, false, g.sk, g.dh, g.sq, 1, dp, g.sk, dctx[qo:], g.d, 0, dv[ko:], g.d)
		} else {
			gemmLD(true, false, g.sk, g.dh, g.sq, 1, p, g.sk, dctx[qo:], g.d, 0, dv[ko:], g.d)
		}
		gemmLD(false, true, g.sq, g.sk, g.dh, 1, dctx[qo:], g.d, v[ko:], g.d, 0, dp, g.sk)
		if drop != nil {
			for i, f := range drop[pair*n : (pair+1)*n] {
				dp[i] *= f // dP = dP' ⊙ drop
			}
		}
		for i := 0; i < g.sq; i++ {
			pr, dr := p[i*g.sk:(i+1)*g.sk], dp[i*g.sk:(i+1)*g.sk]
			var dot float64
			for j := range pr {
				dot += float64(pr[j]) * float64(dr[j])
			}
			for j := range pr {
				dr[j] = T(float64(pr[j]) * (float64(dr[j]) - dot))
			}
		}
		gemmLD(false, false, g.sq, g.dh, g.sk, T(g.scale), dp, g.sk, k[ko:], g.d, 0, dq[qo:], g.d)
		gemmLD(true, false, g.sk, g.dh, g.sq, T(g.scale), dp, g.sk, q[qo:], g.d, 0, dk[ko:], g.d)
	})
}

// AttentionProbs returns the weights [batch, heads, sq, sk] that the fused
// Attention op computes (and never keeps) for the projected rows q
// [batch·sq, d] and k [batch·sk, d] under mask [batch, 1, sq, sk], with
// the op's own routine: for tests that tie attention maps, which come from
// the composed graph, to the op that trains.
func AttentionProbs(q, k, mask *tensor.Dense, batch, heads int) (*tensor.Dense, error) {
	op := attentionOp{batch: batch, heads: heads}
	ts := []*tensor.Dense{q, k, k, mask}
	if _, err := op.InferShape(q.Shape(), k.Shape(), k.Shape(), mask.Shape()); err != nil {
		return nil, err
	}
	g := op.geometry(ts)
	out := tensor.New(tensor.WithShape(batch, heads, g.sq, g.sk), tensor.Of(q.Dtype()))
	n := g.sq * g.sk
	switch q.Dtype() {
	case tensor.Float64:
		p := out.Data().([]float64)
		for b := 0; b < batch; b++ {
			for h := 0; h < heads; h++ {
				attentionWeights(g, b, h, q.Data().([]float64), k.Data().([]float64), mask.Data().([]float64), p[(b*heads+h)*n:(b*heads+h+1)*n])
			}
		}
	case tensor.Float32:
		p := out.Data().([]float32)
		for b := 0; b < batch; b++ {
			for h := 0; h < heads; h++ {
				attentionWeights(g, b, h, q.Data().([]float32), k.Data().([]float32), mask.Data().([]float32), p[(b*heads+h)*n:(b*heads+h+1)*n])
			}
		}
	default:
		return nil, fmt.Errorf("AttentionProbs: unsupported dtype %v", q.Dtype())
	}
	return out, nil
}
