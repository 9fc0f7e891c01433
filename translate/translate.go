// Package translate turns sentences into translations with a trained
// model: it tokenizes them, decodes greedily or by beam search, and
// detokenizes the results; Inspect returns the attention of the model on
// one sentence and its translation, with token labels, ready to draw.
package translate

import (
	"context"
	"fmt"
	"strings"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/model"
)

// Hypothesis is one output of beam search, detokenized.
type Hypothesis struct {
	Text    string
	Score   float64 // log-probability divided by the length penalty
	LogProb float64
}

// encodeSources tokenizes sentences, cutting sources longer than maxSrc
// tokens (0: the model's limit), or than the model's limit
// (Transformer.MaxSourceLen), with a warning.
func encodeSources(tr *model.Translator, src *data.BPE, sentences []string, maxSrc int, warn func(i int, msg string)) [][]int {
	if most := tr.Model.MaxSourceLen(); maxSrc <= 0 || maxSrc > most {
		maxSrc = most
	}
	ids := make([][]int, len(sentences))
	for i, s := range sentences {
		ids[i] = src.Encode(s)
		if unk := src.Unknown(s); len(unk) > 0 && warn != nil {
			what := fmt.Sprintf("%d characters are", len(unk))
			if len(unk) == 1 {
				what = "1 character is"
			}
			warn(i, fmt.Sprintf("%s not in the source vocabulary (%s): the model reads them as <unk>, so the translation may be wrong", what, quoteAll(unk, 8)))
		}
		if maxSrc > 0 && len(ids[i]) > maxSrc {
			if warn != nil {
				warn(i, fmt.Sprintf("input of %d tokens truncated to %d", len(ids[i]), maxSrc))
			}
			ids[i] = ids[i][:maxSrc]
		}
	}
	return ids
}

// quoteAll quotes the first n strings of ss, comma-separated, and says how
// many more there are.
func quoteAll(ss []string, n int) string {
	var b strings.Builder
	for i, s := range ss[:min(n, len(ss))] {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", s)
	}
	if len(ss) > n {
		fmt.Fprintf(&b, " and %d more", len(ss)-n)
	}
	return b.String()
}

// Greedy tokenizes sentences, decodes them greedily and detokenizes the
// results, one output per input (an empty input gives an empty output).
// Sources longer than maxSrc tokens (0: the model's limit), or than the
// model's limit (Transformer.MaxSourceLen), are cut to fit; warn, if not
// nil, is told which. When ctx is done, decoding stops within one output
// position and Greedy returns ctx.Err().
func Greedy(ctx context.Context, tr *model.Translator, src, tgt *data.BPE, sentences []string, opt model.DecodeOptions, maxSrc int, warn func(i int, msg string)) ([]string, error) {
	ids := encodeSources(tr, src, sentences, maxSrc, warn)
	out, err := tr.GreedyContext(ctx, ids, opt)
	if err != nil {
		return nil, err
	}
	res := make([]string, len(out))
	for i, o := range out {
		if len(ids[i]) > 0 {
			res[i] = tgt.Decode(o)
		}
	}
	return res, nil
}

// Beam is Greedy with beam search: for each sentence, its opt.NBest
// translations, best first (an empty input gives one empty translation).
// It stops as Greedy does when ctx is done.
func Beam(ctx context.Context, tr *model.Translator, src, tgt *data.BPE, sentences []string, opt model.BeamOptions, maxSrc int, warn func(i int, msg string)) ([][]Hypothesis, error) {
	ids := encodeSources(tr, src, sentences, maxSrc, warn)
	out, err := tr.BeamContext(ctx, ids, opt)
	if err != nil {
		return nil, err
	}
	res := make([][]Hypothesis, len(out))
	for i, hyps := range out {
		if len(ids[i]) == 0 {
			res[i] = []Hypothesis{{}}
			continue
		}
		for _, h := range hyps {
			res[i] = append(res[i], Hypothesis{Text: tgt.Decode(h.Tokens), Score: h.Score, LogProb: h.LogProb})
		}
	}
	return res, nil
}
