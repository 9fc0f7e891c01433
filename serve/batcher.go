package serve

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gotransformer/transformer/inference"
)

// A Translator is what the server serves; *inference.Model is one. The
// server calls it from one goroutine per model, never concurrently.
type Translator interface {
	// Translate translates sentences (see inference.Model.Translate).
	Translate(ctx context.Context, sentences []string, opt inference.Options) ([]inference.Result, error)
	// SourceTokens is the number of tokens sentence encodes to.
	SourceTokens(sentence string) int
}

// job is one request's sentences, waiting for its batch.
type job struct {
	ctx       context.Context
	sentences []string
	opt       inference.Options
	tokens    int
	done      chan jobResult // buffered: the worker never waits on it
}

type jobResult struct {
	res []inference.Result
	err error
}

// worker owns one model: it gathers the jobs that arrive within a short
// window into one decoding batch per set of decoding options.
type worker struct {
	name    string
	tr      Translator
	lim     Limits
	jobs    chan *job
	metrics *metrics
}

// run serves jobs until ctx ends.
func (w *worker) run(ctx context.Context) {
	var next *job
	for {
		first := next
		next = nil
		if first == nil {
			select {
			case first = <-w.jobs:
			case <-ctx.Done():
				return
			}
		}
		var batch []*job
		batch, next = w.gather(first)
		for _, group := range groupByOptions(batch) {
			w.decode(ctx, group)
		}
	}
}

// gather collects first, the jobs queued behind it and those that arrive
// within the batch window, up to the batch's sentence and token limits; a
// job that would pass them is returned as next, to start the following
// batch. Under load, batches form without a window: requests queue while
// the previous batch decodes.
func (w *worker) gather(first *job) (batch []*job, next *job) {
	sentences, tokens := 0, 0
	add := func(j *job) bool {
		if !w.admit(j) {
			return true // answered already; keep gathering
		}
		if len(batch) > 0 && (sentences+len(j.sentences) > w.lim.MaxBatchSentences || tokens+j.tokens > w.lim.MaxBatchTokens) {
			next = j
			return false
		}
		batch = append(batch, j)
		sentences += len(j.sentences)
		tokens += j.tokens
		return sentences < w.lim.MaxBatchSentences && tokens < w.lim.MaxBatchTokens
	}
	if !add(first) {
		return batch, next
	}
	// Take what queued while the last batch was decoding, then wait out
	// the window for more.
	for {
		select {
		case j := <-w.jobs:
			if !add(j) {
				return batch, next
			}
			continue
		default:
		}
		break
	}
	if w.lim.BatchWindow <= 0 {
		return batch, next
	}
	timer := time.NewTimer(w.lim.BatchWindow)
	defer timer.Stop()
	for {
		select {
		case j := <-w.jobs:
			if !add(j) {
				return batch, next
			}
		case <-timer.C:
			return batch, next
		}
	}
}

// admit counts a job's tokens and answers it at once when a sentence is
// longer than the model takes or the request has already ended.
func (w *worker) admit(j *job) bool {
	if j.ctx.Err() != nil {
		j.done <- jobResult{err: j.ctx.Err()}
		return false
	}
	j.tokens = 0
	for i, s := range j.sentences {
		n := w.tr.SourceTokens(s)
		if n > w.lim.MaxTokens {
			j.done <- jobResult{err: badField(fmt.Sprintf("sentences[%d]", i), "%d tokens, more than the %d a sentence may have", n, w.lim.MaxTokens)}
			return false
		}
		if j.opt.Attention && n == 0 {
			j.done <- jobResult{err: badField(fmt.Sprintf("sentences[%d]", i), "has no tokens: attention needs a sentence")}
			return false
		}
		if j.opt.Attention && n > w.lim.MaxAttentionTokens {
			j.done <- jobResult{err: badField(fmt.Sprintf("sentences[%d]", i), "%d tokens, more than the %d a sentence may have when attention is asked for", n, w.lim.MaxAttentionTokens)}
			return false
		}
		j.tokens += n + 1 // and </s>
	}
	return true
}

// groupByOptions splits a batch into runs of jobs with equal decoding
// options, in order of arrival. A job that asks for attention is a group
// of its own: its reply is large, and an error in it stays its own.
func groupByOptions(batch []*job) [][]*job {
	var groups [][]*job
	index := map[inference.Options]int{}
	for _, j := range batch {
		if j.opt.Attention {
			groups = append(groups, []*job{j})
			continue
		}
		i, ok := index[j.opt]
		if !ok {
			i = len(groups)
			index[j.opt] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], j)
	}
	return groups
}

// decode translates the sentences of jobs with equal options as one batch.
// The batch stops early only when every one of its requests has ended.
func (w *worker) decode(ctx context.Context, jobs []*job) {
	var live []*job
	var sentences []string
	for _, j := range jobs {
		if j.ctx.Err() != nil {
			j.done <- jobResult{err: j.ctx.Err()}
			continue
		}
		live = append(live, j)
		sentences = append(sentences, j.sentences...)
	}
	if len(live) == 0 {
		return
	}
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	left := int32(len(live))
	for _, j := range live {
		stop := context.AfterFunc(j.ctx, func() {
			if atomic.AddInt32(&left, -1) == 0 {
				cancel()
			}
		})
		defer stop()
	}
	opt := live[0].opt
	opt.BatchSize = len(sentences)
	start := time.Now()
	res, err := w.tr.Translate(bctx, sentences, opt)
	w.metrics.batch(w.name, len(sentences), time.Since(start))
	at := 0
	for _, j := range live {
		if err != nil {
			j.done <- jobResult{err: err}
			continue
		}
		j.done <- jobResult{res: res[at : at+len(j.sentences)]}
		at += len(j.sentences)
	}
}
