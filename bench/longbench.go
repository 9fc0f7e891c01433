package bench

import (
	"context"
	"fmt"
	"math/rand"
	"runtime"
	"sort"
	"time"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/safeio"
	"github.com/gotransformer/transformer/sysmem"
	"github.com/gotransformer/transformer/train"
)

// LongOptions shape one long-sequence measurement: training steps of
// an encoder classifier on random tokens.
type LongOptions struct {
	Attention  string `json:"attention"` // full | sliding_window | linear
	Window     int    `json:"window"`
	Chunk      int    `json:"chunk,omitempty"` // full attention in blocks of Chunk queries × keys
	SeqLen     int    `json:"seq_len"`
	Batch      int    `json:"batch"`
	Layers     int    `json:"layers"`
	DModel     int    `json:"d_model"`
	Heads      int    `json:"heads"`
	FFDim      int    `json:"ff_dim"`
	Checkpoint bool   `json:"checkpoint"` // gradient checkpointing
	// Dtype is training.dtype: float32, or bfloat16 or float16 for mixed
	// precision.
	Dtype string `json:"dtype"`
	Steps int    `json:"steps"` // timed steps after one warm-up step
}

// DefaultLongOptions is the configuration of docs/long-sequences.md:
// a 6-layer d_model 256 encoder.
func DefaultLongOptions() LongOptions {
	return LongOptions{Attention: "full", Window: 64, SeqLen: 1024, Batch: 1, Layers: 6, DModel: 256, Heads: 4, FFDim: 1024, Steps: 3, Dtype: "float32"}
}

// TrainingDtype is the training.dtype that a --dtype flag names: f32,
// bf16 and f16 (as transformer bench spells them) or the config's own
// float32, bfloat16 and float16; anything else is returned unchanged for
// Check to refuse.
func TrainingDtype(flag string) string {
	switch flag {
	case "f32", "fp32":
		return "float32"
	case "bf16":
		return "bfloat16"
	case "f16", "fp16":
		return "float16"
	}
	return flag
}

// LongResult is one measurement; PeakRSSMB covers the whole process.
type LongResult struct {
	LongOptions
	StepSeconds float64 `json:"step_seconds"` // median of the timed steps
	PeakRSSMB   float64 `json:"peak_rss_mb"`
}

// Long builds the encoder of o and times its training steps. When ctx ends
// it stops between steps and returns ctx.Err().
func Long(ctx context.Context, o LongOptions) (*LongResult, error) {
	if err := o.Check(sysmem.Available()); err != nil {
		return nil, err
	}
	mc := o.model()
	tc := rundir.ClassifyTraining{BatchSize: o.Batch, LearningRate: 1e-4, ClipNorm: 1, Seed: 1, Dtype: o.Dtype, CheckpointActivations: o.Checkpoint}
	t, err := train.NewClassifyStepTrainer(mc, tc, longBenchVocab, 2)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	rng := rand.New(rand.NewSource(1))
	batch := make(train.ClassifyBatch, o.Batch)
	for i := range batch {
		toks := make([]int, o.SeqLen)
		for j := range toks {
			toks[j] = 4 + rng.Intn(longBenchVocab-4)
		}
		batch[i] = data.Labelled{Tokens: toks, Label: rng.Intn(2)}
	}
	var times []float64
	for s := 0; s <= o.Steps; s++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		if _, err := t.TrainStep(batch); err != nil {
			return nil, err
		}
		if s > 0 {
			times = append(times, time.Since(start).Seconds())
		}
		runtime.GC()
	}
	sort.Float64s(times)
	return &LongResult{LongOptions: o, StepSeconds: times[len(times)/2], PeakRSSMB: peakRSSMB()}, nil
}

// longBenchVocab is the token count of bench-long's random sequences.
const longBenchVocab = 64

// MaxLongSteps bounds bench-long --steps.
const MaxLongSteps = 1000

