package translate

import (
	"context"
	"fmt"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/viz"
)

// AttentionView is one sentence, the model's greedy translation of it, and
// every attention weight of the model on that pair, with token labels.
type AttentionView struct {
	Source, Translation string
	// SrcTokens label the encoder positions: the source tokens and </s>.
	SrcTokens []string
	// TgtIn label the decoder inputs: <s> and the output tokens.
	TgtIn []string
	// TgtOut label the decoder positions by the token each one predicts:
	// the output tokens and </s>.
	TgtOut []string
	Maps   *model.AttentionMaps
}

// Inspect translates sentence greedily with tr (tokenized by src, detokenized
// by tgt) and returns the attention weights of the model on the pair. A
// sentence of more than model.MaxAttentionTokens tokens, or more than the
// model takes, is refused; the translation is cut at
// model.MaxAttentionTokens tokens.
func Inspect(ctx context.Context, tr *model.Translator, srcTok, tgtTok *data.BPE, sentence string, opt model.DecodeOptions) (*AttentionView, error) {
	src := srcTok.Encode(sentence)
	if len(src) == 0 {
		return nil, fmt.Errorf("the sentence %q has no tokens", sentence)
	}
	if len(src) > model.MaxAttentionTokens {
		return nil, fmt.Errorf("the sentence has %d tokens; attention is drawn for at most %d", len(src), model.MaxAttentionTokens)
	}
	if pm := tr.Model.SrcPos.MaxLen(); pm > 0 && len(src) > pm-1 {
		return nil, fmt.Errorf("the sentence has %d tokens; the model has %d source positions", len(src), pm)
	}
	if opt.MaxLen > model.MaxAttentionTokens {
		opt.MaxLen = model.MaxAttentionTokens
	}
	out, err := tr.GreedyContext(ctx, [][]int{src}, opt)
	if err != nil {
		return nil, err
	}
	srcIDs := append(append([]int(nil), src...), data.EosID)
	tgtIn := append([]int{data.BosID}, out[0]...)
	maps, err := tr.Attention(srcIDs, tgtIn)
	if err != nil {
		return nil, err
	}
	return &AttentionView{
		Source:      sentence,
		Translation: tgtTok.Decode(out[0]),
		SrcTokens:   srcTok.Tokens(srcIDs),
		TgtIn:       tgtTok.Tokens(tgtIn),
		TgtOut:      tgtTok.Tokens(append(append([]int(nil), out[0]...), data.EosID)),
		Maps:        maps,
	}, nil
}

// labels returns the row and column labels of a kind of attention.
func (v *AttentionView) labels(kind string) (rows, cols []string) {
	switch kind {
	case model.EncoderSelf:
		return v.SrcTokens, v.SrcTokens
	case model.DecoderSelf:
		return v.TgtOut, v.TgtIn
	}
	return v.TgtOut, v.SrcTokens
}

var kindTitles = map[string]string{model.EncoderSelf: "encoder self-attention",
	model.DecoderSelf: "decoder self-attention", model.Cross: "cross-attention"}

// axes names what the rows and columns of a kind of attention are: a
// decoder position is labelled by the token it predicts, and it reads the
// one before (<s> first).
func axes(kind string) (rows, cols string) {
	const out = "query: output position (the token it predicts)"
	switch kind {
	case model.EncoderSelf:
		return "query: source token", "key: source token"
	case model.DecoderSelf:
		return out, "key: output position (the token it reads)"
	}
	return out, "key: source token"
}

// Map returns one head's weights with token labels, ready to draw.
func (v *AttentionView) Map(kind string, layer, head int) (viz.Map, error) {
	w, err := v.Maps.Matrix(kind, layer, head)
	if err != nil {
		return viz.Map{}, err
	}
	rows, cols := v.labels(kind)
	ra, ca := axes(kind)
	return viz.Map{Title: fmt.Sprintf("%s, layer %d, head %d", kindTitles[kind], layer, head), Rows: rows, Cols: cols, Weights: w,
		RowAxis: ra, ColAxis: ca}, nil
}

// Heads returns every head of one layer of a kind, for a grid.
func (v *AttentionView) Heads(kind string, layer int) ([]viz.Map, error) {
	heads := v.Maps.Heads()
	maps := make([]viz.Map, heads)
	for h := range maps {
		m, err := v.Map(kind, layer, h)
		if err != nil {
			return nil, err
		}
		maps[h] = m
	}
	return maps, nil
}

// Page returns the whole view for viz.HTML.
func (v *AttentionView) Page() (viz.Page, error) {
	p := viz.Page{Title: "Attention: " + v.Source, Source: v.Source, Translation: v.Translation}
	for _, kind := range []string{model.EncoderSelf, model.DecoderSelf, model.Cross} {
		ls, _ := v.Maps.Layers(kind)
		rows, cols := v.labels(kind)
		ra, ca := axes(kind)
		view := viz.View{Name: kindTitles[kind], Rows: rows, Cols: cols, RowAxis: ra, ColAxis: ca}
		for l := range ls {
			var heads [][][]float64
			for h := 0; h < v.Maps.Heads(); h++ {
				w, err := v.Maps.Matrix(kind, l, h)
				if err != nil {
					return viz.Page{}, err
				}
				heads = append(heads, w)
			}
			view.Weights = append(view.Weights, heads)
		}
		p.Views = append(p.Views, view)
	}
	return p, nil
}
