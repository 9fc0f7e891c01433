// Package translate turns sentences into translations with a trained
// model: it tokenizes them, decodes greedily or by beam search, and
// detokenizes the results; Inspect returns the attention of the model on
// one sentence and its translation, with token labels, ready to draw.
package translate

import (
	"context"
	"fmt"

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
		if maxSrc > 0 && len(ids[i]) > maxSrc {
			if warn != nil {
				warn(i, fmt.Sprintf("input of %d tokens truncated to %d", len(ids[i]), maxSrc))
			}
			ids[i] = ids[i][:maxSrc]
		}
	}
	return ids
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
