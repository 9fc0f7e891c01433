package graph

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LinearEps keeps the denominator of linear attention away from zero (a
// query whose keys are all padding).
const LinearEps = 1e-6

// EluPlusOne is the feature map φ(x) = elu(x) + 1 of linear attention
// (Katharopoulos et al., 2020): x + 1 for x > 0 and exp(x) otherwise, so
// φ(x) > 0 everywhere.
func EluPlusOne(x *G.Node) *G.Node { return G.Must(apply(eluOneOp{}, x)) }

type eluOneOp struct{}

func (eluOneOp) Arity() int    { return 1 }
func (eluOneOp) Type() hm.Type { return sameType(1) }
func (eluOneOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return firstShape(in)
}
func (eluOneOp) String() string     { return "EluPlusOne" }
func (eluOneOp) DiffWRT(int) []bool { return []bool{true} }

func (op eluOneOp) Do(in ...G.Value) (G.Value, error) {
	return mapDense(op, in, func(x, _ float64) float64 {
		if x > 0 {
			return x + 1
		}
		return math.Exp(x)
	})
}

func (eluOneOp) SymDiff(inputs G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(eluOneGradOp{}, inputs[0], grad)
	return G.Nodes{dx}, err
}

// eluOneGradOp maps (x, dy) to dy·φ'(x): dy for x > 0, dy·exp(x) otherwise.
type eluOneGradOp struct{}

func (eluOneGradOp) Arity() int    { return 2 }
func (eluOneGradOp) Type() hm.Type { return sameType(2) }
func (eluOneGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return firstShape(in)
}
func (eluOneGradOp) String() string { return "EluPlusOneGrad" }

func (op eluOneGradOp) Do(in ...G.Value) (G.Value, error) {
	return mapDense(op, in, func(x, dy float64) float64 {
		if x > 0 {
			return dy
		}
		return dy * math.Exp(x)
	})
}

// LinearAttention is kernelised attention with features fq = φ(q) and
// fk = φ(k), both [B, H, n, d], and values v [B, H, n, e]:
//
//	ctx_i = (fq_i · Σ_j fk_j v_jᵀ) / (fq_i · Σ_j fk_j + LinearEps)
//
// over keys j that are not padding (pad [B, n] < 0 marks padding), and
// j ≤ i when causal, where the sums are running sums. It costs O(n·d·e)
// time and O(d·e) memory beyond its inputs and output, never an n×n matrix.
func LinearAttention(fq, fk, v, pad *G.Node, causal bool) *G.Node {
	return G.Must(apply(linearOp{causal: causal}, fq, fk, v, pad))
}

type linearOp struct {
	causal bool
}

func (op linearOp) Arity() int { return 4 }
func (op linearOp) Type() hm.Type {
	a, pad := tensorType(4), tensorType(2)
	return hm.NewFnType(a, a, a, pad, a)
}
func (op linearOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	q, v := in[0].(tensor.Shape), in[2].(tensor.Shape)
	return tensor.Shape{q[0], q[1], q[2], v[3]}, nil
}
func (op linearOp) String() string     { return fmt.Sprintf("LinearAttention{causal=%v}", op.causal) }
func (op linearOp) DiffWRT(int) []bool { return []bool{true, true, true, false} }

// linearDims are the sizes of linear attention's operands.
type linearDims struct{ b, h, n, d, e int }

func linearShape(ts []*tensor.Dense) (linearDims, error) {
	q, k, v := ts[0].Shape(), ts[1].Shape(), ts[2].Shape()
	if len(q) != 4 || !q.Eq(k) || len(v) != 4 || v[0] != q[0] || v[1] != q[1] || v[2] != q[2] {
		return linearDims{}, fmt.Errorf("linear attention: shapes %v, %v, %v do not match", q, k, v)
	}
	return linearDims{b: q[0], h: q[1], n: q[2], d: q[3], e: v[3]}, nil
}

func (op linearOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	s, err := linearShape(ts)
	if err != nil {
		return nil, err
	}
	out := tensor.New(tensor.WithShape(s.b, s.h, s.n, s.e), tensor.Of(ts[0].Dtype()))
	switch q := ts[0].Data().(type) {
	case []float32:
		linearForward(op.causal, s, q, ts[1].Data().([]float32), ts[2].Data().([]float32), ts[3].Data().([]float32), out.Data().([]float32))
	case []float64:
		linearForward(op.causal, s, q, ts[1].Data().([]float64), ts[2].Data().([]float64), ts[3].Data().([]float64), out.Data().([]float64))
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, ts[0].Dtype())
	}
	return out, nil
}

