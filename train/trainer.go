package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/runlog"
)

// Trainer runs one training run of a Task: Adam with the configured
// learning-rate schedule, global-norm clipping, periodic validation that
// keeps the best checkpoint, checkpoints from which a run resumes exactly,
// logs and metrics.jsonl.
type Trainer struct {
	Task    Task
	Options rundir.Options
	Log     *Logger
	Dir     string

	opt        *Adam
	sched      rundir.Schedule
	graphs     *graph.Cache
	dropoutRNG *graph.RNG
	dropout    graph.DropoutPool // one set of dropout-mask arrays for all graphs
	batches    []Batch           // the current epoch's batches
	state      rundir.State
	lastLoss   float64
	comm       Comm          // the other processes of a data-parallel run (nil: none)
	reduceTime time.Duration // spent summing gradients over the processes since the last log line
	rank       int           // this process's rank; only rank 0 writes and evaluates
	sum        *gradSum      // gradients summed over micro-batches and processes
	logFile    *os.File
	lock       *rundir.Lock
	clock      time.Time // when the run would have started had it never paused
}

// setup prepares a task once the run directory is locked and its log is
// open: it loads or generates the data, builds the model (reading the
// run's files from dir when resuming), logs what it did and, with write,
// writes its files (tokenizers) into the run directory.
type setup func(ctx context.Context, l *Logger, dir string, resume, write bool) (Task, error)

