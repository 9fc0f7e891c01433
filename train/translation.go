package train

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/sysmem"
	"github.com/gotransformer/transformer/translate"
)

// Translation is the translation task: an encoder-decoder Transformer
// trained with label-smoothed cross-entropy on sentence pairs, validated
// by teacher-forced loss and greedy decoding (BLEU, chrF, exact match).
type Translation struct {
	Config         *rundir.Config
	Corpus         *Corpus
	SrcTok, TgtTok *data.BPE
	Model          *model.Transformer

	trainEx    []data.Example
	translator *model.Translator
	targets    graph.Scratch // one loss-target array shared by the cached graphs
	log        *Logger
}

// NewTrainer prepares a new translation run: it loads or generates the
// corpus, learns the tokenizers, builds the model and creates the run
// directory with the resolved config and the tokenizers. Messages and
// progress go to disp (nil: nowhere) and, as plain lines, to train.log in
// the run directory; figures go to metrics.jsonl. When ctx ends while it
// prepares, it stops and returns ctx.Err().
func NewTrainer(ctx context.Context, c *rundir.Config, disp *progress.Display) (*Trainer, error) {
	return startTranslation(ctx, c, disp, false, nil)
}

// ResumeTrainer continues the translation run in c.Training.OutDir from
// its latest checkpoint: weights, optimizer moments, step, data position
// and random state are restored, so that the run goes on exactly as if it
// had not stopped. c is the run's config (from its config.yaml, possibly
// with more steps).
func ResumeTrainer(ctx context.Context, c *rundir.Config, disp *progress.Display) (*Trainer, error) {
	return startTranslation(ctx, c, disp, true, nil)
}

// NewDataParallelTrainer is NewTrainer (or, with resume, ResumeTrainer)
// for one of the processes of a data-parallel run that comm connects:
// every process walks the same seeded batches and trains on its share of
// each update, the gradients are summed over all of them, and every
// process applies the same update. Rank 0 alone writes the run directory,
// logs and validates; when resuming, every process reads the run
// directory, so it must be on a shared file system.
func NewDataParallelTrainer(ctx context.Context, c *rundir.Config, disp *progress.Display, comm Comm, resume bool) (*Trainer, error) {
	return startTranslation(ctx, c, disp, resume, comm)
}

func startTranslation(ctx context.Context, c *rundir.Config, disp *progress.Display, resume bool, comm Comm) (*Trainer, error) {
	prepare := func(ctx context.Context, l *Logger, dir string, resume, write bool) (Task, error) {
		t, err := newTranslation(ctx, c, l, dir, resume, write)
		if err != nil {
			return nil, err // not a Task holding a nil *Translation
		}
		return t, nil
	}
	return start(ctx, c.Training, disp, resume, comm, prepare, c.Marshal)
}

// Translation returns the trainer's task when it is translation (nil
// otherwise).
func (t *Trainer) Translation() *Translation {
	tr, _ := t.Task.(*Translation)
	return tr
}

