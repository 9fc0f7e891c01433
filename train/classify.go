package train

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/safeio"
	"github.com/gotransformer/transformer/sysmem"
)

// ClassifyConfig drives `transformer classify`: an encoder-only
// classifier trained on the generated long-range task.
type ClassifyConfig struct {
	Path     string           `yaml:"-"`
	Model    model.Config     `yaml:"model"`
	Data     ClassifyData     `yaml:"data"`
	Training ClassifyTraining `yaml:"training"`
}

// ClassifyData names the generated task.
type ClassifyData struct {
	LongRange data.LongRange `yaml:"longrange"`
}

// ClassifyTraining is the training section of a ClassifyConfig.
type ClassifyTraining struct {
	Steps        int     `yaml:"steps"`
	BatchSize    int     `yaml:"batch_size"`
	LearningRate float64 `yaml:"learning_rate"`
	Warmup       int     `yaml:"warmup"` // linear warmup steps, then constant
	ClipNorm     float64 `yaml:"clip_norm"`
	EvalEvery    int     `yaml:"eval_every"`
	Seed         int64   `yaml:"seed"`
	Dtype        string  `yaml:"dtype"`
	// CheckpointActivations recomputes each layer during backward.
	CheckpointActivations bool   `yaml:"checkpoint_activations"`
	OutDir                string `yaml:"out_dir"`
}

// Bounds of a classify config beside the model's (package model) and the
// task's (data.LongRange.Check); the memory estimate
// (ClassifyConfig.MemoryProblem) then decides what this machine can hold.
const (
	// MaxClassifyBatch bounds training.batch_size (sequences per step).
	MaxClassifyBatch = 1 << 16
	// MaxClassifyLearningRate bounds training.learning_rate: Adam's steps
	// are about the learning rate in size, and far larger ones only make
	// the loss overflow.
	MaxClassifyLearningRate = 10.0
	// MaxClipNorm bounds training.clip_norm.
	MaxClipNorm = 1e6
)

// LoadClassifyConfig reads a classify config; unknown keys and invalid
// values are errors naming the file and the field.
func LoadClassifyConfig(path string) (*ClassifyConfig, error) {
	raw, err := safeio.ReadFile(path, safeio.ConfigLimit, "config")
	if err != nil {
		return nil, err
	}
	if err := secondDocument(path, raw); err != nil {
		return nil, err
	}
	c := &ClassifyConfig{Model: model.DefaultConfig(),
		Training: ClassifyTraining{BatchSize: 8, LearningRate: 1e-3, ClipNorm: 1, EvalEvery: 50, Dtype: "float32", Seed: 1}}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, classifyYAMLError(path, err)
	}
	c.Path = path
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := c.MemoryProblem(sysmem.Available()); err != nil {
		return nil, err
	}
	return c, nil
}

// classifySection names, for yaml.v3's Go type names, the section of a
// classify config a key was read into.
var classifySection = map[string]string{
	"train.ClassifyConfig":   "the top level (want model, data, training)",
	"train.ClassifyData":     "data",
	"data.LongRange":         "data.longrange",
	"train.ClassifyTraining": "training",
	"model.Config":           "model",
	"model.StackConfig":      "model.encoder or model.decoder",
	"model.AttentionConfig":  "an attention section",
}

// classifyYAMLError turns the first problem of a yaml.v3 error into a
// one-line *ConfigError with the file, the line and the section, without
// Go type names.
func classifyYAMLError(path string, err error) error {
	ce := yamlProblem(path, err, 0)
	if m := reUnknown.FindStringSubmatch(ce.Msg); m != nil {
		where := classifySection[m[2]]
		if where == "" {
			where = "the config"
		}
		ce.Msg = fmt.Sprintf("unknown key %q in %s", m[1], where)
	} else if m := reType.FindStringSubmatch(ce.Msg); m != nil {
		ce.Msg = fmt.Sprintf("wrong type: %q is %s, want %s", m[2], yamlKind(m[1]), goTypeWant(m[3]))
	} else if m := reTypeNoValue.FindStringSubmatch(ce.Msg); m != nil {
		ce.Msg = fmt.Sprintf("wrong type: %s, want %s", yamlKind(m[1]), goTypeWant(m[2]))
	}
	return ce
}

var reTypeNoValue = regexp.MustCompile(`^cannot unmarshal !!(\w+) into (\S+)$`)

