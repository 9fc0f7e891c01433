package data

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// ReadLines reads a UTF-8 text file into trimmed lines.
func ReadLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		lines = append(lines, strings.TrimSpace(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: line %d: %w", path, len(lines)+1, err)
	}
	return lines, nil
}

// ReadParallel reads aligned source and target files (line i of one
// translates line i of the other). Files with different line counts are an
// error naming both.
func ReadParallel(srcPath, tgtPath string) ([]Pair, error) {
	src, err := ReadLines(srcPath)
	if err != nil {
		return nil, err
	}
	tgt, err := ReadLines(tgtPath)
	if err != nil {
		return nil, err
	}
	if len(src) != len(tgt) {
		return nil, fmt.Errorf("misaligned corpus: %s has %d lines but %s has %d", srcPath, len(src), tgtPath, len(tgt))
	}
	out := make([]Pair, len(src))
	for i := range src {
		out[i] = Pair{src[i], tgt[i]}
	}
	return out, nil
}

// WriteParallel writes pairs to srcPath and tgtPath, one sentence a line.
func WriteParallel(pairs []Pair, srcPath, tgtPath string) error {
	var s, t strings.Builder
	for _, p := range pairs {
		s.WriteString(p.Src + "\n")
		t.WriteString(p.Tgt + "\n")
	}
	if err := os.WriteFile(srcPath, []byte(s.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(tgtPath, []byte(t.String()), 0o644)
}

// Sources returns the source side of pairs.
func Sources(pairs []Pair) []string {
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.Src
	}
	return out
}

// Targets returns the target side of pairs.
func Targets(pairs []Pair) []string {
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.Tgt
	}
	return out
}

// ReadTSV reads a tab-separated parallel corpus: each line is
// "source<TAB>target". A line without exactly one tab is an error naming
// the file and line.
func ReadTSV(path string) ([]Pair, error) {
	lines, err := ReadLines(path)
	if err != nil {
		return nil, err
	}
	out := make([]Pair, 0, len(lines))
	for i, l := range lines {
		if l == "" {
			out = append(out, Pair{})
			continue
		}
		src, tgt, ok := strings.Cut(l, "\t")
		if !ok || strings.Contains(tgt, "\t") {
			return nil, fmt.Errorf("%s:%d: want one tab between source and target, found %d", path, i+1, strings.Count(l, "\t"))
		}
		out = append(out, Pair{strings.TrimSpace(src), strings.TrimSpace(tgt)})
	}
	return out, nil
}
