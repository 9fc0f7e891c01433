package data

import (
	"fmt"
	"math"
	"math/rand"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// tokenize13aRegexp is sacreBLEU's tokenizer_13a written as it is in
// Python: sequential replacements, then the four regular expressions, then
// ' '.join(line.split()). Tokenize13a must agree with it on any bytes.
func tokenize13aRegexp(line string) string {
	for _, r := range [][2]string{{"<skipped>", ""}, {"-\n", ""}, {"\n", " "},
		{"&quot;", `"`}, {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}} {
		line = strings.ReplaceAll(line, r[0], r[1])
	}
	line = " " + line + " "
	for _, rule := range rules13aRegexp {
		line = rule.re.ReplaceAllString(line, rule.repl)
	}
	return strings.Join(strings.FieldsFunc(line, func(r rune) bool {
		return strings.ContainsRune("\t\n\v\f\r \x1c\x1d\x1e\x1f\u0085\u00a0\u1680\u2028\u2029\u202f\u205f\u3000", r) ||
			r >= 0x2000 && r <= 0x200a
	}), " ")
}

var rules13aRegexp = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`([\{-~\[-` + "`" + ` -&\(-\+:-@/])`), " ${1} "},
	{regexp.MustCompile(`([^0-9])([\.,])`), "${1} ${2} "},
	{regexp.MustCompile(`([\.,])([^0-9])`), " ${1} ${2}"},
	{regexp.MustCompile(`([0-9])(-)`), "${1} ${2} "},
}

// naiveBLEUStats counts n-gram matches with string keys, as the obvious
// implementation does: the reference for the statistics of CorpusBLEU.
func naiveBLEUStats(hyp []string, refs [][]string) (correct, total [4]int) {
	count := func(w []string) []map[string]int {
		out := make([]map[string]int, 4)
		for k := 1; k <= 4; k++ {
			out[k-1] = map[string]int{}
			for i := 0; i+k <= len(w); i++ {
				out[k-1][strings.Join(w[i:i+k], "\x00")]++
			}
		}
		return out
	}
	h := count(hyp)
	best := make([]map[string]int, 4)
	for k := range best {
		best[k] = map[string]int{}
	}
	for _, r := range refs {
		for k, m := range count(r) {
			for g, c := range m {
				best[k][g] = max(best[k][g], c)
			}
		}
	}
	for k, m := range h {
		for g, c := range m {
			total[k] += c
			correct[k] += min(c, best[k][g])
		}
	}
	return correct, total
}

// redTeam13a are the lines that made the NUL-joined n-gram keys of the
// old implementation report an n-gram order above 4.
var redTeam13a = []string{"x\x00.@a", "\x00>@a", "\x00<@a", "\x00>@ab", "a\x00b\x00c\x00d\x00e",
	"\x00\x00\x00\x00\x00 \x00", "\xff\xfe.,-1-\x00", "&amp;lt;-<skipped>\n", "\x1cx\x1dy\x1e\x1fz"}

func TestTokenize13aHostile(t *testing.T) {
	for _, in := range redTeam13a {
		if got, want := Tokenize13a(in), tokenize13aRegexp(in); got != want {
			t.Errorf("Tokenize13a(%q) = %q, want %q", in, got, want)
		}
	}
	// sacreBLEU replaces one after the other: "&amp;lt;" becomes "&lt;", then "<".
	for in, want := range map[string]string{
		"&amp;lt;":         "<",
		"a-<skipped>\nb":   "ab",
		"x\x00.@a":         "x\x00 . @ a",
		"a\x1cb\u00a0c":    "a b c",
		"1.5,2 a.b 3-4 x-": "1.5,2 a . b 3 - 4 x-",
	} {
		if got := Tokenize13a(in); got != want {
			t.Errorf("Tokenize13a(%q) = %q, want %q", in, got, want)
		}
	}
}