// Check reports the first option out of bounds, naming its flag, and,
// when avail is known (Bytes > 0), a step whose estimated memory exceeds
// it (full attention holds batch × heads × seq² weights per layer).
func (o LongOptions) Check(avail sysmem.Limit) error {
	switch o.Dtype {
	case "float32", "bfloat16", "float16":
	default:
		return fmt.Errorf("bench: --dtype must be float32 (f32), bfloat16 (bf16) or float16 (f16), got %q", o.Dtype)
	}
	if o.SeqLen < 2 || o.Batch < 1 || o.Steps < 1 {
		return fmt.Errorf("bench: need --seq ≥ 2, --batch ≥ 1 and --steps ≥ 1")
	}
	if err := checkFlagRanges([]flagRange{
		{"--seq", o.SeqLen, 2, MaxLongBenchSeq},
		{"--batch", o.Batch, 1, MaxBenchBatch},
		{"--steps", o.Steps, 1, MaxLongSteps},
		{"--layers", o.Layers, 1, model.MaxLayers},
		{"--d-model", o.DModel, 2, model.MaxDModel},
		{"--heads", o.Heads, 1, model.MaxHeads},
		{"--ff", o.FFDim, 1, model.MaxFFDim},
	}); err != nil {
		return err
	}
	if o.Attention == "sliding_window" {
		if err := checkFlagRanges([]flagRange{{"--window", o.Window, 1, model.MaxWindow}}); err != nil {
			return err
		}
	}
	if o.Chunk != 0 {
		if o.Attention != "full" {
			return fmt.Errorf("--chunk computes full attention in blocks: it needs --attention full, not %s", o.Attention)
		}
		if err := checkFlagRanges([]flagRange{{"--chunk", o.Chunk, 1, model.MaxChunk}}); err != nil {
			return err
		}
	}
	mc := o.model()
	if mc.DModel%2 != 0 && mc.Positions == "sinusoidal" {
		return fmt.Errorf("--d-model must be even for sinusoidal positions, got %d", mc.DModel)
	}
	mc.SrcVocab, mc.TgtVocab = longBenchVocab, longBenchVocab
	if err := modelFlagProblem(mc, map[string]string{"d_model": "--d-model", "heads": "--heads", "encoder_layers": "--layers",
		"ff_dim": "--ff", "encoder.attention.window": "--window", "encoder.attention.chunk": "--chunk"}); err != nil {
		return err
	}
	if avail.Bytes <= 0 {
		return nil
	}
	e := rundir.ClassifyMemory(mc, longBenchVocab, o.Batch, o.SeqLen, "float32", o.Checkpoint, 0)
	if e.Train <= avail.Bytes {
		return nil
	}
	change := "lower --seq or --batch"
	switch {
	case e.Static > e.Activations:
		change = "lower --d-model, --ff or --layers"
	case mc.Encoder.Attention.Spec(false).IsFull() && o.Chunk == 0:
		change = "lower --seq or --batch, add --chunk 256, or use --attention sliding_window or linear (full attention holds batch × heads × seq² weights per layer)"
	case !o.Checkpoint:
		change = "lower --seq or --batch, or add --checkpoint"
	}
	return fmt.Errorf("--seq %d --batch %d: a training step needs about %s (%d parameters, %s of activations), more than the %s available: %s",
		o.SeqLen, o.Batch, safeio.Size(e.Train), e.Params, safeio.Size(e.Activations), avail, change)
}

// model is the encoder of o.
func (o LongOptions) model() model.Config {
	mc := model.DefaultConfig()
	mc.DModel, mc.Heads, mc.FFDim, mc.EncoderLayers = o.DModel, o.Heads, o.FFDim, o.Layers
	// Dropout 0.1 on residuals and on attention weights, as in the PyTorch
	// reference (../shared/reference) and nn.TransformerEncoderLayer;
	// sliding-window and linear attention form no weights to drop (chunked
	// full attention drops each weight of its blocks).
	mc.Dropout, mc.AttentionDropout = 0.1, 0.1
	mc.Encoder.Attention = model.AttentionConfig{Kind: o.Attention, Chunk: o.Chunk}
	if o.Attention == "sliding_window" {
		mc.Encoder.Attention.Window, mc.Encoder.Attention.Global = o.Window, []int{0}
	}
	return mc
}
