package data

import (
	"fmt"
	"html"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// CleanOptions say how corpus lines are cleaned when they are read.
type CleanOptions struct {
	// Normalize is the Unicode normal form: "nfc" (the default in configs),
	// "nfkc", or "" for none.
	Normalize string `yaml:"normalize" json:"normalize,omitempty"`
	// Entities decodes HTML entities such as &amp; and &#39;.
	Entities bool `yaml:"entities" json:"entities,omitempty"`
}

// Check reports an unknown normal form.
func (o CleanOptions) Check() error {
	switch o.Normalize {
	case "", "nfc", "nfkc":
		return nil
	}
	return fmt.Errorf("unknown Unicode normal form %q (want nfc, nfkc or none)", o.Normalize)
}

// invisible are characters removed from every line: zero-width space,
// non-joiner and joiner, word joiner, byte-order mark and soft hyphen.
var invisible = strings.NewReplacer("\u200b", "", "\u200c", "", "\u200d", "", "\u2060", "", "\ufeff", "", "\u00ad", "")

// Clean returns a corpus line as the tokenizer sees it: HTML entities
// decoded if asked, invisible characters removed, Unicode normalized, and
// every run of whitespace (tabs included) turned into one space, with none
// at the ends. The BPE tokenizer reproduces cleaned lines exactly.
func Clean(s string, o CleanOptions) string {
	if o.Entities {
		s = html.UnescapeString(s)
	}
	s = invisible.Replace(s)
	switch o.Normalize {
	case "nfc":
		s = norm.NFC.String(s)
	case "nfkc":
		s = norm.NFKC.String(s)
	}
	return strings.Join(strings.Fields(s), " ")
}
