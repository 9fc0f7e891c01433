package data

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// sharedData returns the path of a corpus file in ../shared/data, or skips
// the test when the shared folder is absent.
func sharedData(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not found: the real corpora live in ../shared/data next to the project (skipping)", p)
	}
	return p
}

// BPE learned on a real corpus decodes every line of it back exactly.
func TestBPERoundTripRealCorpora(t *testing.T) {
	for _, rel := range []string{"multi30k/train.de", "multi30k/train.en", "tatoeba-deu-eng/train.de", "tatoeba-deu-eng/train.en"} {
		t.Run(rel, func(t *testing.T) {
			lines, err := ReadLines(sharedData(t, rel))
			if err != nil {
				t.Fatal(err)
			}
			for i := range lines {
				lines[i] = Clean(lines[i], CleanOptions{Normalize: "nfc"})
			}
			start := time.Now()
			tok := LearnBPE(lines, 8000)
			t.Logf("%d lines, %d merges learned in %v", len(lines), len(tok.Merges), time.Since(start).Round(time.Millisecond))
			for i, l := range lines {
				if got := tok.Decode(tok.Encode(l)); got != l {
					t.Fatalf("line %d: %q decodes to %q", i+1, l, got)
				}
			}
		})
	}
}
