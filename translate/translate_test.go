package translate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/model"
)

// untrained is a small model with random weights over tokenizers learned
// from a few sentences: enough to check what the functions promise about
// shapes, limits and cancellation (not what they translate to).
func untrained(t *testing.T) (*model.Translator, *data.BPE, *data.BPE) {
	t.Helper()
	src := data.LearnBPE([]string{"one two three", "four five six"}, 4)
	tgt := data.LearnBPE([]string{"eins zwei drei", "vier fünf sechs"}, 4)
	c := model.DefaultConfig()
	c.DModel, c.Heads, c.FFDim, c.EncoderLayers, c.DecoderLayers, c.MaxPositions = 16, 2, 32, 1, 1, 16
	c.Positions = "learned"
	c.SrcVocab, c.TgtVocab = src.Size(), tgt.Size()
	m, err := model.New(c, tensor.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	tr := model.NewTranslator(m, 0)
	t.Cleanup(tr.Close)
	return tr, src, tgt
}

func TestGreedyAndBeamKeepOneOutputPerInput(t *testing.T) {
	tr, src, tgt := untrained(t)
	in := []string{"one two", "", strings.Repeat("three ", 40)}
	var warned []int
	warn := func(i int, msg string) {
		warned = append(warned, i)
		if !strings.Contains(msg, "truncated to") {
			t.Errorf("warning %q", msg)
		}
	}
	opt := model.DecodeOptions{BatchSize: 2, MaxLen: 6}
	out, err := Greedy(context.Background(), tr, src, tgt, in, opt, 0, warn)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 || out[1] != "" {
		t.Errorf("greedy: %q, want 3 outputs, the empty input's empty", out)
	}
	if len(warned) != 1 || warned[0] != 2 {
		t.Errorf("warned about inputs %v, want [2] (longer than the 15 tokens the model takes)", warned)
	}
	hyps, err := Beam(context.Background(), tr, src, tgt, in[:2], model.BeamOptions{DecodeOptions: opt, Beam: 3, NBest: 2}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(hyps) != 2 || len(hyps[0]) != 2 || len(hyps[1]) != 1 || hyps[1][0].Text != "" || hyps[0][0].Score < hyps[0][1].Score {
		t.Errorf("beam: %+v, want 2 hypotheses best first, and one empty one for the empty input", hyps)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Greedy(ctx, tr, src, tgt, in, opt, 0, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("greedy with a cancelled context: %v", err)
	}
}

func TestInspect(t *testing.T) {
	tr, src, tgt := untrained(t)
	v, err := Inspect(context.Background(), tr, src, tgt, "one two", model.DecodeOptions{MaxLen: 5})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(src.Encode("one two")) + 1; len(v.SrcTokens) != n || v.SrcTokens[n-1] != "</s>" || len(v.TgtIn) != len(v.TgtOut) || v.TgtIn[0] != "<s>" {
		t.Errorf("labels: src %q, tgt in %q, out %q", v.SrcTokens, v.TgtIn, v.TgtOut)
	}
	p, err := v.Page()
	if err != nil || len(p.Views) != 3 {
		t.Fatalf("page: %v, %d views", err, len(p.Views))
	}
	m, err := v.Map(model.Cross, 0, 1)
	if err != nil || len(m.Weights) != len(v.TgtOut) || len(m.Weights[0]) != len(v.SrcTokens) {
		t.Errorf("cross-attention map: %v, %dx?", err, len(m.Weights))
	}
	for _, bad := range []string{"", strings.Repeat("one ", 20)} {
		if _, err := Inspect(context.Background(), tr, src, tgt, bad, model.DecodeOptions{MaxLen: 5}); err == nil {
			t.Errorf("Inspect(%q...) accepted", bad[:min(len(bad), 8)])
		}
	}
}

// Characters the source vocabulary lacks are named in a warning for the
// line (issue 20: "Four Hundred" and "12" translated silently).
func TestUnknownCharactersWarn(t *testing.T) {
	tr, src, _ := untrained(t)
	var got []string
	ids := encodeSources(tr, src, []string{"four one", "Four One 12", ""}, 0, func(i int, msg string) {
		got = append(got, fmt.Sprintf("%d: %s", i, msg))
	})
	if len(ids) != 3 {
		t.Fatalf("%d encodings", len(ids))
	}
	want := `1: 4 characters are not in the source vocabulary ("F", "O", "1", "2"): the model reads them as <unk>, so the translation may be wrong`
	if len(got) != 1 || got[0] != want {
		t.Errorf("warnings %q, want [%q]", got, want)
	}
}