// yamlKind names a YAML tag ("seq") in words ("a list").
func yamlKind(tag string) string {
	switch tag {
	case "seq":
		return "a list"
	case "map":
		return "a mapping"
	case "str":
		return "a string"
	case "int":
		return "an integer"
	case "float":
		return "a number"
	case "bool":
		return "true or false"
	}
	return "a " + tag
}

// goTypeWant names the value a Go type takes, without the Go type name.
func goTypeWant(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "an integer"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case t == "time.Duration":
		return "a duration such as 90m"
	}
	return "a mapping"
}

// Validate checks every section; the error names the file and the key of
// the first problem.
func (c *ClassifyConfig) Validate() error {
	if err := c.problem(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			return err
		}
		return &ConfigError{Path: c.Path, Msg: err.Error()}
	}
	return nil
}

func (c *ClassifyConfig) fieldError(field, format string, a ...any) error {
	return &ConfigError{Path: c.Path, Field: field, Msg: fmt.Sprintf(format, a...)}
}

func (c *ClassifyConfig) problem() error {
	var key string
	var f float64
	nonFiniteFloats(reflect.ValueOf(*c), "", func(k string, v float64) {
		if key == "" {
			key, f = k, v
		}
	})
	if key != "" {
		return c.fieldError(key, "must be a finite number, got %g", f)
	}
	lr := c.Data.LongRange
	if err := lr.Check(); err != nil {
		return c.fieldError("data.longrange", "%v", err)
	}
	if lr.Fillers < 2 {
		return c.fieldError("data.longrange.fillers", "must be at least 2 (one filler token makes every sequence's middle the same), got %d", lr.Fillers)
	}
	m := c.Model
	m.SrcVocab, m.TgtVocab = lr.Vocab(), lr.Vocab()
	m.DecoderLayers = max(m.DecoderLayers, 1) // unused, as in model.NewClassifier
	if p := m.Problems(); len(p) > 0 {
		var fe *model.FieldError
		if errors.As(p[0], &fe) {
			return c.fieldError("model."+fe.Field, "%s", fe.Msg)
		}
		return c.fieldError("model", "%v", p[0])
	}
	a := m.Encoder.Attention
	seen := map[int]bool{}
	for _, g := range a.Global {
		switch {
		case g < 0 || g >= lr.Length:
			return c.fieldError("model.encoder.attention.global", "position %d is outside the %d-token sequences of data.longrange.length (want 0 … %d)", g, lr.Length, lr.Length-1)
		case seen[g]:
			return c.fieldError("model.encoder.attention.global", "position %d is given twice", g)
		}
		seen[g] = true
	}
	t := c.Training
	switch {
	case t.Steps <= 0:
		return c.fieldError("training.steps", "must be positive, got %d", t.Steps)
	case t.Steps > MaxSteps:
		return c.fieldError("training.steps", "must be at most %d, got %d", MaxSteps, t.Steps)
	case t.BatchSize <= 0:
		return c.fieldError("training.batch_size", "must be positive, got %d", t.BatchSize)
	case t.BatchSize > MaxClassifyBatch:
		return c.fieldError("training.batch_size", "must be at most %d, got %d", MaxClassifyBatch, t.BatchSize)
	case t.BatchSize > lr.Train:
		return c.fieldError("training.batch_size", "%d exceeds the %d sequences of data.longrange.train_size", t.BatchSize, lr.Train)
	case !(t.LearningRate > 0 && t.LearningRate <= MaxClassifyLearningRate):
		return c.fieldError("training.learning_rate", "must be in (0, %g], got %g", MaxClassifyLearningRate, t.LearningRate)
	case t.Warmup < 0 || t.Warmup > MaxSteps:
		return c.fieldError("training.warmup", "must be in [0, %d], got %d", MaxSteps, t.Warmup)
	case !(t.ClipNorm >= 0 && t.ClipNorm <= MaxClipNorm):
		return c.fieldError("training.clip_norm", "must be in [0, %g] (0: no clipping), got %g", MaxClipNorm, t.ClipNorm)
	case t.Dtype != "float32" && t.Dtype != "float64":
		return c.fieldError("training.dtype", "want float32 or float64, got %q", t.Dtype)
	case t.EvalEvery <= 0:
		return c.fieldError("training.eval_every", "must be positive, got %d", t.EvalEvery)
	case t.EvalEvery > MaxSteps:
		return c.fieldError("training.eval_every", "must be at most %d, got %d", MaxSteps, t.EvalEvery)
	}
	if pm := m.MaxPositions; m.EncoderPositions() == "learned" && pm < lr.Length {
		return c.fieldError("model.max_positions", "%d learned positions are fewer than data.longrange.length %d", pm, lr.Length)
	}
	if lr.Test < 1 {
		return c.fieldError("data.longrange.test_size", "must be positive: test accuracy is measured on it, got %d", lr.Test)
	}
	return nil
}

