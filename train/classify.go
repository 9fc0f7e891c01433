package train

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/sysmem"
)

// Classification is the sequence-classification task: an encoder-only
// classifier (model.Classifier) trained with cross-entropy on the
// generated long-range task, validated and tested by accuracy.
type Classification struct {
	Config             *rundir.ClassifyConfig
	Model              *model.Classifier
	Train, Valid, Test []data.Labelled

	graphs *graph.Cache // forward-only graphs of evaluation
}

// ClassifyBatch is a batch of the classification task: sequences of one
// length.
type ClassifyBatch []data.Labelled

// Shape implements Batch.
func (b ClassifyBatch) Shape() string { return fmt.Sprintf("b%d/n%d", len(b), len(b[0].Tokens)) }

// Targets implements Batch: the loss averages over sequences.
func (b ClassifyBatch) Targets() int { return len(b) }

// NewClassifyTrainer prepares a new classification run of c in
// c.Training.OutDir (the run directory as for translation, without
// tokenizers). When ctx ends while it prepares, it returns ctx.Err().
func NewClassifyTrainer(ctx context.Context, c *rundir.ClassifyConfig, disp *progress.Display) (*Trainer, error) {
	return startClassification(ctx, c, disp, false)
}

// ResumeClassifyTrainer continues the classification run in
// c.Training.OutDir from its latest checkpoint, exactly.
func ResumeClassifyTrainer(ctx context.Context, c *rundir.ClassifyConfig, disp *progress.Display) (*Trainer, error) {
	return startClassification(ctx, c, disp, true)
}

func startClassification(ctx context.Context, c *rundir.ClassifyConfig, disp *progress.Display, resume bool) (*Trainer, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := c.MemoryProblem(sysmem.Available()); err != nil {
		return nil, err
	}
	prepare := func(ctx context.Context, l *Logger, _ string, _, _ bool) (Task, error) {
		t, err := newClassification(c)
		if err != nil {
			return nil, err
		}
		lr := c.Data.LongRange
		l.Printf("long-range task: %d train, %d valid, %d test sequences of %d tokens; encoder attention %s",
			len(t.Train), len(t.Valid), len(t.Test), lr.Length, c.Model.Encoder.Attention)
		l.Printf("model: %d parameters, d_model %d, %d heads, %d layers", t.Model.Store.NumElements(),
			c.Model.DModel, c.Model.Heads, c.Model.EncoderLayers)
		return t, nil
	}
	return start(ctx, c.Options(), disp, resume, nil, prepare, c.Marshal)
}

func newClassification(c *rundir.ClassifyConfig) (*Classification, error) {
	lr := c.Data.LongRange
	mc := c.Model
	mc.SrcVocab, mc.TgtVocab = lr.Vocab(), lr.Vocab()
	m, err := model.NewClassifier(mc, 2, rundir.DtypeOf(c.Training.Dtype), c.Training.Seed)
	if err != nil {
		return nil, fmt.Errorf("%s: model: %w", c.Path, err)
	}
	t := &Classification{Config: c, Model: m, graphs: graph.NewCache(4)}
	t.Train, t.Test = lr.Generate()
	t.Valid = lr.Validation()
	return t, nil
}

// NewClassifyStepTrainer is a Trainer of an encoder classifier (mc, vocab
// tokens, classes classes) with no data or run directory, for TrainStep
// on batches made elsewhere (benchmarks).
func NewClassifyStepTrainer(mc model.Config, tc rundir.ClassifyTraining, vocab, classes int) (*Trainer, error) {
	mc.SrcVocab, mc.TgtVocab = vocab, vocab
	m, err := model.NewClassifier(mc, classes, rundir.DtypeOf(tc.Dtype), tc.Seed)
	if err != nil {
		return nil, err
	}
	c := &rundir.ClassifyConfig{Model: mc, Training: tc}
	t := &Trainer{Options: c.Options(), Log: NewLogger(nil, nil), Task: &Classification{Config: c, Model: m, graphs: graph.NewCache(1)}}
	if err := t.initStep(4); err != nil {
		return nil, err
	}
	return t, nil
}

