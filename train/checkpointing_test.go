package train

import (
	"context"
	"math"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/rundir"
)

// translatorGradients runs one training step's forward and backward on a
// freshly built graph (with or without checkpointing) and returns copies
// of its loss and gradients.
func translatorGradients(t *testing.T, m *model.Transformer, batch *data.Batch, ckpt bool, dtype string) (float64, []Param) {
	t.Helper()
	c := rundir.DefaultConfig()
	c.Model = m.Config
	c.Training.CheckpointActivations, c.Training.LabelSmoothing, c.Training.Dtype = ckpt, 0.1, dtype
	tr := NewStepTrainer(&c, m)
	tr.dropoutRNG = graph.NewRNG(9)
	defer tr.Close()
	loss, _, grads, err := tr.gradients(batch, batch.Targets())
	if err != nil {
		t.Fatal(err)
	}
	return loss, cloneParams(grads)
}

func cloneParams(ps []Param) []Param {
	out := make([]Param, len(ps))
	for i, p := range ps {
		out[i] = Param{p.Name, p.Tensor.Clone().(*tensor.Dense)}
	}
	return out
}

// sameGradients reports whether the checkpointed step's loss and
// gradients are bitwise those of plain backpropagation, and logs how many
// elements differ and by how much if not.
func sameGradients(t *testing.T, name string, wantLoss, loss float64, want, got []Param) {
	t.Helper()
	if loss != wantLoss {
		t.Errorf("%s: loss %v, backprop %v", name, loss, wantLoss)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d gradients, backprop has %d", name, len(got), len(want))
	}
	differ, elements := 0, 0
	worst := 0.0
	for i, w := range want {
		g := got[i]
		if g.Name != w.Name {
			t.Fatalf("%s: gradient %d is %s, backprop's is %s", name, i, g.Name, w.Name)
		}
		a, b := graph.Float64s(g.Tensor), graph.Float64s(w.Tensor)
		elements += len(b)
		for j := range b {
			if math.Float64bits(a[j]) != math.Float64bits(b[j]) {
				differ++
				worst = math.Max(worst, math.Abs(a[j]-b[j])/math.Max(maxAbs(b), 1e-300))
			}
		}
	}
	if differ > 0 {
		t.Errorf("%s: %d of %d gradient elements differ from backprop (worst relative to their tensor's largest %.3g)", name, differ, elements, worst)
	}
	t.Logf("%s: %d gradients, %d elements, bitwise equal to backprop: %v", name, len(want), elements, differ == 0)
}

// checkpointBatch is two short sentence pairs with padding.
var checkpointBatch = &data.Batch{Size: 2, SrcLen: 6, TgtLen: 5,
	Src: []int{5, 6, 7, 8, 9, data.EosID, 10, 11, data.EosID, 0, 0, 0},
	Tgt: []int{data.BosID, 5, 6, 7, 8, data.EosID, data.BosID, 9, data.EosID, 0, 0, 0}}

// checkpointVariants are translator configurations covering every kind of
// attention and position.
var checkpointVariants = map[string]func(c *model.Config){
	"post-LN, tied":      func(c *model.Config) {},
	"pre-LN, final norm": func(c *model.Config) { c.NormFirst, c.TieOutput = true, false },
	"no final norm":      func(c *model.Config) { c.FinalNorm = false },
	"sliding window": func(c *model.Config) {
		c.Encoder.Attention = model.AttentionConfig{Kind: "sliding_window", Window: 1, Global: []int{0}}
	},
	"linear, relative pos": func(c *model.Config) { c.Decoder.Attention.Kind, c.Encoder.Positions = "linear", "relative" },
	"rope":                 func(c *model.Config) { c.Positions = "rope" },
	"chunked full": func(c *model.Config) {
		c.Encoder.Attention, c.Decoder.Attention = model.AttentionConfig{Chunk: 2}, model.AttentionConfig{Chunk: 4}
	},
}

