package rundir

import (
	"fmt"

	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/safeio"
	"github.com/gotransformer/transformer/sysmem"
)

// MemoryEstimate is the rough peak memory of a run, computed from the
// config's sizes before anything is allocated.
type MemoryEstimate struct {
	Params int64 // scalar parameters
	// Static is the weights, their gradients and Adam's two moments.
	Static int64
	// Activations is what one training step's graph holds: every layer's
	// activations and their gradients, attention weights and logits.
	Activations int64
	// Train and Decode are the estimated peaks of training and of
	// decoding (decoding.batch_size sentences × decoding.beam rows), both
	// at training's GC target: validation decodes inside training. The
	// commands that only decode run at Go's default target (GOGC=100),
	// whose heap may grow about 1.6 times as far past the live data.
	Train, Decode int64
}

// runtimeBase is the memory of the Go runtime, compiled graphs and the
// corpus, beside the tensors.
const runtimeBase = 150 << 20

// gcHeadroom is the heap the collector lets grow past the live tensors
// (GOGC=25 in the transformer command, plus fragmentation).
const gcHeadroom = 1.3

// EstimateMemory estimates the memory of training and decoding the config
// with vocabularies of the given sizes. The activation term counts, per
// token and layer, the projections, feed-forward and norm outputs and the
// attention weights' dropout mask (n per token and head for full attention,
// the window for sliding-window attention, none for chunked attention: the
// fused ops keep no weights), and three vocabulary rows per target
// token for logits, softmax and its gradient; measured peaks of the shipped
// configs are within a factor of 1.5 of it (TestMemoryEstimateMatchesRuns).
func (c *Config) EstimateMemory(srcVocab, tgtVocab int) MemoryEstimate {
	mc := c.Model
	mc.SrcVocab, mc.TgtVocab = srcVocab, tgtVocab
	b := int64(4)
	if c.Training.Dtype == "float64" {
		b = 8
	}
	var e MemoryEstimate
	e.Params = mc.ParamCount()
	e.Static = 4 * e.Params * b
	if c.Training.Accumulate > 1 {
		e.Static += e.Params * b // the gradients summed over the micro-batches
	}
	d, ff, h := int64(mc.DModel), int64(mc.FFDim), int64(mc.Heads)
	T := int64(c.Training.BatchTokens)
	n := min(int64(c.Data.MaxLen), T)
	span := func(a model.AttentionConfig) int64 { return int64(a.Spec(false).Keys(int(n))) }
	enc := int64(mc.EncoderLayers) * (12*d + 3*ff + h*span(mc.Encoder.Attention))
	dec := int64(mc.DecoderLayers) * (18*d + 3*ff + h*(span(mc.Decoder.Attention)+n))
	floats := T * (enc + dec + 3*int64(tgtVocab))
	e.Activations = 2 * floats * b
	e.Train = int64(gcHeadroom*float64(e.Static+e.Activations)) + runtimeBase

	dc := c.Decoding
	rows := int64(dc.BatchSize) * int64(max(dc.Beam, 1))
	out := int64(dc.MaxLen)
	// Per row: the key/value cache of every decoder layer over the output
	// and the source memory, the scores over the vocabulary, and the
	// encoder's activations over the source.
	perRow := int64(mc.DecoderLayers)*2*d*(out+n) + 2*int64(tgtVocab) + int64(mc.EncoderLayers)*n*(12*d+3*ff+3*h*n)
	e.Decode = int64(gcHeadroom*float64(e.Params*b+rows*perRow*b)) + runtimeBase
	return e
}

// MemoryProblems compares the estimate for the given vocabularies with the
// memory this process may use and returns a problem, naming the keys to
// change, when training or decoding would not fit. avail with Bytes 0
// (unknown) passes everything.
func (c *Config) MemoryProblems(srcVocab, tgtVocab int, avail sysmem.Limit) []error {
	if avail.Bytes <= 0 {
		return nil
	}
	e := c.EstimateMemory(srcVocab, tgtVocab)
	var out []error
	if e.Train > avail.Bytes {
		key, change := "training.batch_tokens", "lower training.batch_tokens, data.max_len or the model's sizes"
		if e.Static > e.Activations {
			key, change = "model.d_model", "lower model.d_model, ff_dim or the layer counts"
		}
		out = append(out, c.fieldError(key, "a training step needs about %s (%d parameters, %s of weights, gradients and Adam moments, %s of activations), more than the %s available: %s",
			safeio.Size(e.Train), e.Params, safeio.Size(e.Static), safeio.Size(e.Activations), avail, change))
	}
	if e.Decode > avail.Bytes {
		out = append(out, c.fieldError("decoding.batch_size", "decoding needs about %s, more than the %s available: lower decoding.batch_size, decoding.beam or decoding.max_len",
			safeio.Size(e.Decode), avail))
	}
	return out
}

// GuessMemory is EstimateMemory before the tokenizers are learned, with
// vocabularies guessed from the merges (their count plus a few hundred
// characters and special tokens).
func (c *Config) GuessMemory() MemoryEstimate {
	src, tgt := guessVocab(c.Data.SrcTokenizer.Merges), guessVocab(c.Data.TgtTokenizer.Merges)
	if c.Data.JointTokenizer {
		tgt = src
	}
	return c.EstimateMemory(src, tgt)
}

// guessVocab is the vocabulary size a tokenizer with this many merges is
// assumed to have before it is learned: the merges, the special tokens and
// a few hundred characters.
func guessVocab(merges int) int { return merges + 300 }

// String summarises the estimate for logs.
func (e MemoryEstimate) String() string {
	return fmt.Sprintf("%d parameters; estimated peak memory %s training, %s decoding", e.Params, safeio.Size(e.Train), safeio.Size(e.Decode))
}
