package rundir

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/safeio"
	"github.com/gotransformer/transformer/sysmem"
	"gopkg.in/yaml.v3"
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
	// EvalEvery is how often (in steps) training validates, saves a
	// checkpoint and keeps the best one; LogEvery how often it logs.
	EvalEvery int `yaml:"eval_every"`
	LogEvery  int `yaml:"log_every"`
	// KeepCheckpoints is how many of the newest checkpoints stay on disk
	// (the best one always stays).
	KeepCheckpoints int    `yaml:"keep_checkpoints"`
	Seed            int64  `yaml:"seed"`
	Dtype           string `yaml:"dtype"`
	// CheckpointActivations recomputes each layer during backward.
	CheckpointActivations bool `yaml:"checkpoint_activations"`
	// OutDir is the run directory (config, checkpoints, train.log,
	// metrics.jsonl, result.json).
	OutDir string `yaml:"out_dir"`
	// Overwrite lets a new run replace a run already in OutDir
	// (transformer classify --overwrite); it is never read from a file.
	Overwrite bool `yaml:"-"`
}

// ResultFile is the summary a classify run writes into its directory.
const ResultFile = "result.json"

// Options are the training options of the one trainer that c's training
// section stands for: Adam (β 0.9, 0.98, ε 1e-9), a constant rate after a
// linear warm-up, validation every eval_every steps keeping the best
// checkpoint by accuracy, and every other option off.
func (c *ClassifyConfig) Options() Options {
	t := c.Training
	return Options{Seed: t.Seed, Dtype: t.Dtype, LossScale: DefaultLossScale, Steps: t.Steps, Accumulate: 1, LearningRate: t.LearningRate, Schedule: "constant",
		Warmup: t.Warmup, Beta1: 0.9, Beta2: 0.98, Eps: 1e-9, ClipNorm: t.ClipNorm, ValidEvery: t.EvalEvery,
		BestMetric: "accuracy", LogEvery: t.LogEvery, OutDir: t.OutDir, KeepCheckpoints: t.KeepCheckpoints, KeepBest: 1,
		OnNonFinite: "stop", CheckpointActivations: t.CheckpointActivations, Overwrite: t.Overwrite}
}

// Marshal returns c as YAML, as a run directory's config.yaml holds it.
func (c *ClassifyConfig) Marshal() ([]byte, error) { return yaml.Marshal(c) }

// LoadClassifyRun reads the config of the classify run in dir.
func LoadClassifyRun(dir string) (*ClassifyConfig, error) {
	return LoadClassifyConfig(filepath.Join(dir, ConfigFile))
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
	c := &ClassifyConfig{Model: model.DefaultConfig(), Data: ClassifyData{LongRange: data.LongRange{Valid: 200}},
		Training: ClassifyTraining{BatchSize: 8, LearningRate: 1e-3, ClipNorm: 1, EvalEvery: 50, LogEvery: 50, KeepCheckpoints: 2,
			Dtype: "float32", Seed: 1}}
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
	"rundir.ClassifyConfig":   "the top level (want model, data, training)",
	"rundir.ClassifyData":     "data",
	"data.LongRange":          "data.longrange",
	"rundir.ClassifyTraining": "training",
	"model.Config":            "model",
	"model.StackConfig":       "model.encoder or model.decoder",
	"model.AttentionConfig":   "an attention section",
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
	case t.Dtype != "float32" && t.Dtype != "float64" && t.Dtype != "bfloat16" && t.Dtype != "float16":
		return c.fieldError("training.dtype", "want float32, float64, bfloat16 or float16, got %q", t.Dtype)
	case t.EvalEvery <= 0:
		return c.fieldError("training.eval_every", "must be positive, got %d", t.EvalEvery)
	case t.EvalEvery > MaxSteps:
		return c.fieldError("training.eval_every", "must be at most %d, got %d", MaxSteps, t.EvalEvery)
	case t.LogEvery <= 0 || t.LogEvery > MaxSteps:
		return c.fieldError("training.log_every", "must be in [1, %d], got %d", MaxSteps, t.LogEvery)
	case t.KeepCheckpoints < 1 || t.KeepCheckpoints > MaxKeep:
		return c.fieldError("training.keep_checkpoints", "must be in [1, %d], got %d", MaxKeep, t.KeepCheckpoints)
	case t.OutDir == "":
		return c.fieldError("training.out_dir", "must name a directory")
	}
	if pm := m.MaxPositions; m.EncoderPositions() == "learned" && pm < lr.Length {
		return c.fieldError("model.max_positions", "%d learned positions are fewer than data.longrange.length %d", pm, lr.Length)
	}
	if lr.Test < 1 {
		return c.fieldError("data.longrange.test_size", "must be positive: test accuracy is measured on it, got %d", lr.Test)
	}
	return nil
}

// classifyRuntimeBase is runtimeBase for the classifier, which has no
// corpus or tokenizers and two to four graphs (a 6-layer d_model 256 encoder
// at n = 256 peaks at 139 MB in all with checkpointing).
const classifyRuntimeBase = 64 << 20

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
	if a := mc.Encoder.Attention; a.Spec(false).IsFull() && a.Chunk == 0 {
		inputs += B * N * N // the n×n mask (chunked attention reads the padding alone)
	}
	graphs := int64(2) // training and evaluation
	if checkpoint {
		graphs = 4 // three segments and evaluation
	}
	e.Activations += graphs*inputs*b + inputs*8 // and the float64 slice each is built from
	e.Train = int64(gcHeadroom*float64(e.Static+e.Activations+dataTokens*8)) + classifyRuntimeBase
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
	e := ClassifyMemory(c.Model, lr.Vocab(), t.BatchSize, lr.Length, t.Dtype, t.CheckpointActivations, int64(lr.Train+lr.Valid+lr.Test)*int64(lr.Length))
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
