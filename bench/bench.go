package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"time"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/half"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/safeio"
	"github.com/gotransformer/transformer/sysmem"
	"github.com/gotransformer/transformer/train"
)

// Options describe a speed measurement on random tokens, with the
// flags and defaults of the PyTorch reference (../shared/reference/
// ref_transformer.py), so that both can run the same shapes.
type Options struct {
	Name                         string
	DModel, Heads, Layers, FF    int
	Vocab, Batch, SrcLen, TgtLen int
	Dropout, LabelSmoothing      float64
	Steps, Warmup                int // training steps in all, and those not timed
	Seed                         uint64
	FixedLen                     bool // every sentence full length (else uniform in [len/2, len])
	// Decode measures greedy decoding instead of training: DecodeBatch
	// random sources of DecodeSrcLen tokens, exactly DecodeLen steps; with
	// DecodeBeam above 1, beam search of that width (with the key/value
	// cache only).
	Decode                               bool
	DecodeBatch, DecodeSrcLen, DecodeLen int
	DecodeReps, DecodeWarmup             int
	DecodeBeam                           int
	// Weights is the format of the weight matrices when decoding
	// (half.F16 or half.BF16: model.Transformer.ToHalf), and the precision
	// of training's products when training (training.dtype bfloat16 or
	// float16: mixed precision); 0 is float32.
	Weights half.Format
	// Int8 decodes with int8 weight matrices (model.Transformer.ToInt8).
	Int8 bool
}

// Presets are the reference configurations ("tiny", "small", "base").
var Presets = map[string]Options{
	"tiny":  {DModel: 128, Heads: 4, Layers: 2, FF: 512, Vocab: 8000, Batch: 64, SrcLen: 24, TgtLen: 24},
	"small": {DModel: 256, Heads: 4, Layers: 3, FF: 1024, Vocab: 10000, Batch: 64, SrcLen: 24, TgtLen: 24},
	"base":  {DModel: 512, Heads: 8, Layers: 6, FF: 2048, Vocab: 16000, Batch: 32, SrcLen: 32, TgtLen: 32},
}

// DefaultOptions are the reference's defaults (its tiny shape).
func DefaultOptions() Options {
	o := Presets["tiny"]
	o.Dropout, o.LabelSmoothing = 0.1, 0.1
	o.Steps, o.Warmup, o.Seed = 20, 3, 1234
	o.DecodeBatch, o.DecodeSrcLen, o.DecodeLen, o.DecodeReps, o.DecodeWarmup, o.DecodeBeam = 32, 32, 32, 3, 1, 1
	return o
}

// benchModel is the reference's architecture: post-LN, no final norms,
// sinusoidal positions, separate source and target embeddings, the target
// embedding tied to the output projection.
func (o Options) benchModel() model.Config {
	c := model.DefaultConfig()
	c.DModel, c.Heads, c.FFDim, c.EncoderLayers, c.DecoderLayers = o.DModel, o.Heads, o.FF, o.Layers, o.Layers
	c.Dropout, c.AttentionDropout, c.NormFirst, c.FinalNorm = o.Dropout, o.Dropout, false, false
	c.Positions, c.TieOutput, c.SrcVocab, c.TgtVocab = "sinusoidal", true, o.Vocab, o.Vocab
	return c
}

// Bounds of the bench and bench-long flags beside the model's (package
// model); the memory estimate then decides what this machine can hold.
const (
	MaxBenchSteps      = 10_000 // --steps
	MaxBenchDecodeReps = 1000   // --decode-reps, --decode-warmup
	MaxBenchBatch      = 4096   // --batch, --decode-batch
	MaxBenchLen        = 4096   // --src-len, --tgt-len
	MaxLongBenchSeq    = 1 << 16
)

// flagRange is one integer flag and its bounds.
type flagRange struct {
	flag      string
	v, lo, hi int
}

// checkFlagRanges returns the first flag out of its bounds, named.
func checkFlagRanges(fs []flagRange) error {
	for _, f := range fs {
		if f.v < f.lo || f.v > f.hi {
			return fmt.Errorf("%s must be in [%d, %d], got %d", f.flag, f.lo, f.hi, f.v)
		}
	}
	return nil
}