// ClassifyMemory estimates the peak memory of training the encoder
// classifier mc (vocab tokens, two classes) on batches of batch sequences
// of n tokens, with the formula of Config.EstimateMemory for the weights
// and the layers' activations, plus what a classifier adds: the
// first-position selector (batch × batch·n), the n×n masks of full
// attention for each compiled graph, and dataTokens generated token ids.
// With checkpoint, two layers' activations are held at a time (the
// recomputed one and the tail's), plus every layer's input.
func ClassifyMemory(mc model.Config, vocab, batch, n int, dtype string, checkpoint bool, dataTokens int64) MemoryEstimate {
	mc.DecoderLayers = 0
	mc.ShareEmbeddings, mc.TieOutput = false, true
	cfg := func(layers int) *Config {
		m := mc
		m.EncoderLayers = layers
		return &Config{Model: m, Training: Options{BatchTokens: batch * n, Dtype: dtype}, Data: DataConfig{MaxLen: n}}
	}
	e := cfg(mc.EncoderLayers).EstimateMemory(vocab, 0)
	b := int64(4)
	if dtype == "float64" {
		b = 8
	}
	B, N, T := int64(batch), int64(n), int64(batch)*int64(n)
	e.Params += int64(mc.DModel)*2 + 2 // the head
	if checkpoint && mc.EncoderLayers > 2 {
		// The recomputed layer and the tail (the last layer and the head)
		// hold their activations at once.
		e.Activations = cfg(2).EstimateMemory(vocab, 0).Activations + int64(mc.EncoderLayers)*T*int64(mc.DModel)*b
	}
	inputs := B * T // first-position selector
	if mc.Encoder.Attention.Spec(false).IsFull() {
		inputs += B * N * N // mask
	}
	graphs := int64(2) // training and evaluation
	if checkpoint {
		graphs = 4 // three segments and evaluation
	}
	e.Activations += graphs*inputs*b + inputs*8 // and the float64 slice each is built from
	e.Train = int64(gcHeadroom*float64(e.Static+e.Activations+dataTokens*8)) + runtimeBase
	return e
}

// MemoryProblem compares the estimated peak of training with the memory
// this process may use (avail; Bytes 0: unknown, passes) and names the key
// to change when it does not fit.
func (c *ClassifyConfig) MemoryProblem(avail sysmem.Limit) error {
	if avail.Bytes <= 0 {
		return nil
	}
	lr := c.Data.LongRange
	t := c.Training
	e := ClassifyMemory(c.Model, lr.Vocab(), t.BatchSize, lr.Length, t.Dtype, t.CheckpointActivations, int64(lr.Train+lr.Test)*int64(lr.Length))
	if e.Train <= avail.Bytes {
		return nil
	}
	key, change := "training.batch_size", "lower training.batch_size, data.longrange.length or the model's sizes, or set training.checkpoint_activations"
	if e.Static > e.Activations {
		key, change = "model.d_model", "lower model.d_model, ff_dim or encoder_layers"
	}
	return c.fieldError(key, "a training step needs about %s (%d parameters, %s of weights, gradients and Adam moments, %s of activations), more than the %s available: %s",
		safeio.Size(e.Train), e.Params, safeio.Size(e.Static), safeio.Size(e.Activations), avail, change)
}

// ClassifyResult summarises a classify run.
type ClassifyResult struct {
	Steps        int     `json:"steps"`
	TestAccuracy float64 `json:"test_accuracy"`
	FinalLoss    float64 `json:"final_loss"`
	Seconds      float64 `json:"seconds"`
}

// Classifier trains a model.Classifier with Adam, optionally with gradient
// checkpointing.
type Classifier struct {
	Model  *model.Classifier
	Config ClassifyTraining
	opt    *Adam
	rng    *graph.RNG
	graphs *graph.Cache
}

