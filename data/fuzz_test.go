package data

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzBPE: encoding never panics, ids are in range, and text made of known
// characters decodes back to itself, cleaned (see Clean).
func FuzzBPE(f *testing.F) {
	tok := LearnBPE(append(numberTexts(300, true), numberTexts(300, false)...), 80)
	f.Add("vierhunderteinundzwanzig")
	f.Add("four hundred twenty-one")
	f.Add("  zwei   drei ")
	f.Add("ünknown ☃ \xff\xfe")
	f.Add("")
	f.Add("zwei\u200bdrei\u00ad vier\tfünf")
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Encode(s)
		known := utf8.ValidString(s) && !strings.Contains(s, WordMark)
		for _, id := range ids {
			if id < 0 || id >= tok.Size() {
				t.Fatalf("id %d out of range", id)
			}
			if id == UnkID {
				known = false
			}
		}
		got := tok.Decode(ids)
		if known && got != Clean(s, tok.Clean) {
			t.Fatalf("round trip %q → %q", s, got)
		}
	})
}
