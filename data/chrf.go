package data

import (
	"fmt"
	"strings"
)

// ChrFOptions select the variant of chrF. The zero value is sacreBLEU 2.x's
// default chrF2: character 1- to 6-grams without spaces, β = 2,
// effective-order averaging, case-sensitive.
type ChrFOptions struct {
	CharOrder int     // default 6
	Beta      float64 // default 2
	// Whitespace keeps spaces inside character n-grams.
	Whitespace bool
	Lowercase  bool
	// EpsSmoothing averages per-order F-scores with ε for empty orders (as
	// chrF++.py, NLTK and Moses do) instead of averaging precision and
	// recall over the orders that have n-grams (sacreBLEU's default).
	EpsSmoothing bool
}

func (o ChrFOptions) withDefaults() ChrFOptions {
	if o.CharOrder <= 0 {
		o.CharOrder = 6
	}
	if o.Beta <= 0 {
		o.Beta = 2
	}
	return o
}

// ChrFScore is a corpus chrF score on sacreBLEU's 0–100 scale.
type ChrFScore struct {
	Score     float64
	Beta      float64
	Signature string
}

// String formats the score as sacreBLEU does: "chrF2 = 64.13".
func (s ChrFScore) String() string { return fmt.Sprintf("%s = %.2f", s.name(), s.Score) }

// name is the metric's name with its β: "chrF2".
func (s ChrFScore) name() string { return fmt.Sprintf("chrF%g", s.Beta) }

// CorpusChrF scores hypotheses against one or more reference sets
// (refs[k][i] is the k-th reference of hypothesis i): per sentence the
// reference with the best F-score counts, and the statistics are summed
// over the corpus before the score is computed.
func CorpusChrF(hyps []string, refs [][]string, opt ChrFOptions) (ChrFScore, error) {
	opt = opt.withDefaults()
	rows, err := chrfStats(hyps, refs, opt)
	if err != nil {
		return ChrFScore{}, err
	}
	sig := fmt.Sprintf("nrefs:%d|case:%s|eff:%s|nc:%d|nw:0|space:%s|version:transformer-go", len(refs),
		map[bool]string{false: "mixed", true: "lc"}[opt.Lowercase], map[bool]string{false: "yes", true: "no"}[opt.EpsSmoothing],
		opt.CharOrder, map[bool]string{false: "no", true: "yes"}[opt.Whitespace])
	return ChrFScore{Score: chrfFromStats(sumRows(rows, 3*opt.CharOrder), opt), Beta: opt.Beta, Signature: sig}, nil
}

// chrfStats returns each hypothesis's chrF statistics: [hypothesis,
// reference, matched] character n-grams per order, of the reference with
// the best F-score.
func chrfStats(hyps []string, refs [][]string, opt ChrFOptions) ([][]int, error) {
	if err := checkRefs(len(hyps), refs); err != nil {
		return nil, err
	}
	rows := make([][]int, len(hyps))
	var g gramIndex
	var hu, ru []int32
	match := make([]int, opt.CharOrder)
	st := make([]int, 3*opt.CharOrder)
	for i, h := range hyps {
		best := make([]int, 3*opt.CharOrder)
		g.reset()
		hu = chrfUnits(hu[:0], h, opt, &g, true)
		g.addHyp(hu, opt.CharOrder)
		bestF := -1.0
		for _, set := range refs {
			ru = chrfUnits(ru[:0], set[i], opt, &g, false)
			clear(match)
			g.countRef(ru, opt.CharOrder, match)
			g.clearRef()
			// [hyp, ref, match] per order; hypothesis n-grams do not count
			// for an order in which the reference has none.
			for n := 1; n <= opt.CharOrder; n++ {
				hn, rn := max(0, len(hu)-n+1), max(0, len(ru)-n+1)
				if rn == 0 {
					hn = 0
				}
				st[3*(n-1)], st[3*(n-1)+1], st[3*(n-1)+2] = hn, rn, match[n-1]
			}
			if f := chrfFromStats(st, opt); f > bestF {
				copy(best, st)
				bestF = f
			}
		}
		rows[i] = best
	}
	return rows, nil
}

// chrfUnits appends to u the unigram ids in g (see gramIndex.char) of the
// characters of s whose n-grams chrF counts: lowercased if asked, without
// white space (as Python's str.split sees it) unless Whitespace. Each
// invalid UTF-8 byte counts as U+FFFD.
func chrfUnits(u []int32, s string, opt ChrFOptions, g *gramIndex, hyp bool) []int32 {
	if opt.Lowercase {
		s = strings.ToLower(s)
	}
	for _, r := range s {
		if opt.Whitespace || !pySpace(r) {
			u = append(u, g.char(r, hyp))
		}
	}
	return u
}

// chrfFromStats is sacreBLEU's _compute_f_score.
func chrfFromStats(st []int, opt ChrFOptions) float64 {
	const eps = 1e-16
	factor := opt.Beta * opt.Beta
	var score, avgP, avgR float64
	eff := 0
	orders := len(st) / 3
	for i := 0; i < orders; i++ {
		h, r, m := float64(st[3*i]), float64(st[3*i+1]), float64(st[3*i+2])
		p, rc := eps, eps
		if h > 0 {
			p = m / h
		}
		if r > 0 {
			rc = m / r
		}
		if d := factor*p + rc; d > 0 {
			score += (1 + factor) * p * rc / d
		} else {
			score += eps
		}
		if h > 0 && r > 0 {
			avgP += p
			avgR += rc
			eff++
		}
	}
	if opt.EpsSmoothing {
		return 100 * score / float64(orders)
	}
	if eff == 0 {
		return 0
	}
	avgP /= float64(eff)
	avgR /= float64(eff)
	if avgP+avgR == 0 {
		return 0
	}
	return 100 * (1 + factor) * avgP * avgR / (factor*avgP + avgR)
}