// modelFlagProblem checks a model built from flags: model.Config's
// problems, their keys replaced by the flags that set them (flags maps a
// key to its flag); a key without a flag keeps its name.
func modelFlagProblem(mc model.Config, flags map[string]string) error {
	if mc.Heads > 0 && mc.DModel%mc.Heads != 0 {
		return fmt.Errorf("%s %d does not divide %s %d", flags["heads"], mc.Heads, flags["d_model"], mc.DModel)
	}
	p := mc.Problems()
	if len(p) == 0 {
		return nil
	}
	var fe *model.FieldError
	if errors.As(p[0], &fe) {
		if f, ok := flags[fe.Field]; ok {
			return fmt.Errorf("%s: %s", f, fe.Msg)
		}
	}
	return p[0]
}

// Check reports the first option out of bounds, naming its flag, and,
// when avail is known (Bytes > 0), a run whose estimated memory exceeds
// it.
func (o Options) Check(avail sysmem.Limit) error {
	if err := checkFlagRanges([]flagRange{
		{"--d-model", o.DModel, 2, model.MaxDModel},
		{"--heads", o.Heads, 1, model.MaxHeads},
		{"--layers", o.Layers, 1, model.MaxLayers},
		{"--ff", o.FF, 1, model.MaxFFDim},
		{"--vocab", o.Vocab, 5, model.MaxVocab},
		{"--batch", o.Batch, 1, MaxBenchBatch},
		{"--src-len", o.SrcLen, 2, MaxBenchLen},
		{"--tgt-len", o.TgtLen, 2, MaxBenchLen},
		{"--steps", o.Steps, 1, MaxBenchSteps},
		{"--warmup", o.Warmup, 0, max(o.Steps-1, 0)},
	}); err != nil {
		return err
	}
	if o.DecodeBeam != 1 && !o.Decode {
		return fmt.Errorf("--decode-beam applies to --decode alone, got %d without it", o.DecodeBeam)
	}
	if o.Int8 && (!o.Decode || o.Weights != 0) {
		return fmt.Errorf("--dtype int8 applies to --decode alone: training runs in f32, bf16 or f16")
	}
	if o.Decode {
		if err := checkFlagRanges([]flagRange{
			{"--decode-batch", o.DecodeBatch, 1, MaxBenchBatch},
			{"--decode-src-len", o.DecodeSrcLen, 2, model.MaxInputTokens},
			{"--decode-len", o.DecodeLen, 1, model.MaxDecodeLen},
			{"--decode-reps", o.DecodeReps, 1, MaxBenchDecodeReps},
			{"--decode-warmup", o.DecodeWarmup, 0, MaxBenchDecodeReps},
			{"--decode-beam", o.DecodeBeam, 1, model.MaxBeam},
		}); err != nil {
			return err
		}
	}
	if !(o.Dropout >= 0 && o.Dropout < 1) {
		return fmt.Errorf("--dropout must be in [0, 1), got %g", o.Dropout)
	}
	if !(o.LabelSmoothing >= 0 && o.LabelSmoothing < 1) {
		return fmt.Errorf("label smoothing must be in [0, 1), got %g", o.LabelSmoothing)
	}
	mc := o.benchModel()
	if mc.DModel%2 != 0 {
		return fmt.Errorf("--d-model must be even for the sinusoidal positions, got %d", mc.DModel)
	}
	if err := modelFlagProblem(mc, map[string]string{"d_model": "--d-model", "heads": "--heads", "encoder_layers": "--layers",
		"decoder_layers": "--layers", "ff_dim": "--ff", "vocabulary": "--vocab", "dropout": "--dropout", "attention_dropout": "--dropout"}); err != nil {
		return err
	}
	if avail.Bytes <= 0 {
		return nil
	}
	c := &rundir.Config{Model: mc}
	c.Training.Dtype = "float32"
	if o.Decode {
		n := o.DecodeSrcLen + 1
		c.Training.BatchTokens, c.Data.MaxLen = n, n
		c.Decoding.BatchSize, c.Decoding.Beam, c.Decoding.MaxLen = o.DecodeBatch, o.DecodeBeam, o.DecodeLen
		if e := c.EstimateMemory(o.Vocab, o.Vocab); e.Decode > avail.Bytes {
			return fmt.Errorf("decoding needs about %s (%d parameters), more than the %s available: lower --decode-batch, --decode-beam, --decode-len, --decode-src-len or the model's sizes",
				safeio.Size(e.Decode), e.Params, avail)
		}
		return nil
	}
	n := max(o.SrcLen, o.TgtLen+1)
	c.Training.BatchTokens, c.Data.MaxLen = o.Batch*n, n
	if e := c.EstimateMemory(o.Vocab, o.Vocab); e.Train > avail.Bytes {
		change := "lower --batch, --src-len or --tgt-len"
		if e.Static > e.Activations {
			change = "lower --d-model, --ff, --layers or --vocab"
		}
		return fmt.Errorf("a training step needs about %s (%d parameters, %s of weights, gradients and Adam moments, %s of activations), more than the %s available: %s",
			safeio.Size(e.Train), e.Params, safeio.Size(e.Static), safeio.Size(e.Activations), avail, change)
	}
	return nil
}

