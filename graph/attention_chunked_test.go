package graph

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// chunkCase is one set of operands for ChunkedAttention and, for the same
// function, the inputs of Attention: the n×n mask from the same padding
// and causality, and the dropout mask the seed stands for.
type chunkCase struct {
	batch, heads, n, d int
	padded             []int // per sentence: trailing padding positions
	chunk              Chunk
}

var chunkSeed = [2]float64{12345, 678}

func (c chunkCase) String() string {
	return fmt.Sprintf("n %d, pad %v, chunk %d, causal %v, dropout %g", c.n, c.padded, c.chunk.Size, c.chunk.Causal, c.chunk.Dropout)
}

func (c chunkCase) keyPad() []bool { return trailingPad(c.n, c.padded) }

func (c chunkCase) rows(b *Builder) (q, k, v *G.Node) {
	return RandomInput(b, "q", 1, c.batch*c.n, c.d), RandomInput(b, "k", 2, c.batch*c.n, c.d), RandomInput(b, "v", 3, c.batch*c.n, c.d)
}

// chunked builds ChunkedAttention of the case.
func (c chunkCase) chunked(b *Builder) (*G.Node, G.Nodes) {
	q, k, v := c.rows(b)
	pad := b.Input("pad", c.batch, c.n)
	G.Let(pad, KeyPadding(b.Dtype(), c.batch, c.n, c.keyPad()))
	var seed *G.Node
	if c.chunk.Dropout > 0 {
		seed = b.Input("seed", 2)
		G.Let(seed, FromFloat64s(b.Dtype(), chunkSeed[:], 2))
	}
	return ChunkedAttention(q, k, v, pad, seed, c.batch, c.heads, c.chunk), G.Nodes{q, k, v}
}

// full builds the same attention as the fused Attention op (or, composed,
// as the graph of Gorgonia ops) over the n×n mask.
func (c chunkCase) full(composed bool) fusedBuild {
	return func(b *Builder) (*G.Node, G.Nodes) {
		q, k, v := c.rows(b)
		mask := b.Input("mask", c.batch, 1, c.n, c.n)
		G.Let(mask, AttentionMask(b.Dtype(), c.batch, c.n, c.n, c.keyPad(), c.chunk.Causal))
		var drop *G.Node
		if c.chunk.Dropout > 0 {
			drop = b.Input("drop", c.batch, c.heads, c.n, c.n)
			G.Let(drop, ChunkDropoutMask(b.Dtype(), chunkSeed, c.chunk.Dropout, c.batch, c.heads, c.n, c.n))
		}
		if !composed {
			return Attention(q, k, v, mask, drop, c.batch, c.heads), G.Nodes{q, k, v}
		}
		return c.composed(b, q, k, v, mask, drop), G.Nodes{q, k, v}
	}
}

// composed is attention as Gorgonia ops: heads split off, scaled scores,
// the mask added, SoftMax, dropout, the heads merged.
func (c chunkCase) composed(b *Builder, q, k, v, mask, drop *G.Node) *G.Node {
	dh := c.d / c.heads
	split := func(x *G.Node) *G.Node {
		return G.Must(G.Transpose(G.Must(G.Reshape(x, tensor.Shape{c.batch, c.n, c.heads, dh})), 0, 2, 1, 3))
	}
	qh := G.Must(G.Mul(split(q), b.Const(1/math.Sqrt(float64(dh)))))
	scores := G.Must(G.BroadcastAdd(G.Must(G.BatchedMatMul(qh, split(k), false, true)), mask, nil, []byte{1}))
	w := SoftMax(scores)
	if drop != nil {
		w = G.Must(G.HadamardProd(w, drop))
	}
	ctx := G.Must(G.Transpose(G.Must(G.BatchedMatMul(w, split(v))), 0, 2, 1, 3))
	return G.Must(G.Reshape(ctx, tensor.Shape{c.batch * c.n, c.d}))
}

