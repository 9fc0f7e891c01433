package data

import (
	"fmt"
	"math"
	"regexp"
	"strings"
)

// This file implements corpus BLEU as sacreBLEU 2.x computes it by default:
// the 13a tokenizer (mteval-v13a), case-sensitive, 4-gram precisions with
// "exp" smoothing, the closest reference length (the shorter on a tie) for
// the brevity penalty, and no effective order.

// Tokenize13a tokenizes a detokenized line as sacreBLEU's default "13a"
// tokenizer (the one of mteval-v13a.pl used by WMT) does.
func Tokenize13a(line string) string {
	r := strings.NewReplacer("<skipped>", "", "-\n", "", "\n", " ",
		"&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">")
	line = " " + r.Replace(line) + " "
	for _, rule := range rules13a {
		line = rule.re.ReplaceAllString(line, rule.repl)
	}
	return strings.Join(strings.Fields(line), " ")
}

var rules13a = []struct {
	re   *regexp.Regexp
	repl string
}{
	// Punctuation and symbols: { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
	{regexp.MustCompile(`([\{-~\[-` + "`" + ` -&\(-\+:-@/])`), " ${1} "},
	// Period and comma unless preceded by a digit.
	{regexp.MustCompile(`([^0-9])([\.,])`), "${1} ${2} "},
	// Period and comma unless followed by a digit.
	{regexp.MustCompile(`([\.,])([^0-9])`), " ${1} ${2}"},
	// Dash after a digit.
	{regexp.MustCompile(`([0-9])(-)`), "${1} ${2} "},
}

// BLEUOptions select the variant of BLEU. The zero value is sacreBLEU's
// default: 13a tokenization, case-sensitive, exp smoothing.
type BLEUOptions struct {
	// Tokenize is "13a" (default) or "none" (split on spaces only).
	Tokenize string
	// Lowercase makes the score case-insensitive.
	Lowercase bool
	// Smooth is "exp" (default), "floor" (SmoothValue for n-gram orders
	// without a match, default 0.1), "add-k" (SmoothValue added to counts
	// and totals of orders 2–4, default 1) or "none".
	Smooth      string
	SmoothValue float64
	// EffectiveOrder stops the geometric mean at the highest n-gram order
	// the hypotheses have (for sentence-level BLEU).
	EffectiveOrder bool
}

func (o BLEUOptions) withDefaults() (BLEUOptions, error) {
	if o.Tokenize == "" {
		o.Tokenize = "13a"
	}
	if o.Tokenize != "13a" && o.Tokenize != "none" {
		return o, fmt.Errorf("BLEU tokenizer %q: want 13a or none", o.Tokenize)
	}
	switch o.Smooth {
	case "":
		o.Smooth = "exp"
	case "exp", "none":
	case "floor":
		if o.SmoothValue == 0 {
			o.SmoothValue = 0.1
		}
	case "add-k":
		if o.SmoothValue == 0 {
			o.SmoothValue = 1
		}
	default:
		return o, fmt.Errorf("BLEU smoothing %q: want exp, floor, add-k or none", o.Smooth)
	}
	return o, nil
}

// BLEUScore is a corpus BLEU score with its statistics, on sacreBLEU's
// 0–100 scale.
type BLEUScore struct {
	Score      float64
	Precisions [4]float64 // n-gram precisions, 0–100
	BP         float64    // brevity penalty
	HypLen     int
	RefLen     int
	Correct    [4]int // matched n-grams
	Total      [4]int // hypothesis n-grams
	Signature  string
}

// String formats the score as sacreBLEU does:
// "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)".
func (s BLEUScore) String() string {
	ratio := 0.0
	if s.RefLen > 0 {
		ratio = float64(s.HypLen) / float64(s.RefLen)
	}
	return fmt.Sprintf("BLEU = %.2f %.1f/%.1f/%.1f/%.1f (BP = %.3f ratio = %.3f hyp_len = %d ref_len = %d)",
		s.Score, s.Precisions[0], s.Precisions[1], s.Precisions[2], s.Precisions[3], s.BP, ratio, s.HypLen, s.RefLen)
}

// CorpusBLEU scores hypotheses against one or more reference sets
// (refs[k][i] is the k-th reference of hypothesis i).
func CorpusBLEU(hyps []string, refs [][]string, opt BLEUOptions) (BLEUScore, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return BLEUScore{}, err
	}
	if err := checkRefs(len(hyps), refs); err != nil {
		return BLEUScore{}, err
	}
	var s BLEUScore
	prep := func(x string) []string {
		if opt.Lowercase {
			x = strings.ToLower(x)
		}
		if opt.Tokenize == "13a" {
			x = Tokenize13a(x)
		}
		return strings.Fields(x)
	}
	for i, h := range hyps {
		hw := prep(h)
		s.HypLen += len(hw)
		// Clip each n-gram by its largest count in any reference; take the
		// reference length closest to the hypothesis (the shorter on ties).
		maxRef := map[string]int{}
		closest := -1
		for _, set := range refs {
			rw := prep(set[i])
			d := abs(len(rw) - len(hw))
			if closest < 0 || d < abs(closest-len(hw)) || (d == abs(closest-len(hw)) && len(rw) < closest) {
				closest = len(rw)
			}
			for g, c := range ngrams(rw, 4) {
				maxRef[g] = max(maxRef[g], c)
			}
		}
		s.RefLen += closest
		for g, c := range ngrams(hw, 4) {
			n := strings.Count(g, "\x00") // order − 1
			s.Total[n] += c
			s.Correct[n] += min(c, maxRef[g])
		}
	}
	s.Score, s.Precisions, s.BP = bleuFromStats(s.Correct, s.Total, s.HypLen, s.RefLen, opt)
	s.Signature = fmt.Sprintf("nrefs:%d|case:%s|eff:%s|tok:%s|smooth:%s|version:transformer-go",
		len(refs), map[bool]string{false: "mixed", true: "lc"}[opt.Lowercase],
		map[bool]string{false: "no", true: "yes"}[opt.EffectiveOrder], opt.Tokenize, opt.Smooth)
	return s, nil
}

