package data

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file implements corpus BLEU as sacreBLEU 2.x computes it by default:
// the 13a tokenizer (mteval-v13a), case-sensitive, 4-gram precisions with
// "exp" smoothing, the closest reference length (the shorter on a tie) for
// the brevity penalty, and no effective order.

// Tokenize13a tokenizes a detokenized line as sacreBLEU's default "13a"
// tokenizer (the one of mteval-v13a.pl used by WMT) does: it drops
// "<skipped>" and "-\n", turns other newlines into spaces, unescapes
// &quot; &amp; &lt; &gt; (in that order, one after the other), then applies
// sacreBLEU's four punctuation rules in turn and joins the words with single
// spaces, splitting on what Python's str.split counts as white space.
//
// The rules are the regular expressions
//
//	([\{-~\[-` -&\(-\+:-@/])  ->  " \1 "   (punctuation and symbols)
//	([^0-9])([\.,])           ->  "\1 \2 "  (period, comma after a non-digit)
//	([\.,])([^0-9])           ->  " \1 \2"  (period, comma before a non-digit)
//	([0-9])(-)                ->  "\1 \2 "  (dash after a digit)
//
// applied here as byte scans, which is equivalent because every class they
// test is ASCII: any other byte, including NUL, control characters and
// invalid UTF-8, is simply "not a digit". The cost is linear in the line.
func Tokenize13a(line string) string { return strings.Join(tokenize13a(line), " ") }

// tokenize13a returns the words of Tokenize13a(line).
func tokenize13a(line string) []string {
	line = strings.ReplaceAll(line, "<skipped>", "")
	line = strings.ReplaceAll(line, "-\n", "")
	line = strings.ReplaceAll(line, "\n", " ")
	if strings.Contains(line, "&") {
		line = strings.ReplaceAll(line, "&quot;", `"`)
		line = strings.ReplaceAll(line, "&amp;", "&")
		line = strings.ReplaceAll(line, "&lt;", "<")
		line = strings.ReplaceAll(line, "&gt;", ">")
	}
	// Rule 1 on " " + line + " ".
	a := make([]byte, 0, 2*len(line)+8)
	a = append(a, ' ', ' ', ' ')
	for i := 0; i < len(line); i++ {
		if c := line[i]; punct13a(c) {
			a = append(a, ' ', c, ' ')
		} else {
			a = append(a, c)
		}
	}
	a = append(a, ' ', ' ', ' ')
	// Rule 2: a non-digit followed by a period or comma.
	b := make([]byte, 0, len(a)+len(a)/2)
	for i := 0; i < len(a); i++ {
		if i+1 < len(a) && !isDigit(a[i]) && (a[i+1] == '.' || a[i+1] == ',') {
			b = append(b, a[i], ' ', a[i+1], ' ')
			i++
		} else {
			b = append(b, a[i])
		}
	}
	// Rule 3: a period or comma followed by a non-digit.
	a = a[:0]
	for i := 0; i < len(b); i++ {
		if i+1 < len(b) && (b[i] == '.' || b[i] == ',') && !isDigit(b[i+1]) {
			a = append(a, ' ', b[i], ' ', b[i+1])
			i++
		} else {
			a = append(a, b[i])
		}
	}
	// Rule 4: a dash after a digit.
	b = b[:0]
	for i := 0; i < len(a); i++ {
		if i+1 < len(a) && isDigit(a[i]) && a[i+1] == '-' {
			b = append(b, a[i], ' ', '-', ' ')
			i++
		} else {
			b = append(b, a[i])
		}
	}
	return pyFields(string(b))
}

// punct13a is the character class of the first 13a rule:
// { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
func punct13a(c byte) bool {
	return c >= '{' && c <= '~' || c >= '[' && c <= '`' || c >= ' ' && c <= '&' ||
		c >= '(' && c <= '+' || c >= ':' && c <= '@' || c == '/'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// pySpace reports whether Python's str.isspace holds for r: Go's
// unicode.IsSpace plus the separators U+001C–U+001F.
func pySpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || r >= '\t' && r <= '\r' || r >= 0x1c && r <= 0x1f
	}
	return unicode.IsSpace(r)
}

