package graph

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Band describes which keys each query of a sliding-window attention sees
// (Longformer, Beltagy et al. 2020): query i attends to keys i−Window …
// i+Window, and to every global position; a global position attends to every
// key. Causal hides keys after the query. Global positions at or beyond the
// sequence length are ignored.
type Band struct {
	Window int
	Global []int
	Causal bool
}

// Keys appends to dst the keys query i of a sequence of length n attends to,
// in increasing order.
func (bd Band) Keys(dst []int, i, n int) []int {
	hiAll := n - 1
	if bd.Causal {
		hiAll = i
	}
	if bd.isGlobal(i) {
		for j := 0; j <= hiAll; j++ {
			dst = append(dst, j)
		}
		return dst
	}
	lo, hi := max(0, i-bd.Window), min(hiAll, i+bd.Window)
	for _, g := range bd.Global {
		if g < lo {
			dst = append(dst, g)
		}
	}
	for j := lo; j <= hi; j++ {
		dst = append(dst, j)
	}
	for _, g := range bd.Global {
		if g > hi && g <= hiAll {
			dst = append(dst, g)
		}
	}
	return dst
}

func (bd Band) isGlobal(i int) bool {
	for _, g := range bd.Global {
		if g == i {
			return true
		}
	}
	return false
}

// Mask returns the additive [n, n] mask of the band: 0 where query i may
// attend to key j, MaskValue elsewhere. Full attention under this mask is
// what BandAttention computes without building it.
func (bd Band) Mask(n int) []float64 {
	m := make([]float64, n*n)
	for i := range m {
		m[i] = MaskValue
	}
	var keys []int
	for i := 0; i < n; i++ {
		keys = bd.Keys(keys[:0], i, n)
		for _, j := range keys {
			m[i*n+j] = 0
		}
	}
	return m
}

func (bd Band) normalized() Band {
	g := append([]int(nil), bd.Global...)
	sort.Ints(g)
	out := g[:0]
	for i, v := range g {
		if v >= 0 && (i == 0 || v != g[i-1]) {
			out = append(out, v)
		}
	}
	return Band{Window: bd.Window, Global: out, Causal: bd.Causal}
}

// BandAttention is scaled dot-product attention restricted to band:
//
//	ctx_i = Σ_{j∈keys(i)} softmax_j(q_i·k_j/√d + pad_j) · v_j
//
// for q, k, v [B, H, n, d] and the additive key padding pad [B, n] (0 or
// MaskValue). It runs in O(n·(2w+1+g)·d) time and O(n·d) memory: the
// weights are never stored; the backward pass recomputes them, as
// FlashAttention does. A query whose keys are all padding gets uniform
// weights over its band.
func BandAttention(q, k, v, pad *G.Node, band Band) *G.Node {
	return G.Must(apply(bandOp{band: band.normalized()}, q, k, v, pad))
}

type bandOp struct {
	band Band
}

func (op bandOp) Arity() int { return 4 }
func (op bandOp) Type() hm.Type {
	a, pad := tensorType(4), tensorType(2)
	return hm.NewFnType(a, a, a, pad, a)
}
func (op bandOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return firstShape(in)
}
func (op bandOp) String() string {
	return fmt.Sprintf("BandAttention{w=%d,global=%v,causal=%v}", op.band.Window, op.band.Global, op.band.Causal)
}
func (op bandOp) DiffWRT(int) []bool { return []bool{true, true, true, false} }

func (op bandOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	out := tensor.New(tensor.WithShape(ts[0].Shape().Clone()...), tensor.Of(ts[0].Dtype()))
	sh := ts[0].Shape()
	dims := attnDims{b: sh[0], h: sh[1], n: sh[2], d: sh[3]}
	switch q := ts[0].Data().(type) {
	case []float32:
		bandForward(op.band, dims, q, ts[1].Data().([]float32), ts[2].Data().([]float32), ts[3].Data().([]float32), out.Data().([]float32))
	case []float64:
		bandForward(op.band, dims, q, ts[1].Data().([]float64), ts[2].Data().([]float64), ts[3].Data().([]float64), out.Data().([]float64))
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, ts[0].Dtype())
	}
	return out, nil
}

func (op bandOp) SymDiff(inputs G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	all, err := apply(bandGradOp(op), inputs[0], inputs[1], inputs[2], inputs[3], grad)
	if err != nil {
		return nil, err
	}
	return splitGrads(all, inputs, 3)
}

// bandGradOp maps (q, k, v, pad, dctx) to dq, dk and dv, laid out one
// after the other in a flat tensor.
type bandGradOp bandOp

