package train

import (
	"context"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/model"
)

// plainGradients is one whole-model graph's backprop: the reference for
// checkpointing.
func plainGradients(t *testing.T, m *model.Transformer, batch *data.Batch, rng *graph.RNG) (float64, map[string][]float64) {
	t.Helper()
	b := graph.NewBuilder(m.Store, true)
	in := m.NewInputs(b, batch.Size, batch.SrcLen, batch.TgtLen)
	loss, target := LabelSmoothedCE(b, m.Forward(b, in))
	if _, err := G.Grad(loss, b.Params()...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(b.G)
	defer vm.Close()
	if err := in.Bind(batch.Src, batch.DecoderInput()); err != nil {
		t.Fatal(err)
	}
	FillTargets(target.Value().(*tensor.Dense), batch.DecoderOutput(), 0.1)
	graph.FillDropout(b.DropoutMasks(), rng)
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	grads := map[string][]float64{}
	for _, p := range b.Params() {
		g, err := p.Grad()
		if err != nil {
			t.Fatal(err)
		}
		grads[p.Name()] = append([]float64(nil), g.Data().([]float64)...)
	}
	return scalar(loss), grads
}

// TestCheckpointedGradientsEqualBackprop: with dropout on, the
// checkpointed step's loss and every gradient (encoder, decoder,
// embeddings) equal plain backpropagation's to 1e-12 relative error.
func TestCheckpointedGradientsEqualBackprop(t *testing.T) {
	batch := &data.Batch{Size: 2, SrcLen: 6, TgtLen: 5,
		Src: []int{5, 6, 7, 8, 9, data.EosID, 10, 11, data.EosID, 0, 0, 0},
		Tgt: []int{data.BosID, 5, 6, 7, 8, data.EosID, data.BosID, 9, data.EosID, 0, 0, 0}}
	for name, set := range map[string]func(c *model.Config){
		"post-LN, tied":      func(c *model.Config) {},
		"pre-LN, final norm": func(c *model.Config) { c.NormFirst, c.TieOutput = true, false },
		"no final norm":      func(c *model.Config) { c.FinalNorm = false },
		"sliding window": func(c *model.Config) {
			c.Encoder.Attention = model.AttentionConfig{Kind: "sliding_window", Window: 1, Global: []int{0}}
		},
		"linear, relative pos": func(c *model.Config) { c.Decoder.Attention.Kind, c.Encoder.Positions = "linear", "relative" },
	} {
		c := model.DefaultConfig()
		c.DModel, c.Heads, c.FFDim, c.EncoderLayers, c.DecoderLayers = 8, 2, 16, 3, 2
		c.Dropout, c.AttentionDropout = 0.2, 0.1
		c.SrcVocab, c.TgtVocab = 14, 14
		set(&c)
		m, err := model.New(c, tensor.Float64, 5)
		if err != nil {
			t.Fatal(err)
		}
		wantLoss, want := plainGradients(t, m, batch, graph.NewRNG(9))
		ck, err := newCheckpointed(m, batch.Size, batch.SrcLen, batch.TgtLen, false)
		if err != nil {
			t.Fatal(err)
		}
		loss, got, _, err := ck.step(m, batch, 0.1, graph.NewRNG(9), &graph.Scratch{})
		ck.Close()
		if err != nil {
			t.Fatal(err)
		}
		if rel := math.Abs(loss-wantLoss) / math.Abs(wantLoss); rel > 1e-12 {
			t.Errorf("%s: loss %v, backprop %v", name, loss, wantLoss)
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d gradients, backprop has %d", name, len(got), len(want))
		}
		// A gradient that is zero in exact arithmetic (the key projection's
		// bias: softmax ignores a shift shared by all keys) is round-off
		// noise; it is judged against the largest gradient of all.
		global := 0.0
		for _, w := range want {
			global = math.Max(global, maxAbs(w))
		}
		worst := 0.0
		for p, w := range want {
			g, ok := got[p]
			if !ok {
				t.Errorf("%s: no gradient for %s", name, p)
				continue
			}
			scale := math.Max(maxAbs(w), 1e-3*global)
			worst = math.Max(worst, maxDiff(g.Data().([]float64), w)/scale)
		}
		if worst > 1e-12 {
			t.Errorf("%s: gradients differ from backprop by relative error %.3g", name, worst)
		}
		t.Logf("%s: %d gradients, worst relative error %.3g", name, len(want), worst)
	}
}

func maxDiff(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

func maxAbs(a []float64) float64 {
	m := 0.0
	for _, x := range a {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

// Training with checkpoint_activations follows the same trajectory as
// without: after 12 float64 steps with dropout, every weight agrees.
func TestTrainingWithCheckpointing(t *testing.T) {
	run := func(ckpt bool) *Trainer {
		c := resumeConfig(t.TempDir(), 12)
		c.Training.Dtype = "float64"
		c.Training.CheckpointActivations = ckpt
		c.Model.EncoderLayers, c.Model.DecoderLayers = 2, 2
		return trainFor(t, c, false, context.Background())
	}
	plain, ck := run(false), run(true)
	worst := 0.0
	for _, name := range plain.Model.Store.Names() {
		a, b := graph.Float64s(ck.Model.Store.Get(name)), graph.Float64s(plain.Model.Store.Get(name))
		worst = math.Max(worst, maxDiff(a, b))
	}
	if worst > 1e-9 {
		t.Errorf("weights differ by %g after 12 steps", worst)
	}
	if ck.state.Step != 12 {
		t.Errorf("checkpointed run made %d steps", ck.state.Step)
	}
}