// FlopsPerStep is the reference's count of matrix-multiply FLOPs of one
// training step (forward and backward; padding included).
func (o Options) FlopsPerStep() float64 {
	L, d, f, V, B, s, t := float64(o.Layers), float64(o.DModel), float64(o.FF), float64(o.Vocab), float64(o.Batch), float64(o.SrcLen), float64(o.TgtLen)
	S, T := B*s, B*t
	matmul := 2 * (S*(L*(4*d*d+2*d*f)+L*2*d*d) + T*(L*(6*d*d+2*d*f)+d*V))
	attn := B * L * (4*s*s*d + 4*t*t*d + 4*t*s*d)
	return 3 * (matmul + attn)
}

// Result is one measurement, printed as one JSON object.
type Result struct {
	Name string `json:"name,omitempty"`
	Impl string `json:"impl"`
	BLAS string `json:"blas"`
	// Kernel is the matrix-product and exponential kernel that ran
	// (graph.Kernel: "avx512", "avx2" or "go"), and Int8Kernel that of the
	// int8 products when decoding with int8 weights (graph.Int8Kernel).
	Kernel     string `json:"kernel"`
	Int8Kernel string `json:"int8_kernel,omitempty"`
	// Weights is "f32", "f16", "bf16" or "int8" (Options.Weights, Int8), and WeightMB
	// the memory the weights take when decoding. When training, Weights is
	// the precision of the products: "bf16" and "f16" are mixed-precision
	// training over float32 master weights.
	Weights  string  `json:"weights"`
	WeightMB float64 `json:"weight_mb,omitempty"`
	Config   struct {
		DModel int `json:"d_model"`
		Heads  int `json:"heads"`
		Layers int `json:"layers"`
		FF     int `json:"ff"`
		Vocab  int `json:"vocab"`
		Batch  int `json:"batch"`
		SrcLen int `json:"src_len"`
		TgtLen int `json:"tgt_len"`
	} `json:"config"`
	Threads                 int     `json:"threads"`
	Parameters              int     `json:"parameters"`
	SecPerStepMedian        float64 `json:"sec_per_step_median,omitempty"`
	SecPerStepMin           float64 `json:"sec_per_step_min,omitempty"`
	TimedSteps              int     `json:"timed_steps,omitempty"`
	TgtPositionsPerS        float64 `json:"tgt_positions_per_s,omitempty"`
	SrcTgtPositionsPerS     float64 `json:"src_tgt_positions_per_s,omitempty"`
	TgtNonpadTokensPerS     float64 `json:"tgt_nonpad_tokens_per_s,omitempty"`
	TrainGFlopPerStep       float64 `json:"train_gflop_per_step,omitempty"`
	AchievedGFlops          float64 `json:"achieved_gflops,omitempty"`
	LossFirst               float64 `json:"loss_first,omitempty"`
	LossLast                float64 `json:"loss_last,omitempty"`
	DecodeBeam              int     `json:"decode_beam,omitempty"` // beam search's width; absent for greedy decoding
	DecodeKVCacheSentPerS   float64 `json:"decode_kvcache_sent_per_s,omitempty"`
	DecodeRecomputeSentPerS float64 `json:"decode_recompute_sent_per_s,omitempty"`
	DecodeSame              *bool   `json:"decode_outputs_identical,omitempty"`
	// SkippedSteps counts float16 steps skipped for a gradient overflow
	// (loss scaling); they are timed like the others.
	SkippedSteps int     `json:"skipped_steps,omitempty"`
	PeakRSSMB    float64 `json:"peak_rss_mb"`
}

