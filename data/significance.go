package data

import (
	"math"
	"math/rand/v2"
	"sort"
)

// A Metric holds a corpus metric's statistics for each sentence, so that
// any resample of the sentences can be scored as a corpus: summing the
// rows of a subset and scoring the sum gives that subset's corpus score.
type Metric struct {
	Name  string // "BLEU", "chrF2"
	rows  [][]int
	width int
	score func(sum []int) float64
	// sentence scores one sentence's row (sacreBLEU's sentence_bleu uses
	// the effective order).
	sentence func(row []int) float64
}

// BLEUMetric is corpus BLEU (CorpusBLEU) over per-sentence statistics.
func BLEUMetric(hyps []string, refs [][]string, opt BLEUOptions) (*Metric, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	rows, err := bleuStats(hyps, refs, opt)
	if err != nil {
		return nil, err
	}
	eff := opt
	eff.EffectiveOrder = true
	return &Metric{Name: "BLEU", rows: rows, width: bleuStatsLen,
		score:    func(s []int) float64 { return bleuScore(s, opt).Score },
		sentence: func(s []int) float64 { return bleuScore(s, eff).Score }}, nil
}

// ChrFMetric is corpus chrF (CorpusChrF) over per-sentence statistics.
func ChrFMetric(hyps []string, refs [][]string, opt ChrFOptions) (*Metric, error) {
	opt = opt.withDefaults()
	rows, err := chrfStats(hyps, refs, opt)
	if err != nil {
		return nil, err
	}
	f := func(s []int) float64 { return chrfFromStats(s, opt) }
	return &Metric{Name: ChrFScore{Beta: opt.Beta}.name(), rows: rows, width: 3 * opt.CharOrder, score: f, sentence: f}, nil
}

// Corpus is the metric's score of all the sentences.
func (m *Metric) Corpus() float64 { return m.score(sumRows(m.rows, m.width)) }

// Sentences is each sentence's own score.
func (m *Metric) Sentences() []float64 {
	out := make([]float64, len(m.rows))
	for i, r := range m.rows {
		out[i] = m.sentence(r)
	}
	return out
}

// resample scores the resample idx of the sentences.
func (m *Metric) resample(idx []int, sum []int) float64 {
	clear(sum)
	for _, i := range idx {
		for k, v := range m.rows[i] {
			sum[k] += v
		}
	}
	return m.score(sum)
}

// Bootstrap is a system's figure from paired bootstrap resampling: its
// score, the mean and the half-width of the 95% confidence interval of its
// resampled scores, and (for a system compared with the baseline) the
// p-value of the difference.
type Bootstrap struct {
	Score, Mean, CI float64
	P               float64 // NaN for the baseline
}

// PairedBootstrap compares systems with the baseline by paired bootstrap
// resampling (Koehn, 2004), as sacreBLEU's --paired-bs does: n resamples
// of the sentence indices, the same for every system; each system's mean
// and 95% confidence interval from its resampled scores (the 2.5% and
// 97.5% order statistics); and p = (c+1)/(n+1), c counting the resamples
// whose absolute difference from the baseline, centred on its mean,
// exceeds the observed difference. The resamples come from seed, so the
// figures are reproducible (they differ from sacreBLEU's, which draws with
// NumPy, only by the draw). The metrics must cover the same sentences.
func PairedBootstrap(baseline *Metric, systems []*Metric, n int, seed uint64) (Bootstrap, []Bootstrap) {
	rng := rand.New(rand.NewPCG(seed, 0))
	size := len(baseline.rows)
	idx := make([][]int, n)
	for s := range idx {
		idx[s] = make([]int, size)
		for i := range idx[s] {
			idx[s][i] = rng.IntN(size)
		}
	}
	scores := func(m *Metric) []float64 {
		sum := make([]int, m.width)
		out := make([]float64, n)
		for s := range idx {
			out[s] = m.resample(idx[s], sum)
		}
		return out
	}
	bl := scores(baseline)
	base := Bootstrap{Score: baseline.Corpus(), P: math.NaN()}
	base.Mean, base.CI = meanCI(bl)
	out := make([]Bootstrap, len(systems))
	for j, m := range systems {
		sys := scores(m)
		b := Bootstrap{Score: m.Corpus()}
		b.Mean, b.CI = meanCI(sys)
		diffs := make([]float64, n)
		mean := 0.0
		for s := range diffs {
			diffs[s] = math.Abs(sys[s] - bl[s])
			mean += diffs[s]
		}
		mean /= float64(n)
		real := math.Abs(base.Score - b.Score)
		c := 0
		for _, d := range diffs {
			if d-mean > real {
				c++
			}
		}
		b.P = float64(c+1) / float64(n+1)
		out[j] = b
	}
	return base, out
}

// meanCI is the mean of scores and half the distance between their 2.5%
// and 97.5% order statistics (sacreBLEU's estimate_ci).
func meanCI(scores []float64) (mean, ci float64) {
	s := append([]float64(nil), scores...)
	sort.Float64s(s)
	for _, v := range s {
		mean += v
	}
	lo := len(s) / 40
	return mean / float64(len(s)), 0.5 * (s[len(s)-lo-1] - s[lo])
}