func (op linearOp) SymDiff(inputs G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	all, err := apply(linearGradOp(op), inputs[0], inputs[1], inputs[2], inputs[3], grad)
	if err != nil {
		return nil, err
	}
	return splitGrads(all, inputs, 3)
}

// linearForward computes every (batch, head) pair in parallel. S and z are
// the sums Σ fk_j v_jᵀ [d, e] and Σ fk_j [d]: of all keys, or of keys up to
// the current query when causal.
func linearForward[T float32 | float64](causal bool, s linearDims, q, k, v, pad, out []T) {
	parallelRows(s.b*s.h, func(lo, hi int) {
		S := make([]float64, s.d*s.e)
		z := make([]float64, s.d)
		num := make([]float64, s.e)
		for bh := lo; bh < hi; bh++ {
			qo, vo := bh*s.n*s.d, bh*s.n*s.e
			padRow := pad[(bh/s.h)*s.n : (bh/s.h+1)*s.n]
			clear(S)
			clear(z)
			if !causal {
				for j := 0; j < s.n; j++ {
					linearAccumulate(S, z, k[qo+j*s.d:qo+(j+1)*s.d], v[vo+j*s.e:vo+(j+1)*s.e], padRow[j] < 0)
				}
			}
			for i := 0; i < s.n; i++ {
				if causal {
					linearAccumulate(S, z, k[qo+i*s.d:qo+(i+1)*s.d], v[vo+i*s.e:vo+(i+1)*s.e], padRow[i] < 0)
				}
				den := linearQuery(num, S, z, q[qo+i*s.d:qo+(i+1)*s.d], s.e)
				oi := out[vo+i*s.e : vo+(i+1)*s.e]
				for c := range oi {
					oi[c] = T(num[c] / den)
				}
			}
		}
	})
}

// linearAccumulate adds key kj with value vj to S and z unless it is padding.
func linearAccumulate[T float32 | float64](S, z []float64, kj, vj []T, padded bool) {
	if padded {
		return
	}
	e := len(vj)
	for a, x := range kj {
		z[a] += float64(x)
		row := S[a*e : (a+1)*e]
		for c, y := range vj {
			row[c] += float64(x) * float64(y)
		}
	}
}

// linearQuery writes num = qi·S and returns the denominator qi·z + ε.
func linearQuery[T float32 | float64](num, S, z []float64, qi []T, e int) float64 {
	clear(num)
	den := LinearEps
	for a, x := range qi {
		xf := float64(x)
		den += xf * z[a]
		row := S[a*e : (a+1)*e]
		for c := range num {
			num[c] += xf * row[c]
		}
	}
	return den
}

// linearGradOp maps (fq, fk, v, pad, dctx) to dfq, dfk and dv, laid out
// one after the other in a flat tensor (dfq and dfk are [B,H,n,d], dv is
// [B,H,n,e]).
type linearGradOp linearOp

func (op linearGradOp) Arity() int { return 5 }
func (op linearGradOp) Type() hm.Type {
	a, pad := tensorType(4), tensorType(2)
	return hm.NewFnType(a, a, a, pad, a, tensorType(1))
}
func (op linearGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	q, v := in[0].(tensor.Shape), in[2].(tensor.Shape)
	return tensor.Shape{2*q.TotalSize() + v.TotalSize()}, nil
}
func (op linearGradOp) String() string { return linearOp(op).String() + "Grad" }

func (op linearGradOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	s, err := linearShape(ts)
	if err != nil {
		return nil, err
	}
	qs, vs := s.b*s.h*s.n*s.d, s.b*s.h*s.n*s.e
	out := tensor.New(tensor.WithShape(2*qs+vs), tensor.Of(ts[0].Dtype()))
	switch q := ts[0].Data().(type) {
	case []float32:
		g := out.Data().([]float32)
		linearBackward(op.causal, s, q, ts[1].Data().([]float32), ts[2].Data().([]float32), ts[3].Data().([]float32), ts[4].Data().([]float32), g[:qs], g[qs:2*qs], g[2*qs:])
	case []float64:
		g := out.Data().([]float64)
		linearBackward(op.causal, s, q, ts[1].Data().([]float64), ts[2].Data().([]float64), ts[3].Data().([]float64), ts[4].Data().([]float64), g[:qs], g[qs:2*qs], g[2*qs:])
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, ts[0].Dtype())
	}
	return out, nil
}

