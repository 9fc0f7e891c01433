package train

import (
	"fmt"
	"math/rand"
	"runtime"
	"sort"
	"time"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/model"
)

// LongBenchOptions shape one long-sequence measurement: training steps of
// an encoder classifier on random tokens.
type LongBenchOptions struct {
	Attention  string `json:"attention"` // full | sliding_window | linear
	Window     int    `json:"window"`
	SeqLen     int    `json:"seq_len"`
	Batch      int    `json:"batch"`
	Layers     int    `json:"layers"`
	DModel     int    `json:"d_model"`
	Heads      int    `json:"heads"`
	FFDim      int    `json:"ff_dim"`
	Checkpoint bool   `json:"checkpoint"` // gradient checkpointing
	Steps      int    `json:"steps"`      // timed steps after one warm-up step
}

// DefaultLongBenchOptions is the configuration of docs/long-sequences.md:
// a 6-layer d_model 256 encoder.
func DefaultLongBenchOptions() LongBenchOptions {
	return LongBenchOptions{Attention: "full", Window: 64, SeqLen: 1024, Batch: 1, Layers: 6, DModel: 256, Heads: 4, FFDim: 1024, Steps: 3}
}

// LongBenchResult is one measurement; PeakRSSMB covers the whole process.
type LongBenchResult struct {
	LongBenchOptions
	StepSeconds float64 `json:"step_seconds"` // median of the timed steps
	PeakRSSMB   float64 `json:"peak_rss_mb"`
}

// BenchLong builds the encoder of o and times its training steps.
func BenchLong(o LongBenchOptions) (*LongBenchResult, error) {
	if o.SeqLen < 2 || o.Batch < 1 || o.Steps < 1 {
		return nil, fmt.Errorf("bench: need --seq ≥ 2, --batch ≥ 1 and --steps ≥ 1")
	}
	mc := model.DefaultConfig()
	mc.DModel, mc.Heads, mc.FFDim, mc.EncoderLayers = o.DModel, o.Heads, o.FFDim, o.Layers
	// Dropout 0.1 on residuals and on attention weights, as in the PyTorch
	// reference (../shared/reference) and nn.TransformerEncoderLayer;
	// sliding-window and linear attention form no weights to drop.
	mc.Dropout, mc.AttentionDropout = 0.1, 0.1
	mc.Encoder.Attention = model.AttentionConfig{Kind: o.Attention}
	if o.Attention == "sliding_window" {
		mc.Encoder.Attention.Window, mc.Encoder.Attention.Global = o.Window, []int{0}
	}
	tc := ClassifyTraining{BatchSize: o.Batch, LearningRate: 1e-4, ClipNorm: 1, Seed: 1, Dtype: "float32", CheckpointActivations: o.Checkpoint}
	const vocab = 64
	t, err := NewClassifierTrainer(mc, tc, vocab, 2)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	rng := rand.New(rand.NewSource(1))
	batch := make([]data.Labelled, o.Batch)
	for i := range batch {
		toks := make([]int, o.SeqLen)
		for j := range toks {
			toks[j] = 4 + rng.Intn(vocab-4)
		}
		batch[i] = data.Labelled{Tokens: toks, Label: rng.Intn(2)}
	}
	var times []float64
	for s := 0; s <= o.Steps; s++ {
		start := time.Now()
		if _, err := t.Step(batch, s); err != nil {
			return nil, err
		}
		if s > 0 {
			times = append(times, time.Since(start).Seconds())
		}
		runtime.GC()
	}
	sort.Float64s(times)
	return &LongBenchResult{LongBenchOptions: o, StepSeconds: times[len(times)/2], PeakRSSMB: peakRSSMB()}, nil
}