// Store implements Task.
func (t *Classification) Store() *graph.Store { return t.Model.Store }

// ModelConfig implements Task.
func (t *Classification) ModelConfig() model.Config { return t.Config.Model }

// Tokenizers implements Task: the task's token ids are generated.
func (t *Classification) Tokenizers() []string { return nil }

// Epoch implements Task: consecutive batches of training.batch_size
// sequences in the generated order (the generator already shuffles).
func (t *Classification) Epoch(int) ([]Batch, error) {
	bs := t.Config.Training.BatchSize
	var out []Batch
	for lo := 0; lo+bs <= len(t.Train); lo += bs {
		out = append(out, ClassifyBatch(t.Train[lo:lo+bs]))
	}
	return out, nil
}

// Objective implements Task: the mean cross-entropy of the classifier's
// logits against the labels.
func (t *Classification) Objective(b *graph.Builder, batch Batch) (*G.Node, func(Batch, int) error) {
	shape := batch.(ClassifyBatch)
	in := t.Model.NewInputs(b, len(shape), len(shape[0].Tokens))
	loss, target := classifyLoss(b, t.Model.Forward(b, in))
	bind := func(bb Batch, norm int) error {
		tokens, labels := flatten(bb.(ClassifyBatch))
		if err := in.Bind(tokens); err != nil {
			return err
		}
		return fillClassTargets(target, labels, norm)
	}
	return loss, bind
}

// classifyLoss is the mean cross-entropy of logits [B, C] against the
// one-hot target input it adds (see fillClassTargets).
func classifyLoss(b *graph.Builder, logits *G.Node) (loss, target *G.Node) {
	target = b.Input("target", logits.Shape()...)
	loss = G.Must(G.Neg(G.Must(G.Sum(G.Must(G.HadamardProd(graph.LogSoftMax(logits), target))))))
	return loss, target
}

// fillClassTargets sets the one-hot targets of labels, divided by norm
// (the sequences of the whole update).
func fillClassTargets(target *G.Node, labels []int, norm int) error {
	sh := target.Shape()
	v := make([]float64, sh.TotalSize())
	for r, l := range labels {
		v[r*sh[1]+l] = 1 / float64(max(norm, 1))
	}
	return G.Let(target, graph.FromFloat64s(target.Dtype(), v, sh...))
}

func flatten(batch []data.Labelled) (tokens, labels []int) {
	for _, ex := range batch {
		tokens = append(tokens, ex.Tokens...)
		labels = append(labels, ex.Label)
	}
	return tokens, labels
}

func (t *Classification) split(name string) []data.Labelled {
	if name == "test" {
		return t.Test
	}
	return t.Valid
}

// Len implements Task.
func (t *Classification) Len(split string) int { return len(t.split(split)) }

// Evaluate implements Task: accuracy and mean cross-entropy on the
// validation or test sequences (nil figures for an empty split).
func (t *Classification) Evaluate(ctx context.Context, split string, _ int) (map[string]float64, error) {
	set := t.split(split)
	if len(set) == 0 {
		return nil, nil
	}
	bs := t.Config.Training.BatchSize
	right, nll := 0, 0.0
	for lo := 0; lo < len(set); lo += bs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		part := set[lo:min(lo+bs, len(set))]
		for len(part) < bs { // pad the last batch with copies
			part = append(part[:len(part):len(part)], part[0])
		}
		logits, err := t.Logits(part)
		if err != nil {
			return nil, err
		}
		k := t.Model.Classes
		for i := 0; i < min(bs, len(set)-lo); i++ {
			row := logits[i*k : (i+1)*k]
			if argmaxRow(row) == set[lo+i].Label {
				right++
			}
			nll += logSumExp(row) - row[set[lo+i].Label]
		}
	}
	n := float64(len(set))
	return map[string]float64{"accuracy": float64(right) / n, "loss": nll / n, "sequences": n}, nil
}

