package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/half"
)

// TestArenaSameResults checks that a translator's graphs, whose ops take
// their results from its arena, compute exactly what freshly allocated
// results give. The arena is poisoned (every array it lends is NaN first),
// so an op that leaves part of its result unwritten fails the test. Shapes
// change from run to run and come back, so that arrays are lent again to
// other ops; weights are float32, int8, bfloat16, float16 and float64.
func TestArenaSameResults(t *testing.T) {
	type shape struct{ batch, srcLen, tgtLen int }
	shapes := []shape{{2, 5, 3}, {3, 7, 4}, {2, 5, 3}, {1, 9, 6}, {3, 7, 4}}
	for _, normFirst := range []bool{false, true} {
		for _, weights := range []string{"f32", "int8", "bf16", "f16", "f64"} {
			t.Run(fmt.Sprintf("norm_first=%v/%s", normFirst, weights), func(t *testing.T) {
				c := tinyConfig(normFirst)
				c.DModel, c.Heads, c.FFDim, c.EncoderLayers, c.DecoderLayers = 16, 2, 24, 2, 2
				c.SrcVocab, c.TgtVocab = 11, 13
				c.FinalNorm = normFirst
				dt := tensor.Float32
				if weights == "f64" {
					dt = tensor.Float64
				}
				m, err := New(c, dt, 3)
				if err != nil {
					t.Fatal(err)
				}
				switch weights {
				case "int8":
					_, err = m.ToInt8()
				case "bf16":
					_, err = m.ToHalf(half.BF16)
				case "f16":
					_, err = m.ToHalf(half.F16)
				}
				if err != nil {
					t.Fatal(err)
				}
				tr := NewTranslator(m, 0)
				defer tr.Close()
				tr.arena.Poison = true
				rng := rand.New(rand.NewPCG(1, 2))
				for i, s := range shapes {
					src, tgt := arenaIDs(rng, s.batch, s.srcLen, c.SrcVocab), arenaIDs(rng, s.batch, s.tgtLen, c.TgtVocab)
					got, err := tr.Logits(src, tgt, s.batch, s.srcLen, s.tgtLen)
					if err != nil {
						t.Fatal(err)
					}
					want := freshRun(t, m, func(b *graph.Builder) (*Inputs, *G.Node) {
						in := m.NewInputs(b, s.batch, s.srcLen, s.tgtLen)
						return in, m.Forward(b, in)
					}, src, tgt)
					sameBits(t, fmt.Sprintf("run %d, logits %v", i, s), got, want)
					mem, err := tr.EncodeBatch(src, s.batch, s.srcLen)
					if err != nil {
						t.Fatal(err)
					}
					wantMem := freshRun(t, m, func(b *graph.Builder) (*Inputs, *G.Node) {
						in := m.NewInputs(b, s.batch, s.srcLen, 1)
						return in, m.Encode(b, in)
					}, src, nil)
					sameBits(t, fmt.Sprintf("run %d, memory %v", i, s), mem, wantMem)
				}
				if tr.arena.Bytes() == 0 {
					t.Error("the arena lent nothing")
				}
				tr.DropArrays()
				if n := tr.arena.Bytes(); n != 0 {
					t.Errorf("DropArrays left %d bytes in the arena", n)
				}
			})
		}
	}
}

// arenaIDs returns batch rows of n token ids, the first ending early with
// padding.
func arenaIDs(rng *rand.Rand, batch, n, vocab int) []int {
	ids := make([]int, batch*n)
	for r := range batch {
		for j := range n {
			ids[r*n+j] = 4 + rng.IntN(vocab-4)
			if r == 0 && j > 0 && j >= n-2 {
				ids[r*n+j] = 0 // PadID
			}
		}
	}
	return ids
}

// freshRun builds and runs a graph of m without an arena.
func freshRun(t *testing.T, m *Transformer, build func(b *graph.Builder) (*Inputs, *G.Node), src, tgt []int) *tensor.Dense {
	t.Helper()
	f := &forward{b: graph.NewBuilder(m.Store, false)}
	if err := graph.Build(func() { f.in, f.out = build(f.b) }); err != nil {
		t.Fatal(err)
	}
	f.vm = G.NewTapeMachine(f.b.G.SubgraphRoots(f.out))
	defer f.Close()
	if err := f.in.Bind(src, tgt); err != nil {
		t.Fatal(err)
	}
	out, err := f.run()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameBits fails unless a and b hold the same values bit for bit (and no
// NaN).
func sameBits(t *testing.T, what string, a, b *tensor.Dense) {
	t.Helper()
	if !a.Shape().Eq(b.Shape()) {
		t.Fatalf("%s: shapes %v and %v", what, a.Shape(), b.Shape())
	}
	var x, y []float64
	switch d := a.Data().(type) {
	case []float32:
		for i, v := range d {
			x, y = append(x, float64(v)), append(y, float64(b.Data().([]float32)[i]))
		}
	case []float64:
		x, y = d, b.Data().([]float64)
	}
	for i := range x {
		if math.IsNaN(x[i]) || math.Float64bits(x[i]) != math.Float64bits(y[i]) {
			t.Fatalf("%s: element %d is %v with the arena, %v without", what, i, x[i], y[i])
		}
	}
}