// randomSentences draws n rows of length ≤ maxLen in the reference's way:
// tokens uniform in [4, vocab), lengths uniform in [maxLen/2, maxLen] (or
// maxLen), the last one EosID.
func randomSentences(rng *rand.Rand, n, maxLen, vocab int, fixed bool) [][]int {
	out := make([][]int, n)
	for i := range out {
		l := maxLen
		if !fixed {
			lo := max(1, maxLen/2)
			l = lo + rng.IntN(maxLen-lo+1)
		}
		s := make([]int, l)
		for j := range s {
			s[j] = 4 + rng.IntN(vocab-4)
		}
		s[l-1] = data.EosID
		out[i] = s
	}
	return out
}

// benchBatch makes a training batch of fixed shape from random sentences.
func benchBatch(rng *rand.Rand, o Options) *data.Batch {
	srcs := randomSentences(rng, o.Batch, o.SrcLen, o.Vocab, o.FixedLen)
	tgts := randomSentences(rng, o.Batch, o.TgtLen, o.Vocab, o.FixedLen)
	b := &data.Batch{Size: o.Batch, SrcLen: o.SrcLen, TgtLen: o.TgtLen,
		Src: make([]int, o.Batch*o.SrcLen), Tgt: make([]int, o.Batch*(o.TgtLen+1))}
	for i := range srcs {
		copy(b.Src[i*o.SrcLen:], srcs[i])
		row := b.Tgt[i*(o.TgtLen+1):]
		row[0] = data.BosID
		copy(row[1:], tgts[i]) // ends with EosID
	}
	return b
}

// Run trains (or decodes with) a model of the options' shape on random
// tokens and reports throughput, achieved GFLOP/s and peak memory. progress,
// if not nil, hears about each step. When ctx ends it stops between steps
// (or decoding repetitions) and returns ctx.Err().
func Run(ctx context.Context, o Options, progress func(step int, seconds, loss float64)) (*Result, error) {
	if err := o.Check(sysmem.Available()); err != nil {
		return nil, err
	}
	c := rundir.DefaultConfig()
	c.Model = o.benchModel()
	c.Training.LabelSmoothing = o.LabelSmoothing
	c.Training.Schedule, c.Training.LearningRate, c.Training.Warmup = "constant", 1e-4, 1
	c.Training.ClipNorm = 0
	switch {
	case o.Decode:
	case o.Weights == half.BF16:
		c.Training.Dtype = "bfloat16"
	case o.Weights == half.F16:
		c.Training.Dtype = "float16"
	}
	m, err := model.New(c.Model, rundir.DtypeOf("float32"), int64(o.Seed))
	if err != nil {
		return nil, err
	}
	res := &Result{Name: o.Name, Impl: "gotransformer", BLAS: graph.BLAS, Kernel: graph.Kernel(), Threads: runtime.GOMAXPROCS(0),
		Parameters: m.ParamCounts()["total"]}
	res.Config.DModel, res.Config.Heads, res.Config.Layers, res.Config.FF = o.DModel, o.Heads, o.Layers, o.FF
	res.Config.Vocab, res.Config.Batch, res.Config.SrcLen, res.Config.TgtLen = o.Vocab, o.Batch, o.SrcLen, o.TgtLen
	rng := rand.New(rand.NewPCG(o.Seed, 1))
	res.Weights = o.Weights.String()
	if o.Decode {
		if _, err := m.ToHalf(o.Weights); err != nil {
			return nil, err
		}
		if o.Int8 {
			if _, err := m.ToInt8(); err != nil {
				return nil, err
			}
			res.Weights, res.Int8Kernel = "int8", graph.Int8Kernel()
		}
		res.WeightMB = float64(m.Store.Bytes()) / 1e6
		if err := benchDecode(ctx, o, m, rng, res); err != nil {
			return nil, err
		}
	} else {
		t := train.NewStepTrainer(&c, m)
		defer t.Close()
		var times []float64
		var nonpad int
		for step := 0; step < o.Steps; step++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			b := benchBatch(rng, o)
			start := time.Now()
			r, err := t.TrainStep(b)
			if err != nil {
				return nil, err
			}
			sec := time.Since(start).Seconds()
			if step == 0 {
				res.LossFirst = r.Loss
			}
			res.LossLast = r.Loss
			if r.Skipped {
				res.SkippedSteps++
			}
			if step >= o.Warmup {
				times = append(times, sec)
				nonpad += r.Tokens
			}
			if progress != nil {
				progress(step, sec, r.Loss)
			}
		}
		if len(times) == 0 {
			return nil, fmt.Errorf("bench: no timed steps (steps %d, warm-up %d)", o.Steps, o.Warmup)
		}
		sort.Float64s(times)
		med := times[len(times)/2]
		if len(times)%2 == 0 {
			med = (times[len(times)/2-1] + times[len(times)/2]) / 2
		}
		res.SecPerStepMedian, res.SecPerStepMin, res.TimedSteps = med, times[0], len(times)
		res.TgtPositionsPerS = float64(o.Batch*o.TgtLen) / med
		res.SrcTgtPositionsPerS = float64(o.Batch*(o.SrcLen+o.TgtLen)) / med
		res.TgtNonpadTokensPerS = float64(nonpad) / float64(len(times)) / med
		res.TrainGFlopPerStep = o.FlopsPerStep() / 1e9
		res.AchievedGFlops = o.FlopsPerStep() / med / 1e9
	}
	res.PeakRSSMB = peakRSSMB()
	return res, nil
}

