package data

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/gotransformer/transformer/safeio"
)

// maxLine bounds the length of one corpus line in bytes (a variable so
// that tests can lower it).
var maxLine = 64 << 20

// ReadLines reads a UTF-8 text file into trimmed lines. The file must be a
// regular file of at most safeio.CorpusLimit bytes, and no line may be
// longer than 64 MiB; either is refused with an error naming the file (and
// the line).
func ReadLines(path string) ([]string, error) {
	f, err := safeio.Open(path, safeio.CorpusLimit, "corpus file")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, min(1<<20, maxLine)), maxLine)
	for sc.Scan() {
		lines = append(lines, strings.TrimSpace(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s: line %d: longer than %s", path, len(lines)+1, safeio.Size(int64(maxLine)))
		}
		return nil, fmt.Errorf("%s: line %d: %v", path, len(lines)+1, err)
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
// A file that cannot be created or written is an error naming it.
func WriteParallel(pairs []Pair, srcPath, tgtPath string) error {
	if err := writeLines(srcPath, pairs, func(p Pair) string { return p.Src }); err != nil {
		return err
	}
	return writeLines(tgtPath, pairs, func(p Pair) string { return p.Tgt })
}

// writeLines writes side(p) for each pair, one a line, to path.
func writeLines(path string, pairs []Pair, side func(Pair) string) error {
	f, err := os.Create(path)
	if err != nil {
		return fileError(path, err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for _, p := range pairs {
		w.WriteString(side(p))
		if err := w.WriteByte('\n'); err != nil {
			break
		}
	}
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return fileError(path, err)
}

// fileError returns err naming path once: as it is if it already names a
// file (an *fs.PathError), else prefixed with "writing PATH: ".
func fileError(path string, err error) error {
	var pe *fs.PathError
	if err == nil || errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("writing %s: %v", path, err)
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
