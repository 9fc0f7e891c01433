package data

import (
	"math"
	"strings"
	"testing"
)

// Per-sentence statistics sum to the corpus score, and sentence BLEU
// uses the effective order, as sacreBLEU's sentence_bleu does.
func TestMetricRowsSumToCorpus(t *testing.T) {
	hyps := []string{"The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."}
	refs := [][]string{{"The dog bit the man.", "It was not unexpected.", "The man bit him first."}}
	b, err := BLEUMetric(hyps, refs, BLEUOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := CorpusBLEU(hyps, refs, BLEUOptions{})
	if b.Corpus() != want.Score {
		t.Errorf("metric %v, CorpusBLEU %v", b.Corpus(), want.Score)
	}
	s := b.Sentences()
	if math.Abs(s[0]-100) > 1e-9 {
		t.Errorf("identical sentence scores %v", s[0])
	}
	// sacreBLEU: sentence_bleu("It wasn't surprising.", ["It was not unexpected."]).score
	one, _ := BLEUMetric([]string{hyps[1]}, [][]string{{refs[0][1]}}, BLEUOptions{EffectiveOrder: true})
	if math.Abs(s[1]-one.Corpus()) > 1e-12 {
		t.Errorf("sentence BLEU %v, effective-order corpus BLEU of the one sentence %v", s[1], one.Corpus())
	}
	c, _ := ChrFMetric(hyps, refs, ChrFOptions{})
	cw, _ := CorpusChrF(hyps, refs, ChrFOptions{})
	if c.Corpus() != cw.Score || c.Name != "chrF2" {
		t.Errorf("chrF metric %v %s, CorpusChrF %v", c.Corpus(), c.Name, cw.Score)
	}
}

// A system that differs from the baseline in one sentence of 200 is not
// significantly different; a much better one has the smallest p the
// resamples allow; the interval holds the score; the same
// seed gives the same figures.
func TestPairedBootstrap(t *testing.T) {
	var refs, good, bad []string
	for i := 0; i < 200; i++ {
		r := strings.Repeat("word ", 3+i%5) + "end"
		refs = append(refs, r)
		good = append(good, r)
		if i%3 == 0 {
			bad = append(bad, "other words here")
		} else {
			bad = append(bad, r)
		}
	}
	near := append([]string(nil), bad...)
	near[1] = "other words here"
	mb, _ := BLEUMetric(bad, [][]string{refs}, BLEUOptions{})
	mg, _ := BLEUMetric(good, [][]string{refs}, BLEUOptions{})
	mn, _ := BLEUMetric(near, [][]string{refs}, BLEUOptions{})
	base, out := PairedBootstrap(mb, []*Metric{mn, mg}, 1000, 12345)
	if out[0].P < 0.05 {
		t.Errorf("one sentence of 200 changed: p = %v, want no significance", out[0].P)
	}
	if out[1].P != 1.0/1001 {
		t.Errorf("a far better system: p = %v, want 1/1001", out[1].P)
	}
	if !(base.Mean-2*base.CI < base.Score && base.Score < base.Mean+2*base.CI) || base.CI <= 0 || !math.IsNaN(base.P) {
		t.Errorf("baseline %+v", base)
	}
	again, _ := PairedBootstrap(mb, []*Metric{mg}, 1000, 12345)
	if again.Mean != base.Mean || again.CI != base.CI {
		t.Errorf("same seed: %+v, then %+v", base, again)
	}
}
