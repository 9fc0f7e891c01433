package data

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// wantErr fails unless err is one line containing want.
func wantErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: no error, want %q", what, want)
	case !strings.Contains(err.Error(), want):
		t.Errorf("%s: error %q, want %q", what, err, want)
	case strings.Contains(err.Error(), "\n"):
		t.Errorf("%s: error is not one line: %q", what, err)
	}
}

func TestGeneratedBounds(t *testing.T) {
	num := func(tr, va, te int) Generated {
		return Generated{Task: "numbers", TrainSize: tr, ValidSize: va, TestSize: te}
	}
	sym := func(task string, tr, va, te, lo, hi, alpha int) Generated {
		return Generated{Task: task, TrainSize: tr, ValidSize: va, TestSize: te, MinLen: lo, MaxLen: hi, Alphabet: alpha}
	}
	for _, g := range []Generated{
		num(MaxNumbersTrain, MaxNumbersHeldOut, MaxNumbersHeldOut),
		num(0, 1, 0),
		sym("copy", MaxSymbolPairs-2, 1, 1, 1, 10, MaxAlphabet),
		sym("reverse", MaxSymbolTotal/MaxSymbolLen-1, 1, 0, MaxSymbolLen, MaxSymbolLen, 2),
	} {
		if err := g.Validate(); err != nil {
			t.Errorf("%+v: %v", g, err)
		}
	}
	for _, c := range []struct {
		g    Generated
		want string
	}{
		{num(100_000_000_000, 1000, 1000), "train_size must be at most 998000 for the numbers task, got 100000000000"},
		{num(-5, 1000, 1000), "train_size must not be negative, got -5"},
		{num(10, -1, 1000), "valid_size must not be negative, got -1"},
		{num(10, 1000, -1), "test_size must not be negative, got -1"},
		{num(10, MaxNumbersHeldOut+1, 0), "valid_size must be at most 100000 for the numbers task"},
		{num(10, 0, 600_000), "test_size must be at most 100000 for the numbers task, got 600000"},
		{sym("copy", 10, 1, 1, -1, 5, 4), "min_len must not be negative, got -1"},
		{sym("copy", 10, 1, 1, 1, -5, 4), "max_len must not be negative, got -5"},
		{sym("copy", 10, 1, 1, 1, 5, -4), "alphabet must not be negative, got -4"},
		{sym("copy", 10, 1, 1, 0, 5, 4), "min_len must be at least 1 for the copy task, got 0"},
		{sym("copy", 10, 1, 1, 6, 5, 4), "max_len must be at least min_len (6) for the copy task, got 5"},
		{sym("copy", 10, 1, 1, 1, MaxSymbolLen+1, 4), "max_len must be at most 4096 for the copy task, got 4097"},
		{sym("reverse", 10, 1, 1, 1, 5, 1), "alphabet must be at least 2 for the reverse task, got 1"},
		{sym("reverse", 10, 1, 1, 1, 5, 27), "alphabet must be at most 26 for the reverse task, got 27"},
		{sym("reverse", 1<<62, 1<<62, 1, 1, 5, 4), "train_size must be at most 10000000 for the reverse task"},
		{sym("reverse", MaxSymbolPairs, MaxSymbolPairs, 1, 1, 5, 4), "train_size + valid_size + test_size must be at most 10000000 for the reverse task, got 20000001"},
		{sym("copy", 1_000_000, 0, 0, 1, 101, 4), "(train_size + valid_size + test_size) × max_len must be at most 100000000 for the copy task, got 1000000 × 101"},
		{Generated{Task: "sums"}, `unknown generated task "sums"`},
	} {
		wantErr(t, c.g.Task, c.g.Validate(), c.want)
		_, _, _, err := Generate(c.g)
		wantErr(t, "Generate "+c.g.Task, err, c.want)
	}
}

