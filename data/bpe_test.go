package data

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func numberTexts(n int, german bool) []string {
	var out []string
	for i := 0; i < n; i++ {
		x := (i * 7919) % (MaxNumber + 1)
		if german {
			out = append(out, GermanNumber(x))
		} else {
			out = append(out, EnglishNumber(x))
		}
	}
	return out
}

func TestBPELearnsMorphemesAndRoundTrips(t *testing.T) {
	texts := numberTexts(3000, true)
	tok := LearnBPE(texts, 120)
	if len(tok.Merges) != 120 {
		t.Fatalf("%d merges, want 120", len(tok.Merges))
	}
	for _, want := range []string{"hundert", "tausend", "und"} {
		found := false
		for _, v := range tok.Vocab {
			if strings.Contains(v, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no token contains %q", want)
		}
	}
	for _, s := range append(texts, GermanNumber(777777), "unbekannt xyz", "") {
		ids := tok.Encode(s)
		if got := tok.Decode(ids); got != s && !strings.Contains(tok.Decode(ids), "<unk>") {
			t.Errorf("round trip %q → %q", s, got)
		}
	}
	ids := tok.Encode(GermanNumber(342005))
	if len(ids) >= len([]rune(GermanNumber(342005))) {
		t.Errorf("no compression: %d tokens", len(ids))
	}
}

func TestBPEUnknownCharacters(t *testing.T) {
	tok := LearnBPE([]string{"ab ab ab"}, 5)
	ids := tok.Encode("abz")
	if ids[len(ids)-1] != UnkID {
		t.Errorf("unknown character not mapped to UnkID: %v", ids)
	}
	if got := tok.Decode(ids); got != "ab<unk>" {
		t.Errorf("decode %q", got)
	}
}

func TestBPEDeterministicAndSaveLoad(t *testing.T) {
	texts := numberTexts(500, false)
	a, b := LearnBPE(texts, 60), LearnBPE(texts, 60)
	if !reflect.DeepEqual(a.Vocab, b.Vocab) || !reflect.DeepEqual(a.Merges, b.Merges) {
		t.Fatal("learning is not deterministic")
	}
	path := filepath.Join(t.TempDir(), "tok.json")
	if err := a.Save(path); err != nil {
		t.Fatal(err)
	}
	c, err := LoadBPE(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range texts {
		if !reflect.DeepEqual(a.Encode(s), c.Encode(s)) {
			t.Fatalf("loaded tokenizer encodes %q differently", s)
		}
	}
}

func TestCharacterTokenizerWithoutMerges(t *testing.T) {
	tok := LearnBPE([]string{"a b c"}, 0)
	if got := tok.Tokens(tok.Encode("c a")); !reflect.DeepEqual(got, []string{"▁", "c", "▁", "a"}) {
		t.Errorf("tokens %q", got)
	}
}

func TestBPELongWordsRoundTripInLinearTime(t *testing.T) {
	tok := LearnBPE(numberTexts(300, true), 80)
	long := strings.Repeat(GermanNumber(777777), 2000) // 120,000 characters, one word
	ids := tok.Encode(long + " " + long)
	if got := tok.Decode(ids); got != long+" "+long {
		t.Fatal("long words do not round-trip")
	}
	if len(ids) >= 2*len([]rune(long)) {
		t.Errorf("no merging inside chunks: %d tokens", len(ids))
	}
}
