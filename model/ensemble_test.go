package model

import (
	"math"
	"reflect"
	"testing"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
)

// An ensemble of a model with itself decodes as the model does, greedily
// and by beam search.
func TestEnsembleOfOneModelIsTheModel(t *testing.T) {
	tr := beamModel(t)
	ens, err := NewEnsemble(tr, tr)
	if err != nil {
		t.Fatal(err)
	}
	opt := DecodeOptions{BatchSize: 2, MaxLenA: 1, MaxLenB: 4}
	want, _ := tr.Greedy(beamSrcs, opt)
	if got, err := ens.Greedy(beamSrcs, opt); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("greedy: ensemble %v (%v), model %v", got, err, want)
	}
	bo := BeamOptions{DecodeOptions: opt, Beam: 3, NBest: 3, Alpha: 0.6}
	wb, _ := tr.Beam(beamSrcs, bo)
	gb, err := ens.Beam(beamSrcs, bo)
	if err != nil {
		t.Fatal(err)
	}
	for i := range wb {
		for r := range wb[i] {
			if !reflect.DeepEqual(nonNil(gb[i][r].Tokens), nonNil(wb[i][r].Tokens)) || math.Abs(gb[i][r].Score-wb[i][r].Score) > 1e-9 {
				t.Errorf("beam sentence %d, hypothesis %d: ensemble %+v, model %+v", i, r, gb[i][r], wb[i][r])
			}
		}
	}
}

// An ensemble of two models picks, at the first step, the token with the
// highest mean log-probability of the two.
func TestEnsembleAveragesLogProbabilities(t *testing.T) {
	c := tinyConfig(true)
	a, b := peakedTranslator(t, c, 3, 3), peakedTranslator(t, c, 4, 3)
	ens, err := NewEnsemble(a, b)
	if err != nil {
		t.Fatal(err)
	}
	src := []int{4, 5, 6}
	out, err := ens.Greedy([][]int{src}, DecodeOptions{MaxLen: 1})
	if err != nil {
		t.Fatal(err)
	}
	v := c.TgtVocab
	mean := make([]float64, v)
	for _, m := range []*Translator{a, b} {
		l, err := m.Logits(append(append([]int{}, src...), data.EosID), []int{data.BosID}, 1, len(src)+1, 1)
		if err != nil {
			t.Fatal(err)
		}
		addLogSoftmax(mean, graph.Float64s(l), 0.5)
	}
	if want := argmax(mean); len(out[0]) != 1 && want != data.EosID || len(out[0]) == 1 && out[0][0] != want {
		t.Errorf("ensemble's first token %v, the highest mean log-probability is token %d (%v)", out[0], want, mean)
	}
	if _, err := NewEnsemble(a, peakedTranslator(t, tinyConfigVocab(c, 11), 5, 1)); err == nil {
		t.Error("an ensemble of two vocabularies was accepted")
	}
}

func tinyConfigVocab(c Config, tgt int) Config {
	c.TgtVocab = tgt
	return c
}
