package model

import (
	"fmt"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/layers"
)

// composedTol is the largest relative difference (max|a−b| / max|b| per
// tensor) allowed between the fused and the composed model in float64.
const composedTol = 1e-10

// logitsAndGrads builds the model's training graph with composed or fused
// ops, runs it on a fixed padded batch, and returns the logits and the
// gradient of every parameter of a probe of them.
func logitsAndGrads(t *testing.T, m *Transformer, composed bool) (logits []float64, grads map[string][]float64) {
	t.Helper()
	b := graph.NewBuilder(m.Store, false)
	b.Composed = composed
	src := []int{5, 6, 7, 8, 3, 9, 10, 3, 0, 0}
	tgt := []int{1, 11, 12, 13, 1, 14, 0, 0}
	var out *G.Node
	err := graph.Build(func() {
		in := m.NewInputs(b, 2, 5, 4)
		if err := in.Bind(src, tgt); err != nil {
			panic(err)
		}
		out = m.Forward(b, in)
		if _, err := G.Grad(graph.Probe(b, out, 7), b.Params()...); err != nil {
			panic(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(b.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	logits = append(logits, graph.Float64s(out.Value().(*tensor.Dense))...)
	grads = map[string][]float64{}
	for _, p := range b.Params() {
		g, err := p.Grad()
		if err != nil {
			t.Fatal(err)
		}
		grads[p.Name()] = append([]float64(nil), graph.Float64s(g.(*tensor.Dense))...)
	}
	return logits, grads
}

// relDiff is max|a−b| / max|b|, with max|b| taken as at least 1e-6: the
// keys' bias gets a gradient that is zero analytically (a shift of every
// score of a row leaves its softmax unchanged), where both paths give
// rounding noise of about 1e-17.
func relDiff(a, b []float64) float64 { return relErrFloor(a, b, 1e-6) }

// The whole model built of fused ops equals the same model built of the
// composed references (Builder.Composed), logits and every parameter
// gradient, for every registered kind of attention and positional scheme
// and both layer-norm placements.
func TestFusedModelEqualsComposed(t *testing.T) {
	base := DefaultConfig()
	base.DModel, base.Heads, base.FFDim, base.EncoderLayers, base.DecoderLayers = 16, 2, 24, 2, 2
	base.Dropout, base.SrcVocab, base.TgtVocab, base.TieOutput = 0, 20, 20, false
	var variants []Config
	for _, kind := range layers.AttentionKindNames() {
		k, _ := layers.AttentionSpec{Kind: kind}.Attention()
		for _, spec := range k.GradChecks {
			c := base
			a := AttentionConfig{Kind: kind, Window: spec.Window, Global: spec.Global, Chunk: spec.Chunk}
			c.Encoder.Attention, c.Decoder.Attention = a, a
			variants = append(variants, c)
		}
	}
	for _, pos := range layers.PositionKindNames() {
		c := base
		c.Positions, c.MaxPositions, c.RelativeBuckets, c.RelativeMaxDistance = pos, 16, 8, 16
		variants = append(variants, c)
	}
	for _, v := range variants {
		for _, normFirst := range []bool{false, true} {
			c := v
			c.NormFirst = normFirst
			name := fmt.Sprintf("attention %s/%s (chunk %d), positions %s, norm_first %v", c.Encoder.Attention.Kind, c.Decoder.Attention.Kind, c.Encoder.Attention.Chunk, c.Positions, normFirst)
			m, err := New(c, tensor.Float64, 5)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, n := range m.Store.Names() { // no parameter at its trivial init
				graph.Randomize(m.Store.Get(n), 0.3, int64(len(n)))
			}
			fused, fusedGrads := logitsAndGrads(t, m, false)
			composed, composedGrads := logitsAndGrads(t, m, true)
			worst := relDiff(fused, composed)
			if worst > composedTol {
				t.Errorf("%s: logits differ by %.3g", name, worst)
			}
			for p, g := range composedGrads {
				d := relDiff(fusedGrads[p], g)
				worst = math.Max(worst, d)
				if d > composedTol {
					t.Errorf("%s: gradient of %s differs by %.3g", name, p, d)
				}
			}
			t.Logf("%s: %d parameters, worst relative difference %.2g", name, len(composedGrads), worst)
		}
	}
}

// The attention maps users look at (the composed graph's weights, with
// Builder.Weights) equal the probabilities the fused Attention op computes
// from the same projected queries and keys.
func TestAttentionMapsEqualFusedProbs(t *testing.T) {
	const batch, s, d, h = 2, 5, 8, 2
	store := graph.NewStore(tensor.Float64, 3)
	store.WeightInit = graph.Normal(0.5)
	b := graph.NewBuilder(store, false)
	b.Weights = true
	x := graph.RandomInput(b, "x", 1, batch*s, d)
	mask := b.Input("mask", batch, 1, s, s)
	graph.FillAttentionMask(mask.Value().(*tensor.Dense), []bool{false, false, false, false, false, false, false, false, true, true}, true)
	attn := layers.MultiHeadAttention{Name: "attn", DModel: d, Heads: h}
	_, w := attn.Self(b, x, batch, s, mask, nil)
	q := layers.Linear{Name: "attn.q_proj", In: d, Out: d}.Forward(b, x) // the same parameters
	k := layers.Linear{Name: "attn.k_proj", In: d, Out: d}.Forward(b, x)
	vm := G.NewTapeMachine(b.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	probs, err := graph.AttentionProbs(q.Value().(*tensor.Dense), k.Value().(*tensor.Dense), mask.Value().(*tensor.Dense), batch, h)
	if err != nil {
		t.Fatal(err)
	}
	if d := relDiff(graph.Float64s(w.Value().(*tensor.Dense)), graph.Float64s(probs)); d > 1e-14 {
		t.Errorf("attention maps differ from the fused op's probabilities by %.3g", d)
	}
}
