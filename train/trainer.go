package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/runlog"
	"github.com/gotransformer/transformer/sysmem"
	"github.com/gotransformer/transformer/translate"
)

// metricDirection is +1 for metrics where higher is better, −1 otherwise.
var metricDirection = map[string]float64{"bleu": 1, "chrf": 1, "exact_match": 1, "token_accuracy": 1, "loss": -1, "perplexity": -1}

// Trainer runs one training run of a Config.
type Trainer struct {
	Config         *Config
	Corpus         *Corpus
	SrcTok, TgtTok *data.BPE
	Model          *model.Transformer
	Log            *Logger
	Dir            string

	trainEx    []data.Example
	opt        *Adam
	sched      Schedule
	graphs     *graph.Cache
	translator *model.Translator
	dropoutRNG *graph.RNG
	targets    graph.Scratch     // one loss-target array shared by the cached graphs
	dropout    graph.DropoutPool // and one set of dropout-mask arrays
	batches    []*data.Batch     // the current epoch's batches
	state      State
	logFile    *os.File
	lock       *runLock
	clock      time.Time // when the run would have started had it never paused
}

// NewTrainer prepares a new run: it loads or generates the corpus, learns
// the tokenizers, builds the model and creates the run directory with the
// resolved config and the tokenizers. Messages and progress go to disp
// (nil: nowhere) and, as plain lines, to train.log in the run directory;
// figures go to metrics.jsonl.
func NewTrainer(c *Config, disp *progress.Display) (*Trainer, error) {
	return newTrainer(c, disp, false)
}

// ResumeTrainer continues the run in dir from its latest checkpoint:
// weights, optimizer moments, step, data position and random state are
// restored, so that the run goes on exactly as if it had not stopped. c is
// the run's config (from dir's config.yaml, possibly with more steps).
func ResumeTrainer(c *Config, disp *progress.Display) (*Trainer, error) {
	return newTrainer(c, disp, true)
}