func TestLongRangeBounds(t *testing.T) {
	ok := LongRange{Length: 64, Fillers: 8, Train: 1200, Valid: 100, Test: 200}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		g    LongRange
		want string
	}{
		{LongRange{Length: MaxLongRangeLength + 1, Fillers: 8, Train: 1, Valid: 1}, "length must be at most 65536"},
		{LongRange{Length: 10, Fillers: MaxLongRangeFillers + 1, Train: 1, Valid: 1}, "fillers must be at most 1048576"},
		{LongRange{Length: 10, Fillers: 8, Train: 1, Valid: 1, Test: -1}, "test_size not negative"},
		{LongRange{Length: 10, Fillers: 8, Train: 1, Test: 1}, "valid_size must be positive"},
		{LongRange{Length: 10, Fillers: 8, Train: 1 << 62, Valid: 1, Test: 1 << 62}, "train_size + valid_size + test_size must be at most 10000000"},
		{LongRange{Length: 10, Fillers: 8, Train: 1, Valid: 1 << 62, Test: 1}, "train_size + valid_size + test_size must be at most 10000000"},
		{LongRange{Length: 1000, Fillers: 8, Train: 100_000, Valid: 1, Test: 1}, "(train_size + valid_size + test_size) × length must be at most 100000000"},
	} {
		wantErr(t, "longrange", c.g.Check(), c.want)
	}
}

func TestReadLinesRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.txt")
	os.WriteFile(good, []byte("one\n 123456789 \nthree"), 0o644)
	for _, read := range []struct {
		name string
		f    func(string) error
	}{
		{"ReadLines", func(p string) error { _, err := ReadLines(p); return err }},
		{"ReadTSV", func(p string) error { _, err := ReadTSV(p); return err }},
		{"ReadParallel src", func(p string) error { _, err := ReadParallel(p, good); return err }},
		{"ReadParallel tgt", func(p string) error { _, err := ReadParallel(good, p); return err }},
	} {
		wantErr(t, read.name+" directory", read.f(dir), dir+": corpus file is a directory")
		wantErr(t, read.name+" missing", read.f(filepath.Join(dir, "none")), filepath.Join(dir, "none"))
		if runtime.GOOS != "windows" {
			wantErr(t, read.name+" /dev/zero", read.f("/dev/zero"), "/dev/zero: corpus file is not a regular file")
		}
	}

	defer func(n int) { maxLine = n }(maxLine)
	maxLine = 10
	wantErr(t, "long line", func() error { _, err := ReadLines(good); return err }(), good+": line 2: longer than 10 bytes")
	wantErr(t, "long line tsv", func() error { _, err := ReadTSV(good); return err }(), good+": line 2: longer than 10 bytes")
	maxLine = 64 << 20
	wantErr(t, "64 MiB", func() error {
		big := filepath.Join(dir, "big.txt")
		os.WriteFile(big, []byte("x\n"+strings.Repeat("y", maxLine+1)), 0o644)
		_, err := ReadLines(big)
		return err
	}(), "big.txt: line 2: longer than 64.0 MiB")
	lines, err := ReadLines(good)
	if err != nil || strings.Join(lines, "|") != "one|123456789|three" {
		t.Errorf("ReadLines(good) = %q, %v", lines, err)
	}
}

func TestWriteParallelNamesFile(t *testing.T) {
	dir := t.TempDir()
	pairs := []Pair{{"a b", "b a"}, {"c", "c"}}
	src, tgt := filepath.Join(dir, "x.src"), filepath.Join(dir, "x.tgt")
	if err := WriteParallel(pairs, src, tgt); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadParallel(src, tgt); err != nil || len(got) != 2 || got[0] != pairs[0] || got[1] != pairs[1] {
		t.Errorf("read back %q, %v", got, err)
	}
	wantErr(t, "directory target", WriteParallel(pairs, src, dir), dir)
	wantErr(t, "missing directory", WriteParallel(pairs, filepath.Join(dir, "no", "x.src"), tgt), filepath.Join(dir, "no", "x.src"))
	if runtime.GOOS == "linux" {
		if _, err := os.Stat("/dev/full"); err == nil {
			wantErr(t, "/dev/full", WriteParallel(pairs, src, "/dev/full"), "/dev/full")
		}
	}
}

func TestLoadBPERefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	tok := LearnBPE(numberTexts(100, false), 30)
	tok.Clean = CleanOptions{Normalize: "nfkc"}
	saved := filepath.Join(dir, "tok.json")
	if err := tok.Save(saved); err != nil {
		t.Fatal(err)
	}
	back, err := LoadBPE(saved)
	if err != nil {
		t.Fatal(err)
	}
	if s := "vierhundertzwei"; back.Decode(back.Encode(s)) != s || back.Size() != tok.Size() || back.Clean != tok.Clean {
		t.Errorf("tokenizer does not load back as saved")
	}
	// LearnBPE makes a special token's text a learned token when the corpus
	// holds it; that tokenizer loads.
	sp := LearnBPE([]string{"a<s> b<s> c<s> <s> <s>"}, 20)
	spPath := filepath.Join(dir, "special.json")
	sp.Save(spPath)
	if back, err := LoadBPE(spPath); err != nil {
		t.Error(err)
	} else if got := back.Decode(back.Encode("a<s> <s>")); got != "a<s> <s>" {
		t.Errorf("special text round trip: %q", got)
	}

	b, _ := os.ReadFile(saved)
	text := string(b)
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	const head = `{"vocab":["<pad>","<unk>","<s>","</s>"`
	for _, c := range []struct {
		name, path, want string
	}{
		{"directory", dir, dir + ": tokenizer is a directory"},
		{"missing", filepath.Join(dir, "none.json"), filepath.Join(dir, "none.json")},
		{"truncated", file("trunc.json", text[:len(text)/2]), "trunc.json: not a tokenizer file: unexpected end of JSON input"},
		{"empty", file("empty.json", ""), "empty.json: not a tokenizer file"},
		{"wrong type", file("type.json", `{"vocab":"abc"}`), "type.json: not a tokenizer file"},
		{"no specials", file("few.json", `{"vocab":["<pad>"]}`), "few.json: vocabulary has 1 tokens, fewer than the 4 special tokens"},
		{"special moved", file("moved.json", `{"vocab":["<pad>","<s>","<unk>","</s>"]}`), `moved.json: token 1 is "<s>", want special token "<unk>"`},
		{"duplicate token", file("dup.json", head+`,"a","b","a"]}`), `dup.json: token 6 "a" repeats token 4`},
		{"empty token", file("emptytok.json", head+`,"a",""]}`), "emptytok.json: token 5 is empty"},
		{"merge result missing", file("result.json", head+`,"a","b"],"merges":[["a","b"]]}`), `result.json: merge 0 "a"+"b" has no vocabulary entry`},
		{"merge part missing", file("part.json", head+`,"a","ab"],"merges":[["a","b"]]}`), `part.json: merge 0 "a"+"b": "b" is not in the vocabulary`},
		{"merge of three", file("three.json", head+`,"a","b","ab"],"merges":[["a","b","c"]]}`), "three.json: merge 0 has 3 parts, want 2"},
		{"merge of one", file("one.json", head+`,"a","b","ab"],"merges":[["ab"]]}`), "one.json: merge 0 has 1 parts, want 2"},
		{"repeated merge", file("rep.json", head+`,"a","b","ab"],"merges":[["a","b"],["a","b"]]}`), `rep.json: merge 1 "a"+"b" repeats merge 0`},
		{"unknown normal form", file("clean.json", strings.Replace(text, `"nfkc"`, `"nfd"`, 1)), `clean.json: clean: unknown Unicode normal form "nfd"`},
	} {
		_, err := LoadBPE(c.path)
		wantErr(t, c.name, err, c.want)
	}
	if runtime.GOOS != "windows" {
		_, err := LoadBPE("/dev/zero")
		wantErr(t, "/dev/zero", err, "/dev/zero: tokenizer is not a regular file")
	}
	// The largest vocabulary loads; one token more is refused.
	var big strings.Builder
	big.WriteString(head)
	for i := len(SpecialTokens); i < MaxBPEVocab; i++ {
		big.WriteString(`,"x` + strconv.FormatInt(int64(i), 36) + `"`)
	}
	if _, err := ParseBPE("big.json", []byte(big.String()+`]}`)); err != nil {
		t.Error(err)
	}
	_, err = ParseBPE("big.json", []byte(big.String()+`,"one more"]}`))
	wantErr(t, "too many tokens", err, "big.json: vocabulary has 2097153 tokens, more than the limit of 2097152")
	var many strings.Builder
	many.WriteString(head + `,"a","b","ab"],"merges":[`)
	for i := 0; i <= MaxBPEMerges; i++ {
		many.WriteString(`["a","b"],`)
	}
	_, err = ParseBPE("many.json", []byte(strings.TrimSuffix(many.String(), ",")+`]}`))
	wantErr(t, "too many merges", err, "many.json: 2097153 merges, more than the limit of 2097152")
}