func (op bandGradOp) Arity() int { return 5 }
func (op bandGradOp) Type() hm.Type {
	a, pad := tensorType(4), tensorType(2)
	return hm.NewFnType(a, a, a, pad, a, tensorType(1))
}
func (op bandGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{3 * in[0].(tensor.Shape).TotalSize()}, nil
}
func (op bandGradOp) String() string { return bandOp(op).String() + "Grad" }

func (op bandGradOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	sh := ts[0].Shape()
	dims := attnDims{b: sh[0], h: sh[1], n: sh[2], d: sh[3]}
	out := tensor.New(tensor.WithShape(3*sh.TotalSize()), tensor.Of(ts[0].Dtype()))
	switch q := ts[0].Data().(type) {
	case []float32:
		bandBackward(op.band, dims, q, ts[1].Data().([]float32), ts[2].Data().([]float32), ts[3].Data().([]float32), ts[4].Data().([]float32), out.Data().([]float32))
	case []float64:
		bandBackward(op.band, dims, q, ts[1].Data().([]float64), ts[2].Data().([]float64), ts[3].Data().([]float64), ts[4].Data().([]float64), out.Data().([]float64))
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, ts[0].Dtype())
	}
	return out, nil
}

// attnDims are the sizes of a [b, h, n, d] attention operand.
type attnDims struct{ b, h, n, d int }

// bandForward computes the context of every (batch, head) pair: in
// parallel over the pairs when there are enough of them, otherwise over
// the queries of each pair.
func bandForward[T float32 | float64](band Band, s attnDims, q, k, v, pad, out []T) {
	scale := 1 / math.Sqrt(float64(s.d))
	forPairs(s, func(bh, lo, hi int) {
		off, padRow := bh*s.n*s.d, pad[(bh/s.h)*s.n:(bh/s.h+1)*s.n]
		var keys []int
		p := make([]float64, s.n)
		acc := make([]float64, s.d)
		for i := lo; i < hi; i++ {
			keys = band.Keys(keys[:0], i, s.n)
			qi := q[off+i*s.d : off+(i+1)*s.d]
			bandWeights(p, keys, qi, k[off:], padRow, s.d, scale)
			clear(acc)
			for t, j := range keys {
				vj := v[off+j*s.d : off+(j+1)*s.d]
				for c, x := range vj {
					acc[c] += p[t] * float64(x)
				}
			}
			oi := out[off+i*s.d : off+(i+1)*s.d]
			for c := range oi {
				oi[c] = T(acc[c])
			}
		}
	})
}

// forPairs calls f(bh, lo, hi) for query ranges [lo, hi) covering every
// (batch, head) pair bh. With at least two pairs per CPU it runs pairs in
// parallel, each whole; otherwise (a batch of one, say) it runs the pairs
// one after the other and splits each one's queries across the CPUs.
func forPairs(s attnDims, f func(bh, lo, hi int)) {
	pairs, workers := s.b*s.h, runtime.GOMAXPROCS(0)
	if pairs >= 2*workers || s.n < 256 || workers < 2 {
		parallelRows(pairs, func(lo, hi int) {
			for bh := lo; bh < hi; bh++ {
				f(bh, 0, s.n)
			}
		})
		return
	}
	for bh := 0; bh < pairs; bh++ {
		var wg sync.WaitGroup
		chunk := (s.n + workers - 1) / workers
		for lo := 0; lo < s.n; lo += chunk {
			wg.Add(1)
			go func(lo, hi int) {
				defer wg.Done()
				f(bh, lo, hi)
			}(lo, min(lo+chunk, s.n))
		}
		wg.Wait()
	}
}

// bandWeights writes the softmax weights of query qi over keys into p.
func bandWeights[T float32 | float64](p []float64, keys []int, qi, k, padRow []T, d int, scale float64) {
	m := math.Inf(-1)
	for t, j := range keys {
		kj := k[j*d : (j+1)*d]
		var dot float64
		for c, x := range qi {
			dot += float64(x) * float64(kj[c])
		}
		p[t] = dot*scale + float64(padRow[j])
		m = math.Max(m, p[t])
	}
	var sum float64
	for t := range keys {
		p[t] = math.Exp(p[t] - m)
		sum += p[t]
	}
	for t := range keys {
		p[t] /= sum
	}
}