func newTrainer(c *Config, disp *progress.Display, resume bool) (*Trainer, error) {
	t := &Trainer{Config: c, Dir: c.Training.OutDir}
	if resume {
		if !IsRun(t.Dir) {
			return nil, fmt.Errorf("cannot resume %s: it holds no run", t.Dir)
		}
	} else if err := CheckOutputDir(t.Dir, c.Training.Overwrite); err != nil {
		return nil, err
	}
	// created is the outermost folder MkdirAll makes (none if t.Dir exists).
	created := ""
	for d := filepath.Clean(t.Dir); !exists(d); d = filepath.Dir(d) {
		created = d
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(t.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("training.out_dir: %w", err)
	}
	lock, err := lockRun(t.Dir)
	if err != nil {
		return nil, err
	}
	t.lock = lock
	ok := false
	defer func() {
		// A run that could not start leaves nothing behind in a directory
		// it made (bad data, a model too big, ...).
		if !ok {
			if t.logFile != nil {
				t.logFile.Close()
			}
			lock.Release()
			if created != "" {
				os.RemoveAll(created)
			}
		}
	}()
	if !resume && IsRun(t.Dir) {
		// --overwrite, checked above; the lock now keeps others out.
		if err := removeRun(t.Dir); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(filepath.Join(t.Dir, LogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	t.logFile = f
	t.Log = NewLogger(disp, f)

	if t.Corpus, err = LoadCorpus(c); err != nil {
		return nil, err
	}
	t.Log.Printf("data: %d train, %d valid, %d test pairs", len(t.Corpus.Train), len(t.Corpus.Valid), len(t.Corpus.Test))
	if resume {
		ck, err := LoadRun(t.Dir)
		if err != nil {
			return nil, err
		}
		t.SrcTok, t.TgtTok = ck.SrcTok, ck.TgtTok
	} else {
		t.SrcTok, t.TgtTok = LearnTokenizers(c, t.Corpus.Train, t.Log.Display())
	}
	t.Log.Printf("tokenizers: source %d tokens (%d merges), target %d tokens (%d merges)",
		t.SrcTok.Size(), len(t.SrcTok.Merges), t.TgtTok.Size(), len(t.TgtTok.Merges))
	var dropped int
	t.trainEx, dropped = data.Encode(t.Corpus.Train, t.SrcTok, t.TgtTok, c.Data.MaxLen)
	if dropped > 0 {
		t.Log.Printf("dropped %d training pairs that are empty or longer than data.max_len=%d tokens", dropped, c.Data.MaxLen)
	}
	if c.Data.MaxRatio > 0 {
		t.trainEx, dropped = data.FilterRatio(t.trainEx, c.Data.MaxRatio)
		if dropped > 0 {
			t.Log.Printf("dropped %d training pairs whose lengths differ by more than data.max_ratio=%g", dropped, c.Data.MaxRatio)
		}
	}
	if len(t.trainEx) == 0 {
		return nil, fmt.Errorf("%s: no training pair is left after filtering", c.Path)
	}

	if p := c.MemoryProblems(t.SrcTok.Size(), t.TgtTok.Size(), sysmem.Available()); len(p) > 0 {
		return nil, p[0]
	}
	t.Log.Printf("memory: %v (available: %v)", c.EstimateMemory(t.SrcTok.Size(), t.TgtTok.Size()), sysmem.Available())
	mc := c.Model
	mc.SrcVocab, mc.TgtVocab = t.SrcTok.Size(), t.TgtTok.Size()
	if t.Model, err = model.New(mc, dtypeOf(c.Training.Dtype), c.Training.Seed); err != nil {
		return nil, fmt.Errorf("%s: model: %w", c.Path, err)
	}
	c.Model = mc
	counts := t.Model.ParamCounts()
	t.Log.Printf("model: %d parameters (encoder %d, decoder %d), d_model %d, %d heads, %d+%d layers",
		counts["total"], counts["encoder"], counts["decoder"], mc.DModel, mc.Heads, mc.EncoderLayers, mc.DecoderLayers)

	tc := c.Training
	t.initStep(48, 64)
	t.state = State{Seed: tc.Seed, Metric: tc.BestMetric}
	if resume {
		if err := t.restore(); err != nil {
			return nil, err
		}
		if tc.Steps < t.state.Step {
			return nil, fmt.Errorf("cannot resume %s: it is at step %d, past training.steps %d; give --steps above %d to train further",
				t.Dir, t.state.Step, tc.Steps, t.state.Step)
		}
	}

	resolved, err := c.Marshal()
	if err != nil {
		return nil, err
	}
	if err := model.WriteFileAtomic(filepath.Join(t.Dir, ConfigFile), resolved); err != nil {
		return nil, err
	}
	if !resume {
		if err := t.SrcTok.Save(filepath.Join(t.Dir, SrcTokenizerFile)); err != nil {
			return nil, err
		}
		if err := t.TgtTok.Save(filepath.Join(t.Dir, TgtTokenizerFile)); err != nil {
			return nil, err
		}
	}
	ok = true
	return t, nil
}

// initStep makes what TrainStep needs besides the model: the optimizer,
// the schedule, the dropout generator, and caches of graphs and
// translation graphs of the given sizes.
func (t *Trainer) initStep(graphs, translatorGraphs int) {
	tc := t.Config.Training
	t.opt = NewAdam(tc.Beta1, tc.Beta2, tc.Eps)
	t.sched, _ = NewSchedule(tc.Schedule, tc.LearningRate, tc.Warmup, t.Model.Config.DModel)
	t.graphs = graph.NewCache(graphs)
	t.translator = model.NewTranslator(t.Model, translatorGraphs)
	t.dropoutRNG = graph.NewRNG(tc.Seed)
}

// restore loads the latest checkpoint of the run directory.
func (t *Trainer) restore() error {
	rel, err := readPointer(t.Dir, LatestFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if cks, lerr := listCheckpoints(t.Dir); lerr == nil && len(cks) > 0 {
				last := cks[len(cks)-1].rel
				return fmt.Errorf("cannot resume %s: its %s pointer is missing; the newest complete checkpoint is %s (write that line into %s to resume from it)",
					t.Dir, LatestFile, last, filepath.Join(t.Dir, LatestFile))
			}
			return fmt.Errorf("cannot resume %s: it has no checkpoint yet", t.Dir)
		}
		return err
	}
	dir := filepath.Join(t.Dir, rel)
	st, err := readState(dir)
	if err != nil {
		return err
	}
	if err := verifyRun(t.Dir, dir, t.Config, st); err != nil {
		return err
	}
	weights, err := readCheckpointFile(dir, st, WeightsFile, weightsLimit(t.Model, 1))
	if err != nil {
		return err
	}
	moments, err := readCheckpointFile(dir, st, OptimizerFile, weightsLimit(t.Model, 2))
	if err != nil {
		return err
	}
	if err := loadWeights(t.Model, filepath.Join(dir, WeightsFile), weights); err != nil {
		return err
	}
	if err := loadOptimizer(t.opt, t.Model, filepath.Join(dir, OptimizerFile), moments, st.AdamStep); err != nil {
		return err
	}
	if st.Metric != t.Config.Training.BestMetric {
		st.Metric, st.BestStep, st.BestValue = t.Config.Training.BestMetric, 0, 0
	}
	t.state = st
	t.dropoutRNG.State = st.DropoutRNG
	if err := runlog.Cut(t.Dir, st.Step); err != nil {
		return err
	}
	t.Log.Printf("resumed from %s: step %d, epoch %d, batch %d", dir, st.Step, st.Epoch, st.Pos)
	return nil
}

// Close releases compiled graphs and the log file.
func (t *Trainer) Close() {
	t.graphs.Clear()
	t.translator.Close()
	t.logFile.Close()
	t.lock.Release()
}

// stepGraph is the translator's training graph for one batch shape.
type stepGraph struct {
	*lossGraph
	in     *model.Inputs
	target *G.Node
}

// graphOptions are the training graphs' build options from the config.
func (t *Trainer) graphOptions() GraphOptions {
	return GraphOptions{Checkpointing: t.Config.Training.CheckpointActivations, Composed: t.Config.Training.ComposedOps}
}

func (t *Trainer) stepGraphFor(batch *data.Batch) (*stepGraph, error) {
	key := fmt.Sprintf("train/b%d/s%d/t%d", batch.Size, batch.SrcLen, batch.TgtLen)
	c, err := t.graphs.Get(key, func() (graph.Compiled, error) {
		s := &stepGraph{}
		var err error
		s.lossGraph, err = newLossGraph(t.Model.Store, t.graphOptions(), func(b *graph.Builder) *G.Node {
			s.in = t.Model.NewInputs(b, batch.Size, batch.SrcLen, batch.TgtLen)
			s.target = b.Input("target", batch.Size*batch.TgtLen, t.Model.Config.TgtVocab)
			return t.Model.Objective(b, s.in, s.target, SmoothedCE)
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	return c.(*stepGraph), nil
}

// StepResult reports one optimizer step.
type StepResult struct {
	Loss     float64
	Tokens   int
	GradNorm float64
	LR       float64
	Skipped  bool // the batch was not finite and on_nonfinite is skip
}

// TrainStep runs forward and backward on batch and updates the weights.
func (t *Trainer) TrainStep(batch *data.Batch) (StepResult, error) {
	loss, params, grads, n, err := t.gradients(batch)
	if err != nil {
		return StepResult{}, err
	}
	t.state.Step++
	lr := t.sched.Rate(t.opt.Step + 1)
	norm, finite, err := update(t.opt, params, grads, loss, t.Config.Training.ClipNorm, lr)
	if err != nil {
		return StepResult{}, err
	}
	if !finite {
		if t.Config.Training.OnNonFinite != "skip" {
			last, _ := readPointer(t.Dir, LatestFile)
			return StepResult{}, &NonFiniteError{Step: t.state.Step, Loss: loss, Norm: norm, Last: last}
		}
		t.state.Skipped++
		t.Log.Printf("step %d: skipped a batch whose loss or gradient is not finite (loss %v, gradient norm %v)", t.state.Step, loss, norm)
		return StepResult{Loss: loss, Tokens: n, GradNorm: norm, Skipped: true}, nil
	}
	return StepResult{Loss: loss, Tokens: n, GradNorm: norm, LR: lr}, nil
}

// gradients runs forward and backward on batch and returns the loss, the
// parameters and their gradients in the same order, and the number of
// target tokens. The gradients stay valid until the next step.
func (t *Trainer) gradients(batch *data.Batch) (loss float64, params, grads []Param, n int, err error) {
	s, err := t.stepGraphFor(batch)
	if err != nil {
		return 0, nil, nil, 0, err
	}
	if err := s.in.Bind(batch.Src, batch.DecoderInput()); err != nil {
		return 0, nil, nil, 0, err
	}
	// The targets [N, V] are the largest input; the graphs of all batch
	// shapes share one array for them. FillTargets overwrites all of it.
	target := t.targets.Tensor(t.Model.Store.Dtype(), s.target.Shape()...)
	n = FillTargets(target, batch.DecoderOutput(), t.Config.Training.LabelSmoothing)
	if err := G.Let(s.target, target); err != nil {
		return 0, nil, nil, 0, err
	}
	loss, params, grads, err = s.run(&t.dropout, t.dropoutRNG)
	return loss, params, grads, n, err
}

// NonFiniteError stops a run whose loss or gradient became NaN or infinite.
type NonFiniteError struct {
	Step       int
	Loss, Norm float64
	// Last is the run's latest checkpoint ("" if none was saved yet).
	Last string
}

func (e *NonFiniteError) Error() string {
	kept := "no checkpoint was saved yet"
	if e.Last != "" {
		kept = "the last checkpoint (" + e.Last + ") is intact"
	}
	return fmt.Sprintf("step %d: loss or gradient is not finite (loss %v, gradient norm %v); %s (set training.on_nonfinite: skip to skip such batches, or lower training.learning_rate)", e.Step, e.Loss, e.Norm, kept)
}

func scalar(n *G.Node) float64 {
	switch v := n.Value().Data().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return math.NaN()
}

// Result is what a finished run reports.
type Result struct {
	Steps    int
	Duration time.Duration
	Best     State
	// Interrupted is set when the context ended the run early; a checkpoint
	// was saved and the run can be resumed.
	Interrupted bool
	// Test metrics of the best checkpoint (empty without a test set, or when
	// interrupted).
	Test map[string]float64
}

// nextBatch returns the next training batch, starting a new epoch (with
// its own shuffle, from the seed and the epoch number) when one ends.
func (t *Trainer) nextBatch() (*data.Batch, error) {
	tc := t.Config.Training
	for t.batches == nil || t.state.Pos >= len(t.batches) {
		if t.batches != nil || t.state.Epoch == 0 {
			t.state.Epoch++
			t.state.Pos = 0
		}
		var err error
		first := t.batches == nil
		t.batches, err = data.MakeBatches(t.trainEx, data.BatchOptions{MaxTokens: tc.BatchTokens,
			BucketWidth: tc.BucketWidth, Shuffle: true, Seed: tc.Seed + int64(t.state.Epoch) - 1})
		if err != nil {
			return nil, err
		}
		if first && t.state.Pos > len(t.batches) {
			return nil, fmt.Errorf("%s: the checkpoint is at batch %d of epoch %d, which has only %d batches: it was not written for this corpus and config",
				t.Dir, t.state.Pos, t.state.Epoch, len(t.batches))
		}
	}
	b := t.batches[t.state.Pos]
	t.state.Pos++
	return b, nil
}

// Run trains until training.steps, training.max_time or ctx ends, then
// validates, saves, and evaluates the best checkpoint on the test set. When
// ctx ends first, it saves a checkpoint and returns with Interrupted set.
func (t *Trainer) Run(ctx context.Context) (*Result, error) {
	tc := t.Config.Training
	start := time.Now()
	startStep := t.state.Step
	spent := time.Duration(t.state.TrainSeconds * float64(time.Second))
	t.clock = start.Add(-spent)
	t.Log.Printf("training for %d steps (max time %v), %d training pairs, batches of ≤%d tokens, run directory %s",
		tc.Steps, tc.MaxTime, len(t.trainEx), tc.BatchTokens, t.Dir)
	if spent > 0 {
		t.Log.Printf("resumed at step %d after %v of training", startStep, spent.Round(time.Second))
	}
	var lossSum float64
	var tokSum, logSteps int
	lastLog := time.Now()
	stop := "reached training.steps"
	validated := -1
	var bar *progress.Task
	var barFields []progress.Field
	if t.Log.Display().Mode() == progress.Bar {
		bar = t.Log.Display().StartFrom("train", startStep, tc.Steps, "steps")
		defer bar.Finish()
	}
loop:
	for t.state.Step < tc.Steps {
		if ctx.Err() != nil {
			return t.interrupt(start)
		}
		if tc.MaxTime > 0 && time.Since(t.clock) > tc.MaxTime {
			stop = fmt.Sprintf("reached training.max_time (%v)", tc.MaxTime)
			break
		}
		batch, err := t.nextBatch()
		if err != nil {
			return nil, err
		}
		r, err := t.TrainStep(batch)
		if err != nil {
			return nil, err
		}
		lossSum += r.Loss
		tokSum += r.Tokens
		logSteps++
		if bar != nil {
			barFields = []progress.Field{progress.F("epoch", t.state.Epoch), progress.F("loss", r.Loss), progress.F("lr", r.LR)}
			bar.Update(t.state.Step, barFields...)
		}
		if t.state.Step%tc.LogEvery == 0 || t.state.Step == startStep+1 {
			el := time.Since(lastLog).Seconds()
			done := t.state.Step - startStep
			eta := time.Duration(float64(time.Since(start)) / float64(done) * float64(tc.Steps-t.state.Step))
			if err := t.logTrain(lossSum/float64(logSteps), r, float64(tokSum)/el, eta); err != nil {
				return nil, err
			}
			lossSum, tokSum, logSteps, lastLog = 0, 0, 0, time.Now()
		}
		switch {
		case t.state.Step%tc.ValidEvery == 0:
			out, err := t.validateAndSave(ctx)
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return t.interrupt(start)
			}
			if err != nil {
				return nil, err
			}
			validated = t.state.Step
			lastLog = time.Now()
			if out {
				stop = fmt.Sprintf("no better %s in %d validations (training.patience)", tc.BestMetric, tc.Patience)
				break loop
			}
		case tc.SaveEvery > 0 && t.state.Step%tc.SaveEvery == 0:
			if _, err := t.save(); err != nil {
				return nil, err
			}
		}
	}
	if bar != nil {
		bar.Finish(barFields...)
	}
	t.Log.Printf("stopped at step %d: %s", t.state.Step, stop)
	if validated != t.state.Step {
		_, err := t.validateAndSave(ctx)
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return t.interrupt(start)
		}
		if err != nil {
			return nil, err
		}
	}
	res := &Result{Steps: t.state.Step, Duration: time.Since(start), Best: t.state}
	if len(t.Corpus.Test) > 0 {
		ck, err := LoadCheckpoint(t.Dir, "best")
		if err != nil {
			return nil, err
		}
		if err := t.Model.Store.Load(storeTensors(ck.Model)); err != nil {
			return nil, err
		}
		m, err := t.Evaluate(ctx, t.Corpus.Test, 0)
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			// Training is complete and saved; only the test figures are lost.
			t.Log.Printf("interrupted during the test evaluation; every checkpoint is saved")
			res.Interrupted = true
			return res, nil
		}
		if err != nil {
			return nil, err
		}
		res.Test = m
		t.Log.Printf("test (best checkpoint, step %d): BLEU %.2f | chrF %.2f | exact match %.2f%% (%d/%d) | token accuracy %.2f%% | perplexity %.3f (greedy)",
			ck.State.Step, m["bleu"], m["chrf"], 100*m["exact_match"], int(m["exact"]), int(m["sentences"]), 100*m["token_accuracy"], m["perplexity"])
	}
	return res, nil
}

// interrupt saves a checkpoint of the current step (the validation that
// was cut short, if any, is not recorded) and reports the run as
// interrupted.
func (t *Trainer) interrupt(start time.Time) (*Result, error) {
	t.Log.Printf("interrupted at step %d: saving a checkpoint", t.state.Step)
	if _, err := t.save(); err != nil {
		return nil, err
	}
	t.Log.Printf("resume with: transformer train --resume %s", t.Dir)
	return &Result{Steps: t.state.Step, Duration: time.Since(start), Best: t.state, Interrupted: true}, nil
}

// logTrain logs a training interval and records it in metrics.jsonl.
func (t *Trainer) logTrain(loss float64, r StepResult, tokPerSec float64, eta time.Duration) error {
	tc := t.Config.Training
	text := fmt.Sprintf("step %d/%d | epoch %d | loss %.4f | lr %.3e | grad norm %.3f | %.0f tgt tok/s | eta %s",
		t.state.Step, tc.Steps, t.state.Epoch, loss, r.LR, r.GradNorm, tokPerSec, progress.Clock(eta))
	t.Log.Event("train", text, progress.F("step", t.state.Step), progress.F("steps", tc.Steps), progress.F("epoch", t.state.Epoch),
		progress.F("loss", loss), progress.F("lr", r.LR), progress.F("grad_norm", r.GradNorm),
		progress.F("tgt_tokens_per_s", tokPerSec), progress.F("eta_s", eta.Seconds()))
	return t.record("train", map[string]float64{"loss": loss, "lr": r.LR, "grad_norm": r.GradNorm, "tgt_tokens_per_s": tokPerSec})
}

// record appends figures to metrics.jsonl.
func (t *Trainer) record(kind string, values map[string]float64) error {
	err := runlog.Append(t.Dir, runlog.Record{Kind: kind, Step: t.state.Step, Epoch: t.state.Epoch, Time: time.Now(), Values: values})
	if err != nil {
		return fmt.Errorf("writing %s: %w", runlog.MetricsFile, err)
	}
	return nil
}

// save writes a checkpoint of the current step and prunes old ones.
func (t *Trainer) save() (string, error) {
	t.state.DropoutRNG = t.dropoutRNG.State
	if err := stampRun(&t.state, t.Dir, t.Config); err != nil {
		return "", err
	}
	if !t.clock.IsZero() {
		t.state.TrainSeconds = time.Since(t.clock).Seconds()
	}
	rel, err := saveCheckpoint(t.Dir, t.Model, t.opt, t.state)
	if err != nil {
		return "", err
	}
	pruneCheckpoints(t.Dir, t.Config.Training.KeepCheckpoints, t.Config.Training.KeepBest, t.Config.Training.BestMetric)
	return rel, nil
}

// validateAndSave validates, saves a checkpoint, and points best at it if
// the chosen metric improved. It reports when training.patience
// validations have passed without improvement.
func (t *Trainer) validateAndSave(ctx context.Context) (patienceOut bool, err error) {
	tc := t.Config.Training
	start := time.Now()
	m, err := t.Evaluate(ctx, t.Corpus.Valid, tc.ValidSentences)
	if err != nil {
		return false, err
	}
	t.state.Valid, t.state.ValidStep = m, t.state.Step
	value := m[tc.BestMetric] * metricDirection[tc.BestMetric]
	improved := t.state.BestStep == 0 || value > t.state.BestValue
	mark := ""
	if improved {
		t.state.BestValue, t.state.BestStep, t.state.Stale = value, t.state.Step, 0
		mark = " (best)"
	} else {
		t.state.Stale++
	}
	text := fmt.Sprintf("valid step %d: loss %.4f | perplexity %.3f | token accuracy %.2f%% | BLEU %.2f | chrF %.2f | exact match %.2f%% (%d/%d) | %.1fs%s",
		t.state.Step, m["loss"], m["perplexity"], 100*m["token_accuracy"], m["bleu"], m["chrf"], 100*m["exact_match"], int(m["exact"]), int(m["sentences"]),
		time.Since(start).Seconds(), mark)
	fields := []progress.Field{progress.F("step", t.state.Step)}
	for _, k := range sortedKeys(m) {
		fields = append(fields, progress.F(k, m[k]))
	}
	t.Log.Event("valid", text, append(fields, progress.F("best", improved))...)
	if err := t.record("valid", m); err != nil {
		return false, err
	}
	if err := t.plotCurves(); err != nil {
		return false, err
	}
	rel, err := t.save()
	if err != nil {
		return false, err
	}
	if improved {
		if err := setPointer(t.Dir, BestFile, rel); err != nil {
			return false, err
		}
		pruneCheckpoints(t.Dir, tc.KeepCheckpoints, tc.KeepBest, tc.BestMetric)
	}
	return tc.Patience > 0 && t.state.Stale >= tc.Patience, nil
}

// Evaluate scores the current weights on pairs: teacher-forced loss,
// perplexity and token accuracy on all of them, and greedy exact match on
// the first maxSentences (0: all), with corpus BLEU and chrF of those
// translations against the raw references. Keys: loss, perplexity,
// token_accuracy, bleu, chrf, exact_match, exact, sentences.
func (t *Trainer) Evaluate(ctx context.Context, pairs []data.Pair, maxSentences int) (map[string]float64, error) {
	ex, _ := data.Encode(pairs, t.SrcTok, t.TgtTok, 0)
	batches, err := data.MakeBatches(ex, data.BatchOptions{MaxTokens: t.Config.Training.BatchTokens, BucketWidth: t.Config.Training.BucketWidth})
	if err != nil {
		return nil, err
	}
	var st TokenStats
	v := t.Model.Config.TgtVocab
	if maxSentences <= 0 || maxSentences > len(pairs) {
		maxSentences = len(pairs)
	}
	// Progress counts scored batches, then decoded sentences in chunks.
	const chunk = 256
	task := t.Log.Display().Start("evaluate", len(batches)+maxSentences, "items")
	defer task.Finish()
	for i, b := range batches {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		logits, err := t.translator.Logits(b.Src, b.DecoderInput(), b.Size, b.SrcLen, b.TgtLen)
		if err != nil {
			return nil, err
		}
		st.Add(graph.Float64s(logits), b.DecoderOutput(), v, t.Config.Training.LabelSmoothing)
		task.Update(i + 1)
	}
	var hyps []string
	for start := 0; start < maxSentences; start += chunk {
		end := min(start+chunk, maxSentences)
		h, err := translate.Greedy(ctx, t.translator, t.SrcTok, t.TgtTok, data.Sources(pairs[start:end]), t.Config.Decoding.Options(), 0, nil)
		if err != nil {
			return nil, err
		}
		hyps = append(hyps, h...)
		task.Update(len(batches) + end)
	}
	exact := 0
	refs := make([]string, len(hyps))
	for i, h := range hyps {
		refs[i] = pairs[i].Tgt
		if h == normalizeSpaces(pairs[i].Tgt) {
			exact++
		}
	}
	bleu, err := data.CorpusBLEU(hyps, [][]string{refs}, data.BLEUOptions{})
	if err != nil {
		return nil, err
	}
	chrf, err := data.CorpusChrF(hyps, [][]string{refs}, data.ChrFOptions{})
	if err != nil {
		return nil, err
	}
	return map[string]float64{"loss": st.Loss(), "perplexity": st.Perplexity(), "token_accuracy": st.Accuracy(),
		"bleu": bleu.Score, "chrf": chrf.Score,
		"exact_match": float64(exact) / float64(max(maxSentences, 1)), "exact": float64(exact), "sentences": float64(maxSentences)}, nil
}

func normalizeSpaces(s string) string { return strings.Join(strings.Fields(s), " ") }

// NewStepTrainer is a Trainer with no corpus or run directory, for
// TrainStep on batches made elsewhere (benchmarks).
func NewStepTrainer(c *Config, m *model.Transformer) *Trainer {
	t := &Trainer{Config: c, Model: m, Log: NewLogger(nil, nil)}
	t.initStep(8, 1)
	return t
}

// plotCurves redraws the run's own curves.png and curves.svg.
func (t *Trainer) plotCurves() error {
	recs, err := runlog.Read(t.Dir)
	if err != nil {
		return err
	}
	run := runlog.Curves{Name: filepath.Base(filepath.Clean(t.Dir)), Records: recs}
	if err := runlog.WriteCurves([]runlog.Curves{run}, filepath.Join(t.Dir, runlog.CurvesFile)); err != nil {
		return fmt.Errorf("drawing learning curves: %w", err)
	}
	return nil
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