// linearBackward differentiates ctx_i = num_i/den_i with num_i = fq_i·S_i and
// den_i = fq_i·z_i + ε. With dnum_i = dctx_i/den_i and
// dden_i = −dctx_i·num_i/den_i²:
//
//	dfq_i = S_i·dnum_i + dden_i·z_i
//	dfk_j = G_j·v_j + Σ_{i sees j} dden_i·fq_i,  dv_j = G_jᵀ·fk_j
//
// where G_j = Σ_{i sees j} fq_i dnum_iᵀ is a reverse running sum when
// causal and one sum otherwise. Padding keys get zero gradients.
func linearBackward[T float32 | float64](causal bool, s linearDims, q, k, v, pad, dctx, dq, dk, dv []T) {
	parallelRows(s.b*s.h, func(lo, hi int) {
		S := make([]float64, s.d*s.e)
		z := make([]float64, s.d)
		num := make([]float64, s.e)
		dnum := make([]float64, s.n*s.e)
		dden := make([]float64, s.n)
		Gs := make([]float64, s.d*s.e)
		gz := make([]float64, s.d)
		for bh := lo; bh < hi; bh++ {
			qo, vo := bh*s.n*s.d, bh*s.n*s.e
			padRow := pad[(bh/s.h)*s.n : (bh/s.h+1)*s.n]
			key := func(j int) []T { return k[qo+j*s.d : qo+(j+1)*s.d] }
			val := func(j int) []T { return v[vo+j*s.e : vo+(j+1)*s.e] }
			clear(S)
			clear(z)
			if !causal {
				for j := 0; j < s.n; j++ {
					linearAccumulate(S, z, key(j), val(j), padRow[j] < 0)
				}
			}
			// Forward sweep: dnum, dden and dfq.
			for i := 0; i < s.n; i++ {
				if causal {
					linearAccumulate(S, z, key(i), val(i), padRow[i] < 0)
				}
				qi := q[qo+i*s.d : qo+(i+1)*s.d]
				den := linearQuery(num, S, z, qi, s.e)
				gi := dctx[vo+i*s.e : vo+(i+1)*s.e]
				dn := dnum[i*s.e : (i+1)*s.e]
				var dot float64
				for c, g := range gi {
					dn[c] = float64(g) / den
					dot += float64(g) * num[c]
				}
				dden[i] = -dot / (den * den)
				dqi := dq[qo+i*s.d : qo+(i+1)*s.d]
				for a := range dqi {
					row := S[a*s.e : (a+1)*s.e]
					acc := dden[i] * z[a]
					for c, x := range dn {
						acc += row[c] * x
					}
					dqi[a] = T(acc)
				}
			}
			// Backward sweep: dfk and dv.
			clear(Gs)
			clear(gz)
			if !causal {
				for i := 0; i < s.n; i++ {
					linearGather(Gs, gz, q[qo+i*s.d:qo+(i+1)*s.d], dnum[i*s.e:(i+1)*s.e], dden[i])
				}
			}
			for j := s.n - 1; j >= 0; j-- {
				if causal {
					linearGather(Gs, gz, q[qo+j*s.d:qo+(j+1)*s.d], dnum[j*s.e:(j+1)*s.e], dden[j])
				}
				if padRow[j] < 0 {
					continue
				}
				kj, vj := key(j), val(j)
				dkj := dk[qo+j*s.d : qo+(j+1)*s.d]
				dvj := dv[vo+j*s.e : vo+(j+1)*s.e]
				for a := range dkj {
					row := Gs[a*s.e : (a+1)*s.e]
					acc := gz[a]
					for c, y := range vj {
						acc += row[c] * float64(y)
					}
					dkj[a] = T(acc)
				}
				for c := range dvj {
					var acc float64
					for a, x := range kj {
						acc += Gs[a*s.e+c] * float64(x)
					}
					dvj[c] = T(acc)
				}
			}
		}
	})
}

// linearGather adds query qi's contribution to G (fq_i dnum_iᵀ) and to gz
// (dden_i·fq_i).
func linearGather[T float32 | float64](Gs, gz []float64, qi []T, dn []float64, dd float64) {
	e := len(dn)
	for a, x := range qi {
		xf := float64(x)
		gz[a] += dd * xf
		row := Gs[a*e : (a+1)*e]
		for c, y := range dn {
			row[c] += xf * y
		}
	}
}
