package data

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzLoadBPE: ParseBPE never panics on any bytes, and a tokenizer it
// accepts encodes and decodes any text, invalid UTF-8 and unknown
// characters included, with every id in range.
func FuzzLoadBPE(f *testing.F) {
	tok := LearnBPE(append(numberTexts(100, true), numberTexts(100, false)...), 40)
	tok.Clean = CleanOptions{Normalize: "nfc", Entities: true}
	good, err := json.MarshalIndent(tok, "", " ") // as Save writes it
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(strings.Replace(string(good), `"<s>"`, `"<x>"`, 1)))
	f.Add([]byte(strings.Replace(string(good), `"normalize": "nfc"`, `"normalize": "nfd"`, 1)))
	f.Add([]byte(`{"vocab":["<pad>","<unk>","<s>","</s>","a","b","ab"],"merges":[["a","b"]]}`))
	f.Add([]byte(`{"vocab":["<pad>","<unk>","<s>","</s>","a","a"],"merges":[]}`))
	f.Add([]byte(`{"vocab":["<pad>","<unk>","<s>","</s>","a","b"],"merges":[["a","b"]]}`))
	f.Add([]byte(`{"vocab":["<pad>","<unk>","<s>","</s>","a","b","ab"],"merges":[["a","b","c"],["a"]]}`))
	f.Add([]byte(`{"vocab":["<pad>","<unk>","<s>","</s>","<","s",">","<s","▁","▁<s>"],"merges":[["<","s"],["<s",">"],["▁","<s>"]]}`))
	f.Add([]byte(`{"vocab":["<pad>","<unk>","<s>","</s>",""],"merges":[["",""]]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"vocab":null,"merges":null,"clean":null}`))
	f.Add([]byte{})
	texts := []string{"", "four hundred twenty-one", "vierhundert\xff\xfeeins", "☃ <s> </s> <unk> ▁▁", "a b ab ba &amp; \u200b", strings.Repeat("ab", 100)}
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := ParseBPE("tok.json", b)
		if err != nil {
			if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "tok.json: ") {
				t.Fatalf("error is not one line naming the file: %q", err)
			}
			return
		}
		for _, s := range texts {
			ids := tok.Encode(s)
			for _, id := range ids {
				if id < 0 || id >= tok.Size() {
					t.Fatalf("Encode(%q): id %d out of range 0..%d", s, id, tok.Size()-1)
				}
			}
			tok.Decode(ids)
			tok.Decode(append(ids, -1, tok.Size(), PadID, BosID, EosID))
			tok.Tokens(ids)
		}
	})
}
