// Package safeio reads the project's files within limits: every file is
// checked to be a regular file no larger than a limit fit for its kind
// before a byte of it is read, so that a /dev/zero, a FIFO, a directory or
// a sparse 50 GB file named where a config or a checkpoint belongs gives a
// one-line error instead of an allocation the machine cannot hold.
package safeio

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Limits for the kinds of files the project reads. A file larger than its
// limit is refused with an error naming the file, its size and the limit.
const (
	ConfigLimit    = 1 << 20   // a YAML config: 1 MiB
	PointerLimit   = 4 << 10   // a run's latest/best pointer: 4 KiB
	StateLimit     = 16 << 20  // a checkpoint's state.json: 16 MiB
	TokenizerLimit = 64 << 20  // a tokenizer's JSON: 64 MiB
	MetricsLimit   = 1 << 30   // a run's metrics.jsonl: 1 GiB
	CorpusLimit    = 8 << 30   // one corpus file: 8 GiB (read line by line)
	HeaderLimit    = 100 << 20 // a safetensors JSON header: 100 MiB, as the format says
)

// Check returns the size of path after checking that it is a regular file
// (symbolic links followed) of at most limit bytes; kind names the file in
// errors ("config", "tokenizer").
func Check(path string, limit int64, kind string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			pe.Op = "open" // as os.ReadFile would say
		}
		return 0, err
	}
	if !st.Mode().IsRegular() {
		what := "not a regular file"
		if st.IsDir() {
			what = "a directory"
		}
		return 0, fmt.Errorf("%s: %s is %s", path, kind, what)
	}
	if st.Size() > limit {
		return 0, fmt.Errorf("%s: %s of %s is larger than its limit of %s", path, kind, Size(st.Size()), Size(limit))
	}
	return st.Size(), nil
}

// ReadFile reads path whole after Check; a file that grows past limit while
// it is read is refused too.
func ReadFile(path string, limit int64, kind string) ([]byte, error) {
	size, err := Check(path, limit, kind)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 0, size+1)
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			return nil, fmt.Errorf("%s: %s grew past its limit of %s while it was read", path, kind, Size(limit))
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// Open opens path for reading after Check (for files read in a stream,
// such as corpora).
func Open(path string, limit int64, kind string) (*os.File, error) {
	if _, err := Check(path, limit, kind); err != nil {
		return nil, err
	}
	return os.Open(path)
}

// Size formats a byte count with a binary unit ("1.5 GiB").
func Size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	v, i := float64(n)/unit, 0
	for v >= unit && i < 5 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[i])
}