func chunkCases() []chunkCase {
	var cases []chunkCase
	for _, size := range []int{1, 3, 4, 11, 16} {
		for _, causal := range []bool{false, true} {
			for _, p := range []float64{0, 0.3} {
				cases = append(cases, chunkCase{batch: 2, heads: 2, n: 11, d: 4, padded: []int{0, 3},
					chunk: Chunk{Size: size, Causal: causal, Dropout: p}})
			}
		}
	}
	return cases
}

// Chunked attention is full attention: values and the gradients of q, k
// and v equal those of the fused Attention op and of the composed graph,
// within 1e-10 in float64 (1e-5 in float32), for chunks smaller than,
// dividing, equal to and larger than the sequence, with padding, causal
// masks and dropout.
func TestChunkedAttentionEqualsFull(t *testing.T) {
	for _, c := range chunkCases() {
		for _, composed := range []bool{false, true} {
			compareFused(t, fmt.Sprintf("%v against composed=%v", c, composed), tensor.Float64, 1e-10, c.chunked, c.full(composed))
		}
		compareFused(t, c.String(), tensor.Float32, 1e-5, c.chunked, c.full(false))
	}
}

// Finite differences, to 1e-6 as for the band op: a key's gradient has
// parts that vanish in exact arithmetic (softmax ignores a shift shared by
// all keys), where the difference quotient is all rounding; the exact
// comparison with full attention is TestChunkedAttentionEqualsFull.
func TestChunkedAttentionGradCheck(t *testing.T) {
	for _, c := range chunkCases() {
		if c.chunk.Size != 4 {
			continue
		}
		c.n = 7
		b := NewBuilder(NewStore(tensor.Float64, 1), false)
		out, wrt := c.chunked(b)
		checkGradsTol(t, c.String(), b, out, wrt, 1e-6)
	}
}

// With one (batch, head) pair and a long sequence the queries are split
// across CPUs, each part summing dk and dv in buffers of its own.
func TestChunkedAttentionSplitQueries(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	for _, causal := range []bool{false, true} {
		c := chunkCase{batch: 1, heads: 1, n: 300, d: 4, padded: []int{5}, chunk: Chunk{Size: 64, Causal: causal, Dropout: 0.1}}
		compareFused(t, c.String(), tensor.Float64, 1e-10, c.chunked, c.full(false))
	}
}

// A seed input takes one number of the generator per element, as a mask
// would, and holds values exact in float32.
func TestDropoutSeed(t *testing.T) {
	b := NewBuilder(NewStore(tensor.Float32, 1), true)
	if b.DropoutSeed(0) != nil {
		t.Fatal("a seed for p = 0")
	}
	s := b.DropoutSeed(0.1)
	rng := NewRNG(7)
	FillDropout(b.DropoutMasks(), rng)
	want := NewRNG(7)
	want.Skip(2)
	if rng.State != want.State {
		t.Errorf("seed took %d numbers, want 2", (rng.State-NewRNG(7).State)/gamma)
	}
	d := s.Value().Data().([]float32)
	if d[0] == d[1] || d[0] >= 1<<24 || d[1] >= 1<<24 || d[0] != float32(int(d[0])) {
		t.Errorf("seed %v", d)
	}
	// Masks of different seeds differ; the drop rate is about p.
	m1 := ChunkDropoutMask(tensor.Float64, [2]float64{1, 2}, 0.25, 1, 2, 64, 64).Data().([]float64)
	m2 := ChunkDropoutMask(tensor.Float64, [2]float64{1, 3}, 0.25, 1, 2, 64, 64).Data().([]float64)
	same, zeros := 0, 0
	for i := range m1 {
		if m1[i] == m2[i] {
			same++
		}
		if m1[i] == 0 {
			zeros++
		}
	}
	if rate := float64(zeros) / float64(len(m1)); rate < 0.23 || rate > 0.27 {
		t.Errorf("drop rate %.3f, want 0.25", rate)
	}
	if float64(same)/float64(len(m1)) > 0.7 { // 0.25² + 0.75² = 0.625 for independent masks
		t.Errorf("masks of two seeds agree on %d of %d weights", same, len(m1))
	}
}