// NewClassifierTrainer builds the model of c for vocab tokens and classes
// classes.
func NewClassifierTrainer(mc model.Config, tc ClassifyTraining, vocab, classes int) (*Classifier, error) {
	mc.SrcVocab, mc.TgtVocab = vocab, vocab
	m, err := model.NewClassifier(mc, classes, dtypeOf(tc.Dtype), tc.Seed)
	if err != nil {
		return nil, err
	}
	return &Classifier{Model: m, Config: tc, opt: NewAdam(0.9, 0.98, 1e-9), rng: graph.NewRNG(tc.Seed), graphs: graph.NewCache(4)}, nil
}

// Close releases compiled graphs.
func (t *Classifier) Close() { t.graphs.Clear() }

// classifyGraph is the classifier's training graph of one batch shape.
type classifyGraph struct {
	*lossGraph
	in     *model.ClassifierInputs
	target *G.Node
}

// classifyLoss is the mean cross-entropy of logits [B, C] against the
// one-hot target input it adds (see fillClassTargets).
func classifyLoss(b *graph.Builder, logits *G.Node) (loss, target *G.Node) {
	target = b.Input("target", logits.Shape()...)
	loss = G.Must(G.Neg(G.Must(G.Sum(G.Must(G.HadamardProd(graph.LogSoftMax(logits), target))))))
	return loss, target
}

func fillClassTargets(target *G.Node, labels []int) error {
	sh := target.Shape()
	v := make([]float64, sh.TotalSize())
	for r, l := range labels {
		v[r*sh[1]+l] = 1 / float64(len(labels))
	}
	return G.Let(target, graph.FromFloat64s(target.Dtype(), v, sh...))
}

// Step trains on one batch of sequences of equal length and returns the
// loss. A batch whose loss or gradient is not finite updates nothing; its
// loss is returned for the caller to stop on.
func (t *Classifier) Step(batch []data.Labelled, step int) (float64, error) {
	loss, params, grads, err := t.gradients(batch)
	if err != nil {
		return 0, err
	}
	lr := t.Config.LearningRate
	if step < t.Config.Warmup {
		lr *= float64(step+1) / float64(t.Config.Warmup)
	}
	_, _, err = update(t.opt, params, grads, loss, t.Config.ClipNorm, lr)
	return loss, err
}

func flatten(batch []data.Labelled) (tokens, labels []int) {
	for _, ex := range batch {
		tokens = append(tokens, ex.Tokens...)
		labels = append(labels, ex.Label)
	}
	return tokens, labels
}

// gradients runs forward and backward on one batch, as Trainer.gradients.
func (t *Classifier) gradients(batch []data.Labelled) (float64, []Param, []Param, error) {
	size, n := len(batch), len(batch[0].Tokens)
	tokens, labels := flatten(batch)
	o := GraphOptions{Checkpointing: t.Config.CheckpointActivations}
	c, err := t.graphs.Get(fmt.Sprintf("train/b%d/n%d", size, n), func() (graph.Compiled, error) {
		g := &classifyGraph{}
		var err error
		g.lossGraph, err = newLossGraph(t.Model.Store, o, func(b *graph.Builder) *G.Node {
			g.in = t.Model.NewInputs(b, size, n)
			var loss *G.Node
			loss, g.target = classifyLoss(b, t.Model.Forward(b, g.in))
			return loss
		})
		if err != nil {
			return nil, err
		}
		return g, nil
	})
	if err != nil {
		return 0, nil, nil, err
	}
	g := c.(*classifyGraph)
	if err := g.in.Bind(tokens); err != nil {
		return 0, nil, nil, err
	}
	if err := fillClassTargets(g.target, labels); err != nil {
		return 0, nil, nil, err
	}
	return g.run(nil, t.rng)
}