// bleuFromStats is sacreBLEU's compute_bleu.
func bleuFromStats(correct, total [4]int, hypLen, refLen int, opt BLEUOptions) (score float64, prec [4]float64, bp float64) {
	anyMatch := false
	for _, c := range correct {
		anyMatch = anyMatch || c > 0
	}
	if hypLen < refLen {
		if hypLen > 0 {
			bp = math.Exp(1 - float64(refLen)/float64(hypLen))
		}
	} else {
		bp = 1
	}
	if !anyMatch {
		return 0, prec, bp
	}
	smoothExp := 1.0
	order := 4
	for n := 0; n < 4; n++ {
		c, t := float64(correct[n]), float64(total[n])
		if opt.Smooth == "add-k" && n > 0 {
			c += opt.SmoothValue
			t += opt.SmoothValue
		}
		if t == 0 {
			break
		}
		if opt.EffectiveOrder {
			order = n + 1
		}
		switch {
		case c > 0:
			prec[n] = 100 * c / t
		case opt.Smooth == "exp":
			smoothExp *= 2
			prec[n] = 100 / (smoothExp * t)
		case opt.Smooth == "floor":
			prec[n] = 100 * opt.SmoothValue / t
		}
	}
	sum := 0.0
	for _, p := range prec[:order] {
		if p == 0 {
			sum += -9999999999 // sacreBLEU's log(0)
		} else {
			sum += math.Log(p)
		}
	}
	return bp * math.Exp(sum/float64(order)), prec, bp
}

// ngrams counts the 1- to n-grams of words, joined by NUL.
func ngrams(words []string, n int) map[string]int {
	out := map[string]int{}
	for k := 1; k <= n; k++ {
		for i := 0; i+k <= len(words); i++ {
			out[strings.Join(words[i:i+k], "\x00")]++
		}
	}
	return out
}

func checkRefs(n int, refs [][]string) error {
	if len(refs) == 0 {
		return fmt.Errorf("no references")
	}
	for k, set := range refs {
		if len(set) != n {
			return fmt.Errorf("reference set %d has %d lines for %d hypotheses", k+1, len(set), n)
		}
	}
	return nil
}

func abs(x int) int { return max(x, -x) }