func benchDecode(ctx context.Context, o Options, m *model.Transformer, rng *rand.Rand, res *Result) error {
	srcs := randomSentences(rng, o.DecodeBatch, o.DecodeSrcLen, o.Vocab, true)
	for i := range srcs {
		srcs[i] = srcs[i][:len(srcs[i])-1] // Greedy appends EosID itself
	}
	// Exactly DecodeLen steps: a limit of 0·len + DecodeLen.
	opt := model.DecodeOptions{BatchSize: o.DecodeBatch, MaxLenA: 1e-9, MaxLenB: o.DecodeLen - 1, MaxLen: o.DecodeLen}
	if o.DecodeBeam > 1 {
		// Beam search with the cache; every hypothesis is a row.
		opt.BatchSize = o.DecodeBatch * o.DecodeBeam
		res.DecodeBeam = o.DecodeBeam
	}
	variants := []bool{false, true} // the cache, then recomputing
	if o.DecodeBeam > 1 {
		variants = variants[:1]
	}
	var outs [2][][]int
	for v, noCache := range variants {
		tr := model.NewTranslator(m, 0)
		opt.NoCache = noCache
		var secs []float64
		for rep := 0; rep < o.DecodeWarmup+o.DecodeReps; rep++ {
			start := time.Now()
			var out [][]int
			var err error
			if o.DecodeBeam > 1 {
				var hyps [][]model.Hypothesis
				hyps, err = tr.BeamContext(ctx, srcs, model.BeamOptions{DecodeOptions: opt, Beam: o.DecodeBeam})
				for _, h := range hyps {
					var best []int
					if len(h) > 0 {
						best = h[0].Tokens
					}
					out = append(out, best)
				}
			} else {
				out, err = tr.GreedyContext(ctx, srcs, opt)
			}
			if err != nil {
				tr.Close()
				return err
			}
			if rep >= o.DecodeWarmup {
				secs = append(secs, time.Since(start).Seconds())
			}
			outs[v] = out
		}
		tr.Close()
		sort.Float64s(secs)
		rate := float64(len(srcs)) / secs[len(secs)/2]
		if noCache {
			res.DecodeRecomputeSentPerS = rate
		} else {
			res.DecodeKVCacheSentPerS = rate
		}
	}
	if len(variants) == 2 {
		same := fmt.Sprint(outs[0]) == fmt.Sprint(outs[1])
		res.DecodeSame = &same
	}
	return nil
}