// Accuracy classifies set in batches and returns the fraction right; it
// stops between batches when ctx ends, returning ctx.Err().
func (t *Classifier) Accuracy(ctx context.Context, set []data.Labelled) (float64, error) {
	if len(set) == 0 {
		return 0, fmt.Errorf("no sequences to measure accuracy on")
	}
	bs := t.Config.BatchSize
	right := 0
	for lo := 0; lo < len(set); lo += bs {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		part := set[lo:min(lo+bs, len(set))]
		for len(part) < bs { // pad the last batch with copies
			part = append(part[:len(part):len(part)], part[0])
		}
		pred, err := t.Predict(part)
		if err != nil {
			return 0, err
		}
		for i := 0; i < min(bs, len(set)-lo); i++ {
			if pred[i] == set[lo+i].Label {
				right++
			}
		}
	}
	return float64(right) / float64(len(set)), nil
}

// evalGraph is a forward-only graph of one batch shape.
type evalGraph struct {
	b      *graph.Builder
	in     *model.ClassifierInputs
	logits *G.Node
	vm     G.VM
}

func (g *evalGraph) Close() error { return g.vm.Close() }

// Predict returns the most likely class of each sequence (equal lengths).
func (t *Classifier) Predict(batch []data.Labelled) ([]int, error) {
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
	v := graph.Float64s(g.logits.Value().(*tensor.Dense))
	k := t.Model.Classes
	out := make([]int, len(batch))
	for r := range out {
		out[r] = argmaxRow(v[r*k : (r+1)*k])
	}
	return out, nil
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

// RunClassify trains the classifier of c on the long-range task, reporting
// progress to disp (nil: nowhere), and evaluates test accuracy every
// EvalEvery steps and at the end. It writes result.json to OutDir when set.
// When ctx ends it stops within a step and returns ctx.Err().
func RunClassify(ctx context.Context, c *ClassifyConfig, disp *progress.Display) (*ClassifyResult, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := c.MemoryProblem(sysmem.Available()); err != nil {
		return nil, err
	}
	train, test := c.Data.LongRange.Generate()
	t, err := NewClassifierTrainer(c.Model, c.Training, c.Data.LongRange.Vocab(), 2)
	if err != nil {
		return nil, fmt.Errorf("%s: model: %w", c.Path, err)
	}
	defer t.Close()
	if disp == nil {
		disp = progress.New(io.Discard, progress.Quiet)
	}
	tc := c.Training
	disp.Message("info", fmt.Sprintf("long-range task: %d train, %d test sequences of %d tokens; encoder attention %s",
		len(train), len(test), c.Data.LongRange.Length, orFull(c.Model.Encoder.Attention.Kind)))
	task := disp.Start("train", tc.Steps, "steps")
	res := &ClassifyResult{}
	start := time.Now()
	pos := 0
	for step := 0; step < tc.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if pos+tc.BatchSize > len(train) {
			pos = 0
		}
		loss, err := t.Step(train[pos:pos+tc.BatchSize], step)
		if err != nil {
			return nil, err
		}
		pos += tc.BatchSize
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return nil, &ConfigError{Path: c.Path, Field: "training.learning_rate",
				Msg: fmt.Sprintf("training diverged: the loss is %g at step %d; lower training.learning_rate (%g) or set training.clip_norm", loss, step+1, tc.LearningRate)}
		}
		res.FinalLoss, res.Steps = loss, step+1
		task.Update(step+1, progress.F("loss", fmt.Sprintf("%.4f", loss)))
		if (step+1)%tc.EvalEvery == 0 || step+1 == tc.Steps {
			acc, err := t.Accuracy(ctx, test)
			if err != nil {
				return nil, err
			}
			res.TestAccuracy = acc
			disp.Message("valid", fmt.Sprintf("step %d: loss %.4f, test accuracy %.2f%%", step+1, loss, 100*acc),
				progress.F("step", step+1), progress.F("loss", loss), progress.F("accuracy", acc))
		}
	}
	task.Finish()
	res.Seconds = time.Now().Sub(start).Seconds()
	if tc.OutDir != "" {
		if err := os.MkdirAll(tc.OutDir, 0o755); err != nil {
			return nil, err
		}
		js := fmt.Sprintf("{\"steps\": %d, \"test_accuracy\": %s, \"final_loss\": %s, \"seconds\": %s}\n",
			res.Steps, jsonNumber(res.TestAccuracy, 6), jsonNumber(res.FinalLoss, 6), jsonNumber(res.Seconds, 1))
		if err := model.WriteFileAtomic(filepath.Join(tc.OutDir, "result.json"), []byte(js)); err != nil {
			return nil, err
		}
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

func orFull(kind string) string {
	if kind == "" {
		return "full"
	}
	return kind
}