func newTranslation(ctx context.Context, c *rundir.Config, l *Logger, dir string, resume, write bool) (*Translation, error) {
	t := &Translation{Config: c, log: l}
	var err error
	if t.Corpus, err = LoadCorpus(c); err != nil {
		return nil, err
	}
	l.Printf("data: %d train, %d valid, %d test pairs", len(t.Corpus.Train), len(t.Corpus.Valid), len(t.Corpus.Test))
	if resume {
		ck, err := rundir.LoadRun(dir)
		if err != nil {
			return nil, err
		}
		t.SrcTok, t.TgtTok = ck.SrcTok, ck.TgtTok
	} else if t.SrcTok, t.TgtTok, err = LearnTokenizers(ctx, c, t.Corpus.Train, l.Display()); err != nil {
		return nil, err
	}
	l.Printf("tokenizers: source %d tokens (%d merges), target %d tokens (%d merges)",
		t.SrcTok.Size(), len(t.SrcTok.Merges), t.TgtTok.Size(), len(t.TgtTok.Merges))
	var dropped int
	t.trainEx, dropped = data.Encode(t.Corpus.Train, t.SrcTok, t.TgtTok, c.Data.MaxLen)
	if dropped > 0 {
		l.Printf("dropped %d training pairs that are empty or longer than data.max_len=%d tokens", dropped, c.Data.MaxLen)
	}
	if c.Data.MaxRatio > 0 {
		t.trainEx, dropped = data.FilterRatio(t.trainEx, c.Data.MaxRatio)
		if dropped > 0 {
			l.Printf("dropped %d training pairs whose lengths differ by more than data.max_ratio=%g", dropped, c.Data.MaxRatio)
		}
	}
	if len(t.trainEx) == 0 {
		return nil, fmt.Errorf("%s: no training pair is left after filtering", c.Path)
	}
	if p := c.MemoryProblems(t.SrcTok.Size(), t.TgtTok.Size(), sysmem.Available()); len(p) > 0 {
		return nil, p[0]
	}
	l.Printf("memory: %v (available: %v)", c.EstimateMemory(t.SrcTok.Size(), t.TgtTok.Size()), sysmem.Available())
	mc := c.Model
	mc.SrcVocab, mc.TgtVocab = t.SrcTok.Size(), t.TgtTok.Size()
	if t.Model, err = model.New(mc, rundir.DtypeOf(c.Training.Dtype), c.Training.Seed); err != nil {
		return nil, fmt.Errorf("%s: model: %w", c.Path, err)
	}
	c.Model = mc
	counts := t.Model.ParamCounts()
	l.Printf("model: %d parameters (encoder %d, decoder %d), d_model %d, %d heads, %d+%d layers",
		counts["total"], counts["encoder"], counts["decoder"], mc.DModel, mc.Heads, mc.EncoderLayers, mc.DecoderLayers)
	l.Printf("%d training pairs, batches of ≤%d tokens", len(t.trainEx), c.Training.BatchTokens)
	t.translator = model.NewTranslator(t.Model, 64)
	if write && !resume {
		if err := t.SrcTok.Save(filepath.Join(dir, rundir.SrcTokenizerFile)); err != nil {
			return nil, err
		}
		if err := t.TgtTok.Save(filepath.Join(dir, rundir.TgtTokenizerFile)); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// NewStepTrainer is a Trainer of the translation model m with no corpus
// or run directory, for TrainStep on batches made elsewhere (benchmarks).
func NewStepTrainer(c *rundir.Config, m *model.Transformer) *Trainer {
	l := NewLogger(nil, nil)
	t := &Trainer{Options: c.Training, Log: l, Task: &Translation{Config: c, Model: m, translator: model.NewTranslator(m, 1), log: l}}
	if err := t.initStep(8); err != nil {
		panic(err) // a validated config names a schedule that exists
	}
	return t
}

// Store implements Task.
func (t *Translation) Store() *graph.Store { return t.Model.Store }

// ModelConfig implements Task.
func (t *Translation) ModelConfig() model.Config { return t.Config.Model }

// Tokenizers implements Task: checkpoints are tied to both tokenizer files.
func (t *Translation) Tokenizers() []string {
	return []string{rundir.SrcTokenizerFile, rundir.TgtTokenizerFile}
}

// Epoch implements Task: batches of about training.batch_tokens tokens of
// similar lengths, shuffled from the seed and the epoch number.
func (t *Translation) Epoch(e int) ([]Batch, error) {
	o := t.Config.Training
	bs, err := data.MakeBatches(t.trainEx, data.BatchOptions{MaxTokens: o.BatchTokens,
		BucketWidth: o.BucketWidth, Shuffle: true, Seed: o.Seed + int64(e) - 1})
	if err != nil {
		return nil, err
	}
	out := make([]Batch, len(bs))
	for i, b := range bs {
		out[i] = b
	}
	return out, nil
}

// Objective implements Task: the label-smoothed cross-entropy of the
// translator's output (Transformer.Objective), normalised by the batch's
// target tokens. The target is each token's gold id and weight (GoldCE);
// with the composed references (training.composed_ops), the dense
// smoothed distribution [N, V] and the composed cross-entropy.
func (t *Translation) Objective(b *graph.Builder, batch Batch) (*G.Node, func(Batch, int) error) {
	shape := batch.(*data.Batch)
	in := t.Model.NewInputs(b, shape.Size, shape.SrcLen, shape.TgtLen)
	eps, n := t.Config.Training.LabelSmoothing, shape.Size*shape.TgtLen
	var target, loss *G.Node
	if b.Composed {
		target = b.Input("target", n, t.Model.Config.TgtVocab)
		loss = t.Model.Objective(b, in, target, SmoothedCE)
	} else {
		target = b.Input("target", n, 2)
		loss = t.Model.Objective(b, in, target, GoldCE(eps))
	}
	bind := func(bb Batch, norm int) error {
		batch := bb.(*data.Batch)
		if err := in.Bind(batch.Src, batch.DecoderInput()); err != nil {
			return err
		}
		// The graphs of all batch shapes share one array for the targets,
		// which the fills overwrite whole.
		tt := t.targets.Tensor(t.Model.Store.Dtype(), target.Shape()...)
		if b.Composed {
			FillTargetsOver(tt, batch.DecoderOutput(), eps, norm)
		} else {
			FillGold(tt, batch.DecoderOutput(), norm)
		}
		return G.Let(target, tt)
	}
	return loss, bind
}

func (t *Translation) split(name string) []data.Pair {
	if name == "test" {
		return t.Corpus.Test
	}
	return t.Corpus.Valid
}

// Len implements Task.
func (t *Translation) Len(split string) int { return len(t.split(split)) }

// Evaluate implements Task with EvaluatePairs on the corpus's validation
// or test pairs (nil figures for an empty split).
func (t *Translation) Evaluate(ctx context.Context, split string, limit int) (map[string]float64, error) {
	pairs := t.split(split)
	if len(pairs) == 0 {
		return nil, nil
	}
	return t.EvaluatePairs(ctx, pairs, limit)
}

// Describe implements Task. BLEU reads n/a when the translations have no
// 4-grams at all (every sentence shorter than four tokens): it is then 0
// whatever they say.
func (t *Translation) Describe(m map[string]float64) string {
	return fmt.Sprintf("loss %.4f | perplexity %.3f | token accuracy %.2f%% | BLEU %s | chrF %.2f | exact match %.2f%% (%d/%d, greedy)",
		m["loss"], m["perplexity"], 100*m["token_accuracy"], BLEUText(m), m["chrf"], 100*m["exact_match"], int(m["exact"]), int(m["sentences"]))
}

// Unit implements Task: throughput is in target tokens.
func (t *Translation) Unit() string { return "tgt tok" }

// BLEUText is an evaluation's BLEU with two decimals, or "n/a" when its
// translations had no 4-grams.
func BLEUText(m map[string]float64) string {
	if n, ok := m["bleu_4grams"]; ok && n == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", m["bleu"])
}

// Close implements Task.
func (t *Translation) Close() {
	if t.translator != nil {
		t.translator.Close()
	}
}

// EvaluatePairs scores the current weights on pairs: teacher-forced loss,
// perplexity and token accuracy on all of them, and greedy exact match on
// the first maxSentences (0: all), with corpus BLEU and chrF of those
// translations against the raw references. Keys: loss, perplexity,
// token_accuracy, bleu, bleu_4grams (the translations' 4-grams: 0 makes BLEU
// meaningless), chrf, exact_match, exact, sentences.
func (t *Translation) EvaluatePairs(ctx context.Context, pairs []data.Pair, maxSentences int) (map[string]float64, error) {
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
	// Progress counts the scored batches, then the decoded sentences.
	const chunk = 256
	task := t.log.Display().Start("score", len(batches), "batches")
	defer func() { task.Finish() }()
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
	task.Finish()
	task = t.log.Display().Start("translate", maxSentences, "sentences")
	defer t.translator.DropArrays() // not kept through the training steps
	var hyps []string
	for start := 0; start < maxSentences; start += chunk {
		end := min(start+chunk, maxSentences)
		h, err := translate.Greedy(ctx, t.translator, t.SrcTok, t.TgtTok, data.Sources(pairs[start:end]), t.Config.Decoding.Options(), 0, nil)
		if err != nil {
			return nil, err
		}
		hyps = append(hyps, h...)
		task.Update(end)
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
		"bleu": bleu.Score, "bleu_4grams": float64(bleu.Total[3]), "chrf": chrf.Score,
		"exact_match": float64(exact) / float64(max(maxSentences, 1)), "exact": float64(exact), "sentences": float64(maxSentences)}, nil
}

func normalizeSpaces(s string) string { return strings.Join(strings.Fields(s), " ") }
