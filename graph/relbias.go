package graph

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// RelativeBucket maps the relative position rel = key − query to one of
// buckets buckets as T5 does (Raffel et al., 2020; HuggingFace's
// _relative_position_bucket): exact buckets for small distances,
// logarithmically wider ones up to maxDistance, and one bucket for all
// farther keys. Bidirectional buckets give keys before and after the query
// separate halves; otherwise keys after the query share bucket 0.
func RelativeBucket(rel int, bidirectional bool, buckets, maxDistance int) int {
	ret := 0
	n := -rel
	if bidirectional {
		buckets /= 2
		if n < 0 {
			ret += buckets
		}
		n = max(n, -n)
	} else {
		n = max(n, 0)
	}
	exact := buckets / 2
	if n < exact {
		return ret + n
	}
	// float32 arithmetic, as PyTorch computes it on a float tensor.
	large := exact + int(float32(math.Log(float64(float32(n)/float32(exact)))/math.Log(float64(maxDistance)/float64(exact)))*float32(buckets-exact))
	return ret + min(large, buckets-1)
}

// RelativeBias gathers a learned bias per head and relative-position bucket
// from table [H, buckets] into [1, H, sq, sk], to be added to attention
// scores: element (h, i, j) is table[h, RelativeBucket(j−i)]. Its gradient
// sums the incoming gradient of every (i, j) into its bucket.
func RelativeBias(table *G.Node, sq, sk int, bidirectional bool, maxDistance int) *G.Node {
	op := relBiasOp{sq: sq, sk: sk, buckets: table.Shape()[1], maxDist: maxDistance, bidirectional: bidirectional, id: new(byte)}
	return G.Must(apply(op, table))
}

type relBiasOp struct {
	sq, sk, buckets, maxDist int
	bidirectional            bool
	// id makes every call a node of its own: Gorgonia merges nodes of
	// equal hash, which would make layers that share a table share one
	// bias and sum their gradients before the scatter, in an order that
	// a checkpointed block (which holds its own bias) cannot reproduce.
	id *byte
}

// index returns the bucket of every (i, j).
func (op relBiasOp) index() []int {
	idx := make([]int, op.sq*op.sk)
	for i := 0; i < op.sq; i++ {
		for j := 0; j < op.sk; j++ {
			idx[i*op.sk+j] = RelativeBucket(j-i, op.bidirectional, op.buckets, op.maxDist)
		}
	}
	return idx
}

func (op relBiasOp) Arity() int    { return 1 }
func (op relBiasOp) Type() hm.Type { return hm.NewFnType(tensorType(2), tensorType(4)) }
func (op relBiasOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{1, in[0].(tensor.Shape)[0], op.sq, op.sk}, nil
}
func (op relBiasOp) String() string {
	return fmt.Sprintf("RelativeBias@%p{%dx%d,buckets=%d,max=%d,bi=%v}", op.id, op.sq, op.sk, op.buckets, op.maxDist, op.bidirectional)
}
func (op relBiasOp) DiffWRT(int) []bool { return []bool{true} }

func (op relBiasOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	heads := ts[0].Shape()[0]
	out := tensor.New(tensor.WithShape(1, heads, op.sq, op.sk), tensor.Of(ts[0].Dtype()))
	idx := op.index()
	switch t := ts[0].Data().(type) {
	case []float32:
		gatherBias(t, out.Data().([]float32), idx, heads, op.buckets)
	case []float64:
		gatherBias(t, out.Data().([]float64), idx, heads, op.buckets)
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, ts[0].Dtype())
	}
	return out, nil
}

func gatherBias[T float32 | float64](table, out []T, idx []int, heads, buckets int) {
	for h := 0; h < heads; h++ {
		row, o := table[h*buckets:(h+1)*buckets], out[h*len(idx):(h+1)*len(idx)]
		for p, b := range idx {
			o[p] = row[b]
		}
	}
}

func (op relBiasOp) SymDiff(inputs G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	d, err := apply(relBiasGradOp(op), inputs[0], grad)
	return G.Nodes{d}, err
}

// relBiasGradOp maps (table, dbias) to dtable by summing over buckets.
type relBiasGradOp relBiasOp

func (op relBiasGradOp) Arity() int { return 2 }
func (op relBiasGradOp) Type() hm.Type {
	return hm.NewFnType(tensorType(2), tensorType(4), tensorType(2))
}
func (op relBiasGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return firstShape(in)
}
func (op relBiasGradOp) String() string { return relBiasOp(op).String() + "Grad" }

func (op relBiasGradOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denseArgs(op, in)
	if err != nil {
		return nil, err
	}
	heads := ts[0].Shape()[0]
	out := tensor.New(tensor.WithShape(heads, op.buckets), tensor.Of(ts[0].Dtype()))
	idx := relBiasOp(op).index()
	switch d := ts[1].Data().(type) {
	case []float32:
		scatterBias(d, out.Data().([]float32), idx, heads, op.buckets)
	case []float64:
		scatterBias(d, out.Data().([]float64), idx, heads, op.buckets)
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, ts[0].Dtype())
	}
	return out, nil
}

func scatterBias[T float32 | float64](grad, out []T, idx []int, heads, buckets int) {
	for h := 0; h < heads; h++ {
		row, g := out[h*buckets:(h+1)*buckets], grad[h*len(idx):(h+1)*len(idx)]
		acc := make([]float64, buckets)
		for p, b := range idx {
			acc[b] += float64(g[p])
		}
		for b := range row {
			row[b] = T(acc[b])
		}
	}
}