// pyFields splits s as Python's str.split() does.
func pyFields(s string) []string {
	var out []string
	start := -1
	for i := 0; i < len(s); {
		c, w := rune(s[i]), 1
		if c >= utf8.RuneSelf {
			c, w = utf8.DecodeRuneInString(s[i:])
		}
		if pySpace(c) {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
		i += w
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
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

// Defined reports whether the hypotheses have 4-grams at all: without any
// (every sentence shorter than four tokens), corpus BLEU is 0 whatever they
// say, and exact match or chrF is the figure to read.
func (s BLEUScore) Defined() bool { return s.Total[3] > 0 }

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
	rows, err := bleuStats(hyps, refs, opt)
	if err != nil {
		return BLEUScore{}, err
	}
	s := bleuScore(sumRows(rows, bleuStatsLen), opt)
	s.Signature = fmt.Sprintf("nrefs:%d|case:%s|eff:%s|tok:%s|smooth:%s|version:transformer-go",
		len(refs), map[bool]string{false: "mixed", true: "lc"}[opt.Lowercase],
		map[bool]string{false: "no", true: "yes"}[opt.EffectiveOrder], opt.Tokenize, opt.Smooth)
	return s, nil
}

// bleuStatsLen is the length of a sentence's BLEU statistics: matched and
// hypothesis n-grams of orders 1–4, the hypothesis length and the
// reference length.
const bleuStatsLen = 10

// bleuScore scores summed statistics.
func bleuScore(st []int, opt BLEUOptions) BLEUScore {
	var s BLEUScore
	copy(s.Correct[:], st[0:4])
	copy(s.Total[:], st[4:8])
	s.HypLen, s.RefLen = st[8], st[9]
	s.Score, s.Precisions, s.BP = bleuFromStats(s.Correct, s.Total, s.HypLen, s.RefLen, opt)
	return s
}

// sumRows adds up rows of statistics of length n.
func sumRows(rows [][]int, n int) []int {
	sum := make([]int, n)
	for _, r := range rows {
		for k, v := range r {
			sum[k] += v
		}
	}
	return sum
}

// bleuStats returns each hypothesis's BLEU statistics (bleuStatsLen ints).
func bleuStats(hyps []string, refs [][]string, opt BLEUOptions) ([][]int, error) {
	if err := checkRefs(len(hyps), refs); err != nil {
		return nil, err
	}
	prep := func(x string) []string {
		if opt.Lowercase {
			x = strings.ToLower(x)
		}
		if opt.Tokenize == "13a" {
			return tokenize13a(strings.TrimRightFunc(x, pySpace)) // sacreBLEU rstrips first
		}
		return pyFields(x)
	}
	rows := make([][]int, len(hyps))
	var g gramIndex
	var units []int32
	for i, h := range hyps {
		row := make([]int, bleuStatsLen)
		g.reset()
		hw := prep(h)
		row[8] = len(hw)
		units = units[:0]
		for _, w := range hw {
			units = append(units, g.word(w, true))
		}
		g.addHyp(units, 4)
		// Clip each n-gram by its largest count in any reference; take the
		// reference length closest to the hypothesis (the shorter on ties).
		closest := -1
		for _, set := range refs {
			rw := prep(set[i])
			d := abs(len(rw) - len(hw))
			if closest < 0 || d < abs(closest-len(hw)) || (d == abs(closest-len(hw)) && len(rw) < closest) {
				closest = len(rw)
			}
			units = units[:0]
			for _, w := range rw {
				units = append(units, g.word(w, false))
			}
			g.countRef(units, 4, nil)
			for _, id := range g.touched {
				c := &g.grams[id]
				c.best = max(c.best, c.ref)
			}
			g.clearRef()
		}
		row[9] = closest
		for _, c := range g.grams {
			row[4+c.order] += int(c.hyp)
			row[c.order] += int(min(c.hyp, c.best))
		}
		rows[i] = row
	}
	return rows, nil
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

// gramIndex numbers the distinct 1- to n-grams of one hypothesis so that
// counting them needs no string keys: a unigram's id is that of its unit
// (a word, or a character for chrF), and an n-gram's is found from the pair
// (id of its first n−1 units, id of its last unit), one integer key whatever
// its length. A reference's n-grams are only looked up: one the hypothesis
// lacks cannot match, nor can any longer n-gram it starts. Everything is
// linear in the lengths of the sentences.
type gramIndex struct {
	words     map[string]int32 // unigram id of each hypothesis word
	wordsPeak int              // the most words since words was made
	chars     idTable          // unigram id of each hypothesis character
	ids       idTable          // (prefix id + 1) << 32 | unigram id -> n-gram id
	grams     []gramCounts     // by n-gram id
	touched   []int32          // ids whose ref count is not zero
	pos       []int32          // id of the current n-gram at each position
}

// gramCounts are the counts of one n-gram of the hypothesis, together so
// that counting an occurrence touches one cache line.
type gramCounts struct {
	order int32 // n − 1
	hyp   int32 // count in the hypothesis
	ref   int32 // count in the current reference
	best  int32 // largest count in any reference so far
}

// reset forgets the previous hypothesis. Tables that grew large are
// dropped rather than cleared, as clearing costs their capacity.
func (g *gramIndex) reset() {
	g.ids.reset()
	g.chars.reset()
	// As for idTable.reset: clearing a map costs its capacity, which
	// follows the largest sentence since it was made.
	g.wordsPeak = max(g.wordsPeak, len(g.words))
	if g.words == nil || g.wordsPeak > 2*len(g.words)+64 {
		g.words = map[string]int32{}
		g.wordsPeak = 0
	} else {
		clear(g.words)
	}
	g.grams, g.touched = g.grams[:0], g.touched[:0]
}

// newID numbers a new n-gram of order n.
func (g *gramIndex) newID(n int) int32 {
	id := int32(len(g.grams))
	g.grams = append(g.grams, gramCounts{order: int32(n - 1)})
	return id
}

// word returns the unigram id of w, numbering it if hyp, or −1 when the
// hypothesis has no such word.
func (g *gramIndex) word(w string, hyp bool) int32 {
	id, ok := g.words[w]
	if !ok {
		if !hyp {
			return -1
		}
		id = g.newID(1)
		g.words[w] = id
	}
	return id
}

// char is word for a character.
func (g *gramIndex) char(r rune, hyp bool) int32 {
	if !hyp {
		return g.chars.get(uint64(r))
	}
	id, added := g.chars.put(uint64(r), int32(len(g.grams)))
	if added {
		g.newID(1)
	}
	return id
}

// addHyp counts the 1- to maxN-grams of the hypothesis, given the unigram
// ids of its units, numbering the new ones.
func (g *gramIndex) addHyp(units []int32, maxN int) {
	for _, id := range units {
		g.grams[id].hyp++
	}
	g.pos = append(g.pos[:0], units...)
	for n := 2; n <= maxN && n <= len(units); n++ {
		for i := 0; i+n <= len(units); i++ {
			key := uint64(g.pos[i]+1)<<32 | uint64(units[i+n-1])
			id, added := g.ids.put(key, int32(len(g.grams)))
			if added {
				g.newID(n)
			}
			g.grams[id].hyp++
			g.pos[i] = id
		}
	}
}

// countRef counts into g.ref (and lists in g.touched) the 1- to maxN-grams
// of a reference that the hypothesis has, given the unigram ids of its
// units (−1 for those the hypothesis lacks). If match is not nil,
// match[n−1] counts the reference n-grams that a hypothesis occurrence
// still clips (by how much the sum of min(hyp, ref) grows).
func (g *gramIndex) countRef(units []int32, maxN int, match []int) {
	g.pos = append(g.pos[:0], units...)
	for n := 1; n <= maxN && n <= len(units); n++ {
		for i := 0; i+n <= len(units); i++ {
			id := g.pos[i]
			if n > 1 {
				if u := units[i+n-1]; id < 0 || u < 0 {
					id = -1
				} else {
					id = g.ids.get(uint64(id+1)<<32 | uint64(u))
				}
				g.pos[i] = id
			}
			if id < 0 {
				continue
			}
			c := &g.grams[id]
			if c.ref == 0 {
				g.touched = append(g.touched, id)
			}
			if match != nil && c.ref < c.hyp {
				match[c.order]++
			}
			c.ref++
		}
	}
}

// idTable maps uint64 keys to int32 ids: open addressing with linear
// probing, one cache line per lookup, which is what the long sentences
// an adversary may give spend their time on.
type idTable struct {
	slots []idSlot // a power of two, at most half full
	n     int
	shift uint
}

type idSlot struct {
	key uint64
	id  int32 // id + 1; 0 marks an empty slot
}

// reset empties the table. Clearing costs the table's size, so a table
// much larger than the last use needed is replaced by one sized for that
// use: a long sentence followed by many short ones stays linear.
func (t *idTable) reset() {
	want := 1 << 4
	for want < 2*t.n {
		want <<= 1
	}
	if len(t.slots) == 0 || len(t.slots) > 2*want {
		t.slots = make([]idSlot, want)
		t.shift = uint(64 - bits.TrailingZeros(uint(want)))
	} else {
		clear(t.slots)
	}
	t.n = 0
}

func (t *idTable) home(key uint64) int { return int((key * 0x9e3779b97f4a7c15) >> t.shift) }

// get returns the id of key, or −1.
func (t *idTable) get(key uint64) int32 {
	mask := len(t.slots) - 1
	for i := t.home(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.id == 0 {
			return -1
		}
		if s.key == key {
			return s.id - 1
		}
	}
}

// put returns the id of key, giving it id if it has none (added).
func (t *idTable) put(key uint64, id int32) (int32, bool) {
	mask := len(t.slots) - 1
	i := t.home(key)
	for ; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.id == 0 {
			break
		}
		if s.key == key {
			return s.id - 1, false
		}
	}
	t.slots[i] = idSlot{key, id + 1}
	t.n++
	if 2*t.n > len(t.slots) {
		t.grow()
	}
	return id, true
}

func (t *idTable) grow() {
	old := t.slots
	t.slots = make([]idSlot, 2*len(old))
	t.shift--
	mask := len(t.slots) - 1
	for _, s := range old {
		if s.id != 0 {
			i := t.home(s.key)
			for t.slots[i].id != 0 {
				i = (i + 1) & mask
			}
			t.slots[i] = s
		}
	}
}

// clearRef zeroes the counts of the last reference.
func (g *gramIndex) clearRef() {
	for _, id := range g.touched {
		g.grams[id].ref = 0
	}
	g.touched = g.touched[:0]
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
