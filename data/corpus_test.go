package data

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadTSV(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.tsv")
	os.WriteFile(good, []byte("Hallo Welt\tHello world\n  Zwei \t two \n\n"), 0o644)
	pairs, err := ReadTSV(good)
	if err != nil {
		t.Fatal(err)
	}
	want := []Pair{{"Hallo Welt", "Hello world"}, {"Zwei", "two"}, {}}
	if !reflect.DeepEqual(pairs, want) {
		t.Errorf("got %q", pairs)
	}
	bad := filepath.Join(dir, "bad.tsv")
	os.WriteFile(bad, []byte("a\tb\nno tab here\n"), 0o644)
	if _, err := ReadTSV(bad); err == nil || !strings.Contains(err.Error(), bad+":2: want one tab between source and target, found 0") {
		t.Errorf("got %v", err)
	}
	two := filepath.Join(dir, "two.tsv")
	os.WriteFile(two, []byte("a\tb\tc\n"), 0o644)
	if _, err := ReadTSV(two); err == nil || !strings.Contains(err.Error(), ":1: want one tab between source and target, found 2") {
		t.Errorf("got %v", err)
	}
}

func TestFilterRatio(t *testing.T) {
	ex := []Example{{Src: []int{1}, Tgt: []int{1, 2, 3}}, {Src: []int{1, 2}, Tgt: []int{1, 2, 3}}, {Src: []int{1, 2, 3, 4, 5, 6, 7}, Tgt: []int{1, 2}}}
	kept, dropped := FilterRatio(ex, 2)
	if dropped != 2 || len(kept) != 1 || len(kept[0].Src) != 2 {
		t.Errorf("kept %v, dropped %d", kept, dropped)
	}
}

func TestClean(t *testing.T) {
	for _, c := range []struct {
		in   string
		opt  CleanOptions
		want string
	}{
		{"  Ein\u200b Mann\u00ad\tläuft  ", CleanOptions{}, "Ein Mann läuft"},
		{"Tom &amp; Jerry &#39;x&#39;", CleanOptions{}, "Tom &amp; Jerry &#39;x&#39;"},
		{"Tom &amp; Jerry &#39;x&#39;", CleanOptions{Entities: true}, "Tom & Jerry 'x'"},
		{"Cafe\u0301", CleanOptions{Normalize: "nfc"}, "Café"},
		{"ﬁ ²", CleanOptions{Normalize: "nfc"}, "ﬁ ²"},
		{"ﬁ ²", CleanOptions{Normalize: "nfkc"}, "fi 2"},
	} {
		if got := Clean(c.in, c.opt); got != c.want {
			t.Errorf("Clean(%q, %+v) = %q, want %q", c.in, c.opt, got, c.want)
		}
	}
	if err := (CleanOptions{Normalize: "nfd"}).Check(); err == nil {
		t.Error("no error for nfd")
	}
	// The tokenizer applies its own cleaning when it encodes.
	tok := LearnBPE([]string{"Café"}, 3)
	tok.Clean = CleanOptions{Normalize: "nfc"}
	if got := tok.Decode(tok.Encode("Cafe\u0301\u200b")); got != "Café" {
		t.Errorf("encode cleans: got %q", got)
	}
}
