package data

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// Expected values are from sacreBLEU 2.x's own test suite
// (test/test_bleu.py and test/test_chrf.py).

var sbRefs = [][]string{
	{"The dog bit the man.", "It was not unexpected.", "The man bit him first."},
	{"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."},
}
var sbHyps = []string{"The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."}

func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.8f, want %.8f", name, got, want)
	}
}

func TestCorpusBLEUSacreBLEU(t *testing.T) {
	for _, c := range []struct {
		name string
		hyps []string
		opt  BLEUOptions
		want float64
	}{
		{"default", sbHyps, BLEUOptions{}, 48.530827},
		{"13a", sbHyps, BLEUOptions{Tokenize: "13a"}, 48.530827},
		{"none", sbHyps, BLEUOptions{Tokenize: "none"}, 49.1919566},
		{"smooth none", sbHyps, BLEUOptions{Smooth: "none"}, 48.530827},
		{"empty hypotheses", []string{"", "", ""}, BLEUOptions{}, 0},
	} {
		s, err := CorpusBLEU(c.hyps, sbRefs, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		near(t, c.name, s.Score, c.want, 1e-6)
	}
	s, _ := CorpusBLEU(sbHyps, sbRefs, BLEUOptions{})
	if got := s.Signature; got != "nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:transformer-go" {
		t.Errorf("signature %q", got)
	}
}

// raw is sacreBLEU's raw_corpus_bleu: no tokenization, floor smoothing,
// effective order.
func raw(hyps, refs []string, floor float64) float64 {
	s, err := CorpusBLEU(hyps, [][]string{refs}, BLEUOptions{Tokenize: "none", Smooth: "floor", SmoothValue: floor, EffectiveOrder: true})
	if err != nil {
		panic(err)
	}
	return s.Score / 100
}

func TestRawBLEUSacreBLEU(t *testing.T) {
	near(t, "identical", raw([]string{"this is a test"}, []string{"this is a test"}, .01), 1, 1e-8)
	near(t, "fest", raw([]string{"this is a fest"}, []string{"this is a test"}, .01), 0.223606797749979, 1e-8)
	near(t, "no match", raw([]string{"this is a test", "another test"}, []string{"ref1", "ref2"}, .01), 0, 1e-8)
	near(t, "effective order 1", raw([]string{"test"}, []string{"a test"}, .01), 0.3678794411714425, 1e-8)
	near(t, "effective order 2", raw([]string{"a test"}, []string{"a test"}, .01), 1, 1e-8)
	near(t, "effective order 3", raw([]string{"a little test"}, []string{"a test"}, .01), 0.03218297948685433, 1e-8)
	near(t, "offset 0.1", raw([]string{"am I am a character sequence"}, []string{"I am a symbol string sequence a a"}, 0.1), 0.1555722182, 1e-8)
	s, _ := CorpusBLEU([]string{"am I am a character sequence"}, [][]string{{"I am a symbol string sequence a a"}}, BLEUOptions{Tokenize: "none"})
	if s.Correct != [4]int{4, 2, 1, 0} || s.Total != [4]int{6, 5, 4, 3} {
		t.Errorf("statistics %v / %v, want [4 2 1 0] / [6 5 4 3]", s.Correct, s.Total)
	}
	// compute_bleu on given statistics, no smoothing.
	score, _, _ := bleuFromStats([4]int{9, 7, 5, 3}, [4]int{10, 8, 6, 4}, 11, 11, BLEUOptions{Smooth: "none"})
	near(t, "scoring", score/100, 0.8375922397, 1e-8)
}

func TestTokenize13a(t *testing.T) {
	for in, want := range map[string]string{
		"It wasn't surprising.":        "It wasn't surprising .",
		"Hello, world! (3.5 km-long)":  "Hello , world ! ( 3.5 km-long )",
		"Price: $1,000.50 in 2010-11.": "Price : $ 1,000.50 in 2010 - 11 .",
		"a &amp; b &lt;tag&gt; &quot;": `a & b < tag > "`,
		"  spaced\tout  ":              "spaced out",
		"Straße – „Zitat“":             "Straße – „Zitat“",
	} {
		if got := Tokenize13a(in); got != want {
			t.Errorf("Tokenize13a(%q) = %q, want %q", in, got, want)
		}
	}
}

// NLTK's corpus_bleu (default weights, no smoothing) on identical tokens:
// fixtures from tools/goldens/bleu_nltk.py.
func TestCorpusBLEUMatchesNLTK(t *testing.T) {
	b, err := os.ReadFile("testdata/bleu_nltk.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []struct {
			Hyps []string   `json:"hyps"`
			Refs [][]string `json:"refs"`
			BLEU float64    `json:"bleu"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for i, c := range f.Cases {
		s, err := CorpusBLEU(c.Hyps, c.Refs, BLEUOptions{Tokenize: "none", Smooth: "none"})
		if err != nil {
			t.Fatal(err)
		}
		near(t, "NLTK case "+string(rune('A'+i)), s.Score, c.BLEU, 1e-9)
	}
	if len(f.Cases) < 10 {
		t.Errorf("only %d NLTK cases", len(f.Cases))
	}
}

func TestChrFSacreBLEU(t *testing.T) {
	eps := ChrFOptions{Beta: 3, EpsSmoothing: true}
	for _, c := range []struct {
		hyps, refs []string
		want       float64
	}{
		{[]string{"abcdefg"}, []string{"hijklmnop"}, 0},
		{[]string{"a"}, []string{"b"}, 0},
		{[]string{""}, []string{"b"}, 0},
		{[]string{""}, []string{"ref"}, 0},
		{[]string{""}, []string{"reference"}, 0},
		{[]string{"aa"}, []string{"ab"}, 8.3333},
		{[]string{"a", "b"}, []string{"a", "c"}, 8.3333},
		{[]string{"a"}, []string{"a"}, 16.6667},
		{[]string{"a b c"}, []string{"a b c"}, 50},
		{[]string{"a b c"}, []string{"abc"}, 50},
		{[]string{" risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists ."},
			[]string{"risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists ."}, 63.361730},
		{[]string{" Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. "},
			[]string{"Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."}, 64.1302698},
		{[]string{"Niemand hat die Absicht, eine Mauer zu errichten"}, []string{"Niemand hat die Absicht, eine Mauer zu errichten"}, 100},
	} {
		s, err := CorpusChrF(c.hyps, [][]string{c.refs}, eps)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "chrF "+c.hyps[0], s.Score, c.want, 1e-4)
	}
	eff := ChrFOptions{Beta: 3}
	for _, c := range []struct {
		hyps, refs []string
		want       float64
	}{
		{[]string{"a"}, []string{"a"}, 100}, {[]string{""}, []string{"reference"}, 0}, {[]string{"a b c"}, []string{"a b c"}, 100},
		{[]string{"a b c"}, []string{"abc"}, 100}, {[]string{""}, []string{"c"}, 0}, {[]string{"a", "b"}, []string{"a", "c"}, 50},
		{[]string{"aa"}, []string{"ab"}, 25},
	} {
		s, _ := CorpusChrF(c.hyps, [][]string{c.refs}, eff)
		near(t, "effective order "+c.hyps[0], s.Score, c.want, 1e-4)
	}
	space := ChrFOptions{Beta: 3, Whitespace: true}
	for _, c := range []struct {
		hyp, ref string
		want     float64
	}{
		{"Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich.", "Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.", 67.3481606},
		{"risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .", "risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .", 65.2414427},
	} {
		s, _ := CorpusChrF([]string{c.hyp}, [][]string{{c.ref}}, space)
		near(t, "whitespace "+c.hyp, s.Score, c.want, 1e-4)
	}
	// Sentence level, default β = 2 with ε smoothing.
	for _, c := range []struct {
		hyp, ref string
		want     float64
	}{
		{"Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.", "Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.", 39.14078509},
		{"Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.", "A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři.", 31.22557079},
		{"Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.", "Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli.", 57.15704367},
	} {
		s, _ := CorpusChrF([]string{c.hyp}, [][]string{{c.ref}}, ChrFOptions{EpsSmoothing: true})
		near(t, "sentence "+c.hyp[:10], s.Score, c.want, 1e-4)
	}
}

func TestMetricsBadInput(t *testing.T) {
	if _, err := CorpusBLEU([]string{"a"}, [][]string{{"a", "b"}}, BLEUOptions{}); err == nil {
		t.Error("BLEU: no error for misaligned references")
	}
	if _, err := CorpusBLEU([]string{"a"}, nil, BLEUOptions{}); err == nil {
		t.Error("BLEU: no error without references")
	}
	if _, err := CorpusBLEU([]string{"a"}, [][]string{{"a"}}, BLEUOptions{Tokenize: "intl"}); err == nil {
		t.Error("BLEU: no error for an unknown tokenizer")
	}
	if _, err := CorpusChrF([]string{"a", "b"}, [][]string{{"a"}}, ChrFOptions{}); err == nil {
		t.Error("chrF: no error for misaligned references")
	}
}