// checkpointModel is a small translator with dropout, of the given
// encoder depth and dtype, configured further by set.
func checkpointModel(t *testing.T, set func(c *model.Config), encoderLayers int, dt tensor.Dtype) *model.Transformer {
	t.Helper()
	c := model.DefaultConfig()
	c.DModel, c.Heads, c.FFDim, c.EncoderLayers, c.DecoderLayers = 8, 2, 16, encoderLayers, 2
	c.Dropout, c.AttentionDropout = 0.2, 0.1
	c.SrcVocab, c.TgtVocab = 14, 14
	set(&c)
	m, err := model.New(c, dt, 5)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCheckpointedGradientsEqualBackprop: with dropout on, the step that
// graph.Builder.Checkpoint derives from the model's one definition (each
// layer and the output head with the loss recomputed during backward) has
// the loss and every gradient of plain backpropagation, bit for bit, for
// the translator and the classifier.
func TestCheckpointedGradientsEqualBackprop(t *testing.T) {
	batch := checkpointBatch
	for name, set := range checkpointVariants {
		m := checkpointModel(t, set, 3, tensor.Float64)
		wantLoss, want := translatorGradients(t, m, batch, false, "float64")
		loss, got := translatorGradients(t, m, batch, true, "float64")
		sameGradients(t, "translator, "+name, wantLoss, loss, want, got)
	}

	g := data.LongRange{Length: 12, Fillers: 5, Train: 3, Seed: 2}
	examples, _ := g.Generate()
	for _, kind := range []string{"full", "sliding_window", "linear", "full, chunk 5"} {
		mc := classifyModel(kind)
		if kind == "full, chunk 5" {
			mc = classifyModel("full")
			mc.Encoder.Attention.Chunk = 5
			mc.AttentionDropout = 0.1
		}
		step := func(ckpt bool) (float64, []Param) {
			tc := rundir.ClassifyTraining{BatchSize: 3, LearningRate: 1e-3, Dtype: "float64", Seed: 4, CheckpointActivations: ckpt}
			tr, err := NewClassifyStepTrainer(mc, tc, g.Vocab(), 2)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			tr.dropoutRNG = graph.NewRNG(11)
			loss, _, grads, err := tr.gradients(ClassifyBatch(examples), len(examples))
			if err != nil {
				t.Fatal(err)
			}
			return loss, cloneParams(grads)
		}
		wantLoss, want := step(false)
		loss, got := step(true)
		sameGradients(t, "classifier, "+kind, wantLoss, loss, want, got)
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

// In mixed precision, bfloat16 and float16, the checkpointed step
// recomputes each block with the same rounded products: its loss and
// gradients equal plain backpropagation's bit for bit, for every kind of
// attention and position, and differ from float32's.
func TestMixedPrecisionCheckpointing(t *testing.T) {
	for _, dtype := range []string{"bfloat16", "float16"} {
		for name, set := range checkpointVariants {
			m := checkpointModel(t, set, 2, tensor.Float32)
			wantLoss, want := translatorGradients(t, m, checkpointBatch, false, dtype)
			loss, got := translatorGradients(t, m, checkpointBatch, true, dtype)
			sameGradients(t, dtype+", "+name, wantLoss, loss, want, got)
			if f32Loss, _ := translatorGradients(t, m, checkpointBatch, false, "float32"); f32Loss == loss {
				t.Errorf("%s, %s: loss %v equals float32's: the products were not rounded", dtype, name, loss)
			}
		}
	}
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
	for _, name := range plain.Translation().Model.Store.Names() {
		a, b := graph.Float64s(ck.Translation().Model.Store.Get(name)), graph.Float64s(plain.Translation().Model.Store.Get(name))
		worst = math.Max(worst, maxDiff(a, b))
	}
	if worst > 1e-9 {
		t.Errorf("weights differ by %g after 12 steps", worst)
	}
	if ck.state.Step != 12 {
		t.Errorf("checkpointed run made %d steps", ck.state.Step)
	}
}