// Describe implements Task.
func (t *Classification) Describe(m map[string]float64) string {
	return fmt.Sprintf("loss %.4f | accuracy %.2f%% (%d sequences)", m["loss"], 100*m["accuracy"], int(m["sequences"]))
}

// Unit implements Task: throughput is in sequences.
func (t *Classification) Unit() string { return "seq" }

// Close implements Task.
func (t *Classification) Close() { t.graphs.Clear() }

// evalGraph is a forward-only graph of one batch shape.
type evalGraph struct {
	b      *graph.Builder
	in     *model.ClassifierInputs
	logits *G.Node
	vm     G.VM
}

func (g *evalGraph) Close() error { return g.vm.Close() }

// Logits returns the classifier's logits [len(batch), classes], row-major,
// for sequences of equal length.
func (t *Classification) Logits(batch []data.Labelled) ([]float64, error) {
	n := len(batch[0].Tokens)
	c, err := t.graphs.Get(fmt.Sprintf("eval/b%d/n%d", len(batch), n), func() (graph.Compiled, error) {
		g := &evalGraph{b: graph.NewBuilder(t.Model.Store, false)}
		if err := graph.Build(func() {
			g.in = t.Model.NewInputs(g.b, len(batch), n)
			g.logits = t.Model.Forward(g.b, g.in)
		}); err != nil {
			return nil, err
		}
		g.vm = G.NewTapeMachine(g.b.G.SubgraphRoots(g.logits))
		return g, nil
	})
	if err != nil {
		return nil, err
	}
	g := c.(*evalGraph)
	tokens, _ := flatten(batch)
	if err := g.in.Bind(tokens); err != nil {
		return nil, err
	}
	g.vm.Reset()
	if err := g.vm.RunAll(); err != nil {
		return nil, err
	}
	defer graph.Release(g.b.G, g.vm)
	return graph.Float64s(g.logits.Value().(*tensor.Dense)), nil
}

func argmaxRow(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func logSumExp(v []float64) float64 {
	m := v[argmaxRow(v)]
	s := 0.0
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

// ClassifyResult summarises a classify run.
type ClassifyResult struct {
	Steps        int     `json:"steps"`
	TestAccuracy float64 `json:"test_accuracy"`
	FinalLoss    float64 `json:"final_loss"`
	Seconds      float64 `json:"seconds"`
	// Interrupted is set when ctx ended the run; it can be resumed.
	Interrupted bool `json:"-"`
}

// RunClassify trains the classifier of c on the long-range task (or, with
// resume, continues the run in its out_dir), then measures the best
// checkpoint's test accuracy and writes result.json into the run
// directory. When ctx ends it saves a checkpoint and returns with
// Interrupted set.
func RunClassify(ctx context.Context, c *rundir.ClassifyConfig, disp *progress.Display, resume bool) (*ClassifyResult, error) {
	start := NewClassifyTrainer
	if resume {
		start = ResumeClassifyTrainer
	}
	t, err := start(ctx, c, disp)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	began := time.Now()
	r, err := t.Run(ctx)
	if err != nil {
		return nil, err
	}
	res := &ClassifyResult{Steps: r.Steps, TestAccuracy: r.Test["accuracy"], FinalLoss: r.Loss,
		Seconds: time.Since(began).Seconds(), Interrupted: r.Interrupted}
	if r.Interrupted {
		return res, nil
	}
	js := fmt.Sprintf("{\"steps\": %d, \"test_accuracy\": %s, \"final_loss\": %s, \"seconds\": %s}\n",
		res.Steps, jsonNumber(res.TestAccuracy, 6), jsonNumber(res.FinalLoss, 6), jsonNumber(res.Seconds, 1))
	if err := model.WriteFileAtomic(filepath.Join(t.Dir, rundir.ResultFile), []byte(js)); err != nil {
		return nil, err
	}
	return res, nil
}

// jsonNumber formats f with prec decimals, or null when it is not finite
// (JSON has no NaN or infinity).
func jsonNumber(f float64, prec int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "null"
	}
	return strconv.FormatFloat(f, 'f', prec, 64)
}