// start opens (or, with resume, reopens) the run directory o.OutDir,
// prepares the task, restores the latest checkpoint when resuming, and
// writes the resolved config that config returns.
func start(ctx context.Context, o rundir.Options, disp *progress.Display, resume bool, comm Comm, prepare setup, config func() ([]byte, error)) (*Trainer, error) {
	t := &Trainer{Options: o, Dir: o.OutDir, comm: comm}
	if comm != nil && comm.Size() > 1 && comm.Rank() > 0 {
		return startFollower(ctx, t, resume, prepare)
	}
	if resume {
		if !rundir.IsRun(t.Dir) {
			return nil, fmt.Errorf("cannot resume %s: it holds no run", t.Dir)
		}
	} else if err := rundir.CheckOutputDir(t.Dir, o.Overwrite); err != nil {
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
	lock, err := rundir.LockRun(t.Dir)
	if err != nil {
		return nil, err
	}
	t.lock = lock
	ok := false
	defer func() {
		// A run that could not start leaves nothing behind in a directory
		// it made (bad data, a model too big, ...).
		if !ok {
			if t.Task != nil {
				t.Task.Close()
			}
			if t.logFile != nil {
				t.logFile.Close()
			}
			lock.Release()
			if created != "" {
				os.RemoveAll(created)
			}
		}
	}()
	if !resume && rundir.IsRun(t.Dir) {
		// --overwrite, checked above; the lock now keeps others out.
		if err := rundir.RemoveRun(t.Dir); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(filepath.Join(t.Dir, rundir.LogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	t.logFile = f
	t.Log = NewLogger(disp, f)
	task, err := prepare(ctx, t.Log, t.Dir, resume, true)
	if err != nil {
		return nil, err
	}
	t.Task = task
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := t.initStep(48); err != nil {
		return nil, err
	}
	t.state = rundir.State{Seed: o.Seed, Metric: o.BestMetric}
	if resume {
		if err := t.restore(); err != nil {
			return nil, err
		}
		if o.Steps < t.state.Step {
			return nil, fmt.Errorf("cannot resume %s: it is at step %d, past training.steps %d; give --steps above %d to train further",
				t.Dir, t.state.Step, o.Steps, t.state.Step)
		}
	}
	resolved, err := config()
	if err != nil {
		return nil, err
	}
	if err := model.WriteFileAtomic(filepath.Join(t.Dir, rundir.ConfigFile), resolved); err != nil {
		return nil, err
	}
	ok = true
	return t, nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// startFollower starts a process of rank > 0 of a data-parallel run: it
// prepares the same task (rank 0 writes the run directory; when resuming
// it reads it) and restores the same checkpoint, but writes nothing and
// logs nowhere.
func startFollower(ctx context.Context, t *Trainer, resume bool, prepare setup) (*Trainer, error) {
	t.rank = t.comm.Rank()
	t.Log = NewLogger(nil, nil)
	task, err := prepare(ctx, t.Log, t.Dir, resume, false)
	if err != nil {
		return nil, err
	}
	t.Task = task
	if err := t.initStep(48); err != nil {
		return nil, err
	}
	t.state = rundir.State{Seed: t.Options.Seed, Metric: t.Options.BestMetric}
	if resume {
		if err := t.restore(); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// initStep makes what TrainStep needs besides the task: the optimizer,
// the schedule, the dropout generator and a cache of graphs.
func (t *Trainer) initStep(graphs int) error {
	o := t.Options
	t.opt = NewAdam(o.Beta1, o.Beta2, o.Eps)
	var err error
	if t.sched, err = rundir.NewSchedule(o.Schedule, o.LearningRate, o.Warmup, t.Task.ModelConfig().DModel); err != nil {
		return fmt.Errorf("training.schedule: %w", err)
	}
	t.graphs = graph.NewCache(graphs)
	t.dropoutRNG = graph.NewRNG(o.Seed)
	return nil
}

// restore loads the latest checkpoint of the run directory.
func (t *Trainer) restore() error {
	st, m, err := rundir.Resume(t.Dir, t.Task.ModelConfig(), t.Task.Store())
	if err != nil {
		return err
	}
	t.opt.M, t.opt.V, t.opt.Step = m.M, m.V, m.Step
	if st.Metric != t.Options.BestMetric {
		st.Metric, st.BestStep, st.BestValue = t.Options.BestMetric, 0, 0
	}
	t.state = st
	t.dropoutRNG.State = st.DropoutRNG
	if t.rank > 0 {
		return nil
	}
	if was := max(st.Processes, 1); was != t.size() {
		t.Log.Printf("resuming with %d processes a run that %d trained: it continues, but not bitwise as it would have under %d", t.size(), was, was)
	}
	if err := runlog.Cut(t.Dir, st.Step); err != nil {
		return err
	}
	t.Log.Printf("resumed from step %d, epoch %d, batch %d", st.Step, st.Epoch, st.Pos)
	return nil
}

// Close releases compiled graphs, the log file and the run's lock.
func (t *Trainer) Close() {
	t.graphs.Clear()
	t.Task.Close()
	if t.logFile != nil {
		t.logFile.Close()
	}
	t.lock.Release()
}

// stepGraph is the training graph of one batch shape.
type stepGraph struct {
	*lossGraph
	bind func(Batch, int) error
}

// graphOptions are the training graphs' build options from the config.
func (t *Trainer) graphOptions() GraphOptions {
	return GraphOptions{Checkpointing: t.Options.CheckpointActivations, Composed: t.Options.ComposedOps,
		Precision: t.Options.Precision(), LossScale: t.scaling()}
}

func (t *Trainer) stepGraphFor(batch Batch) (*stepGraph, error) {
	key := "train/" + batch.Shape()
	c, err := t.graphs.Get(key, func() (graph.Compiled, error) {
		s := &stepGraph{}
		var err error
		s.lossGraph, err = newLossGraph(t.Task.Store(), t.graphOptions(), func(b *graph.Builder) *G.Node {
			var loss *G.Node
			loss, s.bind = t.Task.Objective(b, batch)
			return loss
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
	Tokens   int // targets of the batch: tokens (translation) or sequences
	GradNorm float64
	LR       float64
	Skipped  bool // the batch was not finite and on_nonfinite is skip
}

// TrainStep makes one optimizer update from batches, the micro-batches
// this process trains on: it runs forward and backward on each, sums
// their gradients (over the processes too, in data-parallel training),
// with the loss normalised by all their targets, and updates the weights.
func (t *Trainer) TrainStep(batches ...Batch) (StepResult, error) {
	n := 0
	for _, b := range batches {
		n += b.Targets()
	}
	total, err := t.sumInt(n)
	if err != nil {
		return StepResult{}, err
	}
	micro := t.comm != nil || len(batches) > 1
	if micro && t.sum == nil {
		t.sum = newGradSum(t.Task.Store())
	}
	var loss float64
	var params, grads []Param
	for i, b := range batches {
		if micro {
			// Each micro-batch draws its dropout masks from its own
			// generator, whichever process trains it.
			t.dropoutRNG.State = microSeed(t.Options.Seed, t.state.Step, t.rank*len(batches)+i)
		}
		l, p, g, err := t.gradients(b, total)
		if err != nil {
			return StepResult{}, err
		}
		loss += l
		params, grads = p, g
		if micro {
			if err := t.sum.add(g, i == 0); err != nil {
				return StepResult{}, err
			}
		}
	}
	if micro {
		if t.comm != nil {
			began := time.Now()
			defer func() { t.reduceTime += time.Since(began) }()
			if err := t.sum.reduce(t.comm); err != nil {
				return StepResult{}, err
			}
			l := []float64{loss}
			if err := t.comm.SumFloat64(l); err != nil {
				return StepResult{}, err
			}
			loss = l[0]
		}
		grads = t.sum.grads(params)
	}
	t.unscale(grads)
	t.state.Step++
	t.state.MicroBatches += len(batches) * t.size()
	lr := t.sched.Rate(t.opt.Step + 1)
	norm, finite, err := update(t.opt, params, grads, loss, t.Options.ClipNorm, lr)
	if err != nil {
		return StepResult{}, err
	}
	// float16's loss scaling answers for gradients that overflow under a
	// finite loss; a loss that is not finite does not depend on the scale
	// and goes to training.on_nonfinite like any other.
	if lossFinite := !math.IsNaN(loss) && !math.IsInf(loss, 0); t.scaling() && lossFinite {
		if err := t.adjustScale(finite); err != nil {
			return StepResult{}, err
		}
		if !finite {
			t.state.Skipped++
			return StepResult{Loss: loss, Tokens: total, GradNorm: norm, Skipped: true}, nil
		}
	}
	if !finite {
		if t.Options.OnNonFinite != "skip" {
			last, _ := rundir.ReadPointer(t.Dir, rundir.LatestFile)
			return StepResult{}, &NonFiniteError{Step: t.state.Step, Loss: loss, Norm: norm, Last: last}
		}
		t.state.Skipped++
		t.Log.Printf("step %d: skipped a batch whose loss or gradient is not finite (loss %v, gradient norm %v)", t.state.Step, loss, norm)
		return StepResult{Loss: loss, Tokens: total, GradNorm: norm, Skipped: true}, nil
	}
	t.lastLoss = loss
	return StepResult{Loss: loss, Tokens: total, GradNorm: norm, LR: lr}, nil
}

// size is the number of processes training the run.
func (t *Trainer) size() int {
	if t.comm == nil {
		return 1
	}
	return t.comm.Size()
}

// gradients runs forward and backward on batch, its loss normalised by
// norm targets, and returns the loss, the parameters and their gradients
// in the same order. The gradients stay valid until the next step.
func (t *Trainer) gradients(batch Batch, norm int) (loss float64, params, grads []Param, err error) {
	s, err := t.stepGraphFor(batch)
	if err != nil {
		return 0, nil, nil, err
	}
	if err = s.bind(batch, norm); err != nil {
		return 0, nil, nil, err
	}
	return s.run(&t.dropout, t.dropoutRNG, t.lossScale())
}

// nextUpdate returns the micro-batches of the next update this process
// trains on: every process walks the same seeded batch order, and of each
// update's Accumulate × processes batches, rank r takes the r-th run of
// Accumulate.
func (t *Trainer) nextUpdate() ([]Batch, error) {
	k := t.Options.Accumulate
	mine := make([]Batch, 0, k)
	for j := 0; j < k*t.size(); j++ {
		b, err := t.nextBatch()
		if err != nil {
			return nil, err
		}
		if j/k == t.rank {
			mine = append(mine, b)
		}
	}
	return mine, nil
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

// Result is what a finished run reports.
type Result struct {
	Steps    int
	Duration time.Duration
	Best     rundir.State
	// Loss is the training loss of the last step.
	Loss float64
	// Interrupted is set when the context ended the run early; a checkpoint
	// was saved and the run can be resumed.
	Interrupted bool
	// Test metrics of the best checkpoint (empty without a test set, or when
	// interrupted).
	Test map[string]float64
}

// nextBatch returns the next training batch, starting a new epoch (with
// its own order, from the seed and the epoch number) when one ends.
func (t *Trainer) nextBatch() (Batch, error) {
	for t.batches == nil || t.state.Pos >= len(t.batches) {
		if t.batches != nil || t.state.Epoch == 0 {
			t.state.Epoch++
			t.state.Pos = 0
		}
		var err error
		first := t.batches == nil
		if t.batches, err = t.Task.Epoch(t.state.Epoch); err != nil {
			return nil, err
		}
		if len(t.batches) == 0 {
			return nil, fmt.Errorf("%s: epoch %d has no training batch", t.Dir, t.state.Epoch)
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
	o := t.Options
	start := time.Now()
	startStep := t.state.Step
	spent := time.Duration(t.state.TrainSeconds * float64(time.Second))
	t.clock = start.Add(-spent)
	t.Log.Printf("training for %d steps (max time %v), run directory %s", o.Steps, o.MaxTime, t.Dir)
	if spent > 0 {
		t.Log.Printf("resumed at step %d after %v of training", startStep, spent.Round(time.Second))
	}
	var lossSum float64
	var tokSum, logSteps int
	var last StepResult // the latest step's, for the line of a last partial interval
	lastLog := time.Now()
	stop := "reached training.steps"
	validated := -1
	var bar *progress.Task
	var barFields []progress.Field
	if t.Log.Display().Mode() == progress.Bar {
		bar = t.Log.Display().StartFrom("train", startStep, o.Steps, "steps")
		defer bar.Finish()
	}
loop:
	for t.state.Step < o.Steps {
		// Every process stops at the same step, whichever saw the reason.
		stopNow, err := t.agree(ctx.Err() != nil, o.MaxTime > 0 && time.Since(t.clock) > o.MaxTime)
		if err != nil {
			return nil, err
		}
		if stopNow[0] {
			if bar != nil {
				bar.Finish(barFields...) // before the messages, or they would redraw it
			}
			return t.interrupt(start)
		}
		if stopNow[1] {
			stop = fmt.Sprintf("reached training.max_time (%v)", o.MaxTime)
			break
		}
		batches, err := t.nextUpdate()
		if err != nil {
			return nil, err
		}
		r, err := t.TrainStep(batches...)
		if err != nil {
			return nil, err
		}
		lossSum += r.Loss
		tokSum += r.Tokens
		logSteps++
		if bar != nil {
			barFields = []progress.Field{progress.F("epoch", t.state.Epoch), progress.F("step loss", r.Loss), progress.F("lr", r.LR)}
			bar.Update(t.state.Step, barFields...)
		}
		last = r
		if t.state.Step%o.LogEvery == 0 || t.state.Step == startStep+1 || t.state.Step == o.Steps {
			el := time.Since(lastLog).Seconds()
			done := t.state.Step - startStep
			eta := time.Duration(float64(time.Since(start)) / float64(done) * float64(o.Steps-t.state.Step))
			if err := t.logTrain(lossSum/float64(logSteps), r, float64(tokSum)/el, logSteps, el, eta); err != nil {
				return nil, err
			}
			lossSum, tokSum, logSteps, lastLog = 0, 0, 0, time.Now()
		}
		switch {
		case t.state.Step%o.ValidEvery == 0:
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
				stop = fmt.Sprintf("no better %s in %d validations (training.patience)", o.BestMetric, o.Patience)
				break loop
			}
		case o.SaveEvery > 0 && t.state.Step%o.SaveEvery == 0:
			if _, err := t.save(); err != nil {
				return nil, err
			}
		}
	}
	if bar != nil {
		bar.Finish(barFields...)
	}
	if logSteps > 0 { // the steps since the last line (a stop by time or patience)
		el := time.Since(lastLog).Seconds()
		if err := t.logTrain(lossSum/float64(logSteps), last, float64(tokSum)/el, logSteps, el, 0); err != nil {
			return nil, err
		}
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
	res := &Result{Steps: t.state.Step, Duration: time.Since(start), Best: t.state, Loss: t.lastLoss}
	if t.Task.Len("test") == 0 || t.rank > 0 {
		return res, nil
	}
	// The test figures are the best checkpoint's; the model keeps its
	// weights afterwards.
	best, err := rundir.LoadWeights(t.Dir, "best", t.Task.ModelConfig(), t.Task.Store())
	if err != nil {
		return nil, err
	}
	m, err := t.Task.Evaluate(ctx, "test", 0)
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
	t.Log.Printf("test (best checkpoint, step %d): %s", best.Step, t.Task.Describe(m))
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
	return &Result{Steps: t.state.Step, Duration: time.Since(start), Best: t.state, Loss: t.lastLoss, Interrupted: true}, nil
}

// logTrain logs a training interval and records it in metrics.jsonl.
func (t *Trainer) logTrain(loss float64, r StepResult, tokPerSec float64, steps int, wall float64, eta time.Duration) error {
	o := t.Options
	updates, comm := "", ""
	if per := o.Accumulate * t.size(); per > 1 {
		updates = fmt.Sprintf(" (%d micro-batches, %d per update)", t.state.MicroBatches, per)
	}
	values := map[string]float64{"loss": loss, "lr": r.LR, "grad_norm": r.GradNorm, "tgt_tokens_per_s": tokPerSec,
		"micro_batches": float64(t.state.MicroBatches)}
	if t.comm != nil {
		// The all-reduce's time per update since the last line, and its
		// share of the wall time.
		per := t.reduceTime.Seconds() / float64(max(steps, 1))
		values["allreduce_s"], values["allreduce_share"] = per, t.reduceTime.Seconds()/max(wall, 1e-9)
		comm = fmt.Sprintf(" | all-reduce %.1f ms/step (%.1f%%)", 1e3*per, 100*values["allreduce_share"])
		t.reduceTime = 0
	}
	if t.scaling() {
		values["loss_scale"] = t.lossScale()
		comm += fmt.Sprintf(" | loss scale %g", t.lossScale())
	}
	mean := "this step"
	if steps > 1 {
		mean = fmt.Sprintf("mean of %d steps", steps)
	}
	text := fmt.Sprintf("step %d/%d%s | epoch %d | loss %.4f (%s) | lr %.3e | grad norm %.3f | %.0f %s/s%s | eta %s",
		t.state.Step, o.Steps, updates, t.state.Epoch, loss, mean, r.LR, r.GradNorm, tokPerSec, t.Task.Unit(), comm, progress.Clock(eta))
	t.Log.Event("train", text, progress.F("step", t.state.Step), progress.F("steps", o.Steps), progress.F("epoch", t.state.Epoch),
		progress.F("loss", loss), progress.F("lr", r.LR), progress.F("grad_norm", r.GradNorm),
		progress.F("tgt_tokens_per_s", tokPerSec), progress.F("eta_s", eta.Seconds()), progress.F("micro_batches", t.state.MicroBatches))
	return t.record("train", values)
}

// record appends figures to metrics.jsonl.
func (t *Trainer) record(kind string, values map[string]float64) error {
	if t.rank > 0 {
		return nil
	}
	err := runlog.Append(t.Dir, runlog.Record{Kind: kind, Step: t.state.Step, Epoch: t.state.Epoch, Time: time.Now(), Values: values})
	if err != nil {
		return fmt.Errorf("writing %s: %w", runlog.MetricsFile, err)
	}
	return nil
}

// save writes a checkpoint of the current step and prunes old ones.
func (t *Trainer) save() (string, error) {
	if t.rank > 0 {
		return "", nil
	}
	t.state.DropoutRNG = t.dropoutRNG.State
	t.state.Processes = 0 // one
	if t.size() > 1 {
		t.state.Processes = t.size()
	}
	if !t.clock.IsZero() {
		t.state.TrainSeconds = time.Since(t.clock).Seconds()
	}
	rel, err := rundir.Save(t.Dir, t.Task.Store(), rundir.Moments{M: t.opt.M, V: t.opt.V, Step: t.opt.Step}, t.state,
		t.Task.ModelConfig(), t.Task.Tokenizers()...)
	if err != nil {
		return "", err
	}
	t.state.AdamStep = t.opt.Step
	rundir.Prune(t.Dir, t.Options.KeepCheckpoints, t.Options.KeepBest, t.Options.BestMetric)
	return rel, nil
}

// validateAndSave validates, saves a checkpoint, and points best at it if
// the chosen metric improved. It reports when training.patience
// validations have passed without improvement.
func (t *Trainer) validateAndSave(ctx context.Context) (patienceOut bool, err error) {
	if t.comm != nil {
		if err := t.checkReplicas(); err != nil {
			return false, err
		}
		if t.rank > 0 {
			out, err := t.agree(false)
			return err == nil && out[0], err
		}
		out, err := t.validateRank0(ctx)
		if err != nil {
			return false, err
		}
		agreed, err := t.agree(out)
		return err == nil && agreed[0], err
	}
	return t.validateRank0(ctx)
}

// checkReplicas stops a data-parallel run whose processes' weights are no
// longer bitwise equal (they apply the same update, so they must be).
func (t *Trainer) checkReplicas() error {
	lo, hi, err := t.comm.MinMaxUint64(checksum(t.Task.Store()))
	if err != nil {
		return err
	}
	if lo != hi {
		return fmt.Errorf("step %d: the weights of the %d processes differ (checksums %016x … %016x): the run is stopped; its last checkpoint is intact", t.state.Step, t.comm.Size(), lo, hi)
	}
	return nil
}

// validateRank0 is validateAndSave on the process that validates.
func (t *Trainer) validateRank0(ctx context.Context) (patienceOut bool, err error) {
	o := t.Options
	start := time.Now()
	m, err := t.Task.Evaluate(ctx, "valid", o.ValidSentences)
	if err != nil {
		return false, err
	}
	t.state.Valid, t.state.ValidStep = m, t.state.Step
	sign, _ := rundir.MetricSign(o.BestMetric)
	value := m[o.BestMetric] * sign
	improved := t.state.BestStep == 0 || value > t.state.BestValue
	mark := ""
	if improved {
		t.state.BestValue, t.state.BestStep, t.state.Stale = value, t.state.Step, 0
		mark = " (best)"
	} else {
		t.state.Stale++
	}
	text := fmt.Sprintf("valid step %d: %s | %.1fs%s", t.state.Step, t.Task.Describe(m), time.Since(start).Seconds(), mark)
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
		if err := rundir.SetPointer(t.Dir, rundir.BestFile, rel); err != nil {
			return false, err
		}
		rundir.Prune(t.Dir, o.KeepCheckpoints, o.KeepBest, o.BestMetric)
	}
	return o.Patience > 0 && t.state.Stale >= o.Patience, nil
}

// plotCurves redraws the run's own curves.png and curves.svg.
func (t *Trainer) plotCurves() error {
	recs, err := runlog.Read(t.Dir)
	if err != nil {
		return err
	}
	run := runlog.Curves{Name: filepath.Base(filepath.Clean(t.Dir)), Records: recs, Metric: t.Options.BestMetric}
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