// The red team's inputs: hypothesis and reference files of one such line
// scored without a panic, and a line scores 100 against itself.
func TestCorpusBLEUHostileBytes(t *testing.T) {
	for _, in := range redTeam13a {
		s, err := CorpusBLEU([]string{in}, [][]string{{in}}, BLEUOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w := tokenize13a(strings.TrimRightFunc(in, pySpace)) // sacreBLEU rstrips
		c, tot := naiveBLEUStats(w, [][]string{w})
		if s.Correct != c || s.Total != tot {
			t.Errorf("%q: statistics %v/%v, want %v/%v", in, s.Correct, s.Total, c, tot)
		}
		if tot[3] > 0 && math.Abs(s.Score-100) > 1e-9 {
			t.Errorf("%q against itself: BLEU %g", in, s.Score)
		}
		if _, err := CorpusChrF([]string{in}, [][]string{{in}}, ChrFOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// CorpusBLEU's integer n-gram ids give the statistics string keys give, on
// random corpora with repeats, several references and words the hypothesis
// lacks.
func TestCorpusBLEUStatsMatchNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	sentence := func() string {
		w := make([]string, rng.Intn(30))
		for i := range w {
			w[i] = string(rune('a' + rng.Intn(4)))
		}
		return strings.Join(w, " ")
	}
	for trial := 0; trial < 200; trial++ {
		n, nrefs := 1+rng.Intn(5), 1+rng.Intn(3)
		hyps := make([]string, n)
		refs := make([][]string, nrefs)
		var want, wantTotal [4]int
		for i := range hyps {
			hyps[i] = sentence()
		}
		for k := range refs {
			refs[k] = make([]string, n)
			for i := range refs[k] {
				refs[k][i] = sentence()
			}
		}
		for i := range hyps {
			var rw [][]string
			for k := range refs {
				rw = append(rw, strings.Fields(refs[k][i]))
			}
			c, tot := naiveBLEUStats(strings.Fields(hyps[i]), rw)
			for k := range c {
				want[k] += c[k]
				wantTotal[k] += tot[k]
			}
		}
		s, err := CorpusBLEU(hyps, refs, BLEUOptions{Tokenize: "none"})
		if err != nil {
			t.Fatal(err)
		}
		if s.Correct != want || s.Total != wantTotal {
			t.Fatalf("trial %d: statistics %v/%v, want %v/%v", trial, s.Correct, s.Total, want, wantTotal)
		}
	}
}

// A long sentence then short ones: the tables shrink back (clearing a
// table sized for the long one at every short one was quadratic) and the
// statistics stay those of string keys, for BLEU and chrF.
func TestCorpusScoresLongThenShort(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	words := func(n int) string {
		w := make([]string, n)
		for i := range w {
			w[i] = strconv.Itoa(rng.Intn(50))
		}
		return strings.Join(w, " ")
	}
	hyps, refs := []string{words(20000)}, []string{words(20000)}
	for i := 0; i < 20; i++ {
		hyps, refs = append(hyps, words(rng.Intn(8)), words(3000)), append(refs, words(rng.Intn(8)), words(3))
	}
	var want, wantTotal [4]int
	opt := ChrFOptions{}.withDefaults()
	chrf := make([]int, 3*opt.CharOrder)
	for i := range hyps {
		c, tot := naiveBLEUStats(strings.Fields(hyps[i]), [][]string{strings.Fields(refs[i])})
		for k := range c {
			want[k] += c[k]
			wantTotal[k] += tot[k]
		}
		for k, v := range naiveChrFStats(hyps[i], refs[i], opt.CharOrder) {
			chrf[k] += v
		}
	}
	s, err := CorpusBLEU(hyps, [][]string{refs}, BLEUOptions{Tokenize: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Correct != want || s.Total != wantTotal {
		t.Errorf("BLEU statistics %v/%v, want %v/%v", s.Correct, s.Total, want, wantTotal)
	}
	c, err := CorpusChrF(hyps, [][]string{refs}, ChrFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w := chrfFromStats(chrf, opt); c.Score != w {
		t.Errorf("chrF %g, want %g", c.Score, w)
	}
}

// naiveChrFStats is chrF's per-sentence [hyp, ref, match] statistics with
// string keys.
func naiveChrFStats(hyp, ref string, order int) []int {
	grams := func(s string) []map[string]int {
		r := []rune(strings.Join(strings.Fields(s), ""))
		out := make([]map[string]int, order)
		for n := 1; n <= order; n++ {
			out[n-1] = map[string]int{}
			for i := 0; i+n <= len(r); i++ {
				out[n-1][string(r[i:i+n])]++
			}
		}
		return out
	}
	h, r := grams(hyp), grams(ref)
	var st []int
	for n := range h {
		var hc, rc, m int
		for g, c := range h[n] {
			hc += c
			m += min(c, r[n][g])
		}
		for _, c := range r[n] {
			rc += c
		}
		if len(r[n]) == 0 {
			hc = 0
		}
		st = append(st, hc, rc, m)
	}
	return st
}

func TestCorpusChrFMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	sentence := func() string {
		b := make([]rune, rng.Intn(40))
		for i := range b {
			b[i] = []rune("ab ü.")[rng.Intn(5)]
		}
		return string(b)
	}
	opt := ChrFOptions{}.withDefaults()
	for trial := 0; trial < 300; trial++ {
		h, r1, r2 := sentence(), sentence(), sentence()
		best, bestF := []int(nil), -1.0
		for _, r := range []string{r1, r2} {
			st := naiveChrFStats(h, r, opt.CharOrder)
			if f := chrfFromStats(st, opt); f > bestF {
				best, bestF = st, f
			}
		}
		s, err := CorpusChrF([]string{h}, [][]string{{r1}, {r2}}, ChrFOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if want := chrfFromStats(best, opt); s.Score != want {
			t.Fatalf("chrF(%q, %q, %q) = %g, want %g", h, r1, r2, s.Score, want)
		}
	}
}

func longLine(words int) string {
	w := make([]string, words)
	for i := range w {
		w[i] = strconv.Itoa(i * 7919 % 1000003)
	}
	return strings.Join(w, " ")
}

// A line of 200k distinct numbers against itself: BLEU and chrF 100 with
// every n-gram counted (the old string keys took seconds here; see
// BenchmarkScoreLongLine for the time).
func TestCorpusBLEULongLine(t *testing.T) {
	line := longLine(200000)
	s, err := CorpusBLEU([]string{line}, [][]string{{line}}, BLEUOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(s.Score-100) > 1e-9 || s.Total != [4]int{200000, 199999, 199998, 199997} || s.Correct != s.Total {
		t.Errorf("BLEU %g, statistics %v/%v", s.Score, s.Correct, s.Total)
	}
	c, err := CorpusChrF([]string{line}, [][]string{{line}}, ChrFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(c.Score-100) > 1e-9 {
		t.Errorf("chrF %g", c.Score)
	}
}

// BenchmarkScoreLongLine: what `transformer score` spends on one line of
// 2M numbers (14 MB) scored against itself; linear, a few seconds.
func BenchmarkScoreLongLine(b *testing.B) {
	line := longLine(2000000)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := CorpusBLEU([]string{line}, [][]string{{line}}, BLEUOptions{}); err != nil {
			b.Fatal(err)
		}
		if _, err := CorpusChrF([]string{line}, [][]string{{line}}, ChrFOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzTokenize13a: any bytes tokenize without a panic, as sacreBLEU's
// regular expressions do, and score against themselves and others
// without a panic and with the statistics of string keys.
func FuzzTokenize13a(f *testing.F) {
	for _, s := range redTeam13a {
		f.Add(s, "a")
	}
	f.Add("It wasn't surprising.", "It was not unexpected.")
	f.Add("Price: $1,000.50 in 2010-11.", "&quot;x&quot; &amp;amp; -\n")
	f.Fuzz(func(t *testing.T, hyp, ref string) {
		got := Tokenize13a(hyp)
		if want := tokenize13aRegexp(hyp); got != want {
			t.Fatalf("Tokenize13a(%q) = %q, want %q", hyp, got, want)
		}
		for _, opt := range []BLEUOptions{{}, {Tokenize: "none", Lowercase: true}} {
			s, err := CorpusBLEU([]string{hyp, ref}, [][]string{{ref, hyp}, {hyp, hyp}}, opt)
			if err != nil {
				t.Fatal(err)
			}
			if s.Score < 0 || s.Score > 100+1e-9 {
				t.Fatalf("BLEU %g", s.Score)
			}
		}
		s, err := CorpusBLEU([]string{hyp}, [][]string{{ref}}, BLEUOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c, tot := naiveBLEUStats(tokenize13a(strings.TrimRightFunc(hyp, pySpace)),
			[][]string{tokenize13a(strings.TrimRightFunc(ref, pySpace))})
		if s.Correct != c || s.Total != tot {
			t.Fatalf("statistics %v/%v, want %v/%v", s.Correct, s.Total, c, tot)
		}
		ch, err := CorpusChrF([]string{hyp}, [][]string{{ref}}, ChrFOptions{Lowercase: true})
		if err != nil {
			t.Fatal(err)
		}
		if ch.Score < 0 || ch.Score > 100+1e-9 {
			t.Fatal(fmt.Sprint("chrF ", ch.Score))
		}
	})
}