// bandBackward recomputes the weights and accumulates dq, dk and dv into
// grads (dq, dk, dv one after the other):
//
//	dv_j += p_ij·dctx_i;  ds_ij = p_ij·(dctx_i·v_j − Σ_t p_it·dctx_i·v_t)
//	dq_i += scale·Σ_j ds_ij·k_j;  dk_j += scale·ds_ij·q_i
//
// When the queries of one pair are split across CPUs, each part adds its
// dk and dv into buffers of its own, summed at the end.
func bandBackward[T float32 | float64](band Band, s attnDims, q, k, v, pad, dctx, grads []T) {
	size := s.b * s.h * s.n * s.d
	dq, dk, dv := grads[:size], grads[size:2*size], grads[2*size:]
	scale := 1 / math.Sqrt(float64(s.d))
	var mu sync.Mutex
	forPairs(s, func(bh, lo, hi int) {
		off, padRow := bh*s.n*s.d, pad[(bh/s.h)*s.n:(bh/s.h+1)*s.n]
		dkB, dvB := dk[off:off+s.n*s.d], dv[off:off+s.n*s.d]
		split := lo > 0 || hi < s.n
		if split {
			dkB, dvB = make([]T, s.n*s.d), make([]T, s.n*s.d)
		}
		var keys []int
		p := make([]float64, s.n)
		dp := make([]float64, s.n)
		acc := make([]float64, s.d)
		for i := lo; i < hi; i++ {
			keys = band.Keys(keys[:0], i, s.n)
			qi := q[off+i*s.d : off+(i+1)*s.d]
			gi := dctx[off+i*s.d : off+(i+1)*s.d]
			bandWeights(p, keys, qi, k[off:], padRow, s.d, scale)
			var c float64
			for t, j := range keys {
				vj := v[off+j*s.d : off+(j+1)*s.d]
				dvj := dvB[j*s.d : (j+1)*s.d]
				var dot float64
				for x, g := range gi {
					dot += float64(g) * float64(vj[x])
					dvj[x] += T(p[t] * float64(g))
				}
				dp[t] = dot
				c += p[t] * dot
			}
			clear(acc)
			for t, j := range keys {
				ds := p[t] * (dp[t] - c) * scale
				kj := k[off+j*s.d : off+(j+1)*s.d]
				dkj := dkB[j*s.d : (j+1)*s.d]
				for x := range acc {
					acc[x] += ds * float64(kj[x])
					dkj[x] += T(ds * float64(qi[x]))
				}
			}
			dqi := dq[off+i*s.d : off+(i+1)*s.d]
			for x := range dqi {
				dqi[x] = T(acc[x])
			}
		}
		if split {
			mu.Lock()
			for x := range dkB {
				dk[off+x] += dkB[x]
				dv[off+x] += dvB[x]
			}
			mu.Unlock()
		}
	})
}

// denseArgs checks that every argument is a dense tensor and returns them
// with contiguous data (transposed views are materialised).
func denseArgs(op fmt.Stringer, in []G.Value) ([]*tensor.Dense, error) {
	out := make([]*tensor.Dense, len(in))
	for i, v := range in {
		t, ok := v.(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("%v: argument %d: want a dense tensor, got %T", op, i, v)
		}
		if t.IsMaterializable() {
			t = t.Materialize().(*tensor.Dense)
		}
		out[i] = t
	}
	return out, nil
}

// splitGrads splits a flat tensor holding the gradients of the first k
// inputs, one after the other, into one node per input shaped like it; the
// remaining inputs get nil.
func splitGrads(all *G.Node, inputs G.Nodes, k int) (G.Nodes, error) {
	out := make(G.Nodes, len(inputs))
	off := 0
	for i := 0; i < k; i++ {
		sh := inputs[i].Shape().Clone()
		n, err := apply(partOp{off: off, shape: sh}, all)
		if err != nil {
			return nil, err
		}
		out[i] = n
		off += sh.TotalSize()
	}
	return out, nil
}

// partOp returns the elements off … off+|shape| of a flat tensor as a tensor
// of the given shape that shares the flat tensor's memory.
type partOp struct {
	off   int
	shape tensor.Shape
}

func (op partOp) Arity() int { return 1 }
func (op partOp) Type() hm.Type {
	return hm.NewFnType(tensorType(1), tensorType(len(op.shape)))
}

// tensorType is the Gorgonia type of a float tensor with dims dimensions.
func tensorType(dims int) hm.Type                                   { return G.TensorType{Dims: dims, Of: hm.TypeVariable('a')} }
func (op partOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op partOp) String() string                                    { return fmt.Sprintf("Part{%d,%v}", op.off, op.shape) }

func (op partOp) Do(in ...G.Value) (G.Value, error) {
	t, ok := in[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%v: want a dense tensor, got %T", op, in[0])
	}
	size := op.shape.TotalSize()
	var backing any
	switch d := t.Data().(type) {
	case []float32:
		backing = d[op.off : op.off+size]
	case []float64:
		backing = d[op.off : op.off+size]
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, t.Dtype())
	}
	return tensor.New(tensor.WithShape(op.shape.Clone()...), tensor.WithBacking(backing)), nil
}
