package rundir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gotransformer/transformer/runlog"
)

// A run directory belongs to one run: training locks it, a new run refuses
// a directory that already holds one (unless told to replace it), no run is
// made inside another, and a command never writes its output over its input.

// IsRun reports whether dir holds a run: a config and a tokenizer, a
// checkpoint pointer or a checkpoints folder.
func IsRun(dir string) bool {
	if !exists(filepath.Join(dir, ConfigFile)) {
		return false
	}
	for _, f := range []string{SrcTokenizerFile, LatestFile, CheckpointsDir} {
		if exists(filepath.Join(dir, f)) {
			return true
		}
	}
	return false
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// absPath is path made absolute, with symbolic links resolved as far as
// the path exists.
func absPath(path string) string {
	p, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	rest := ""
	for q := p; ; q = filepath.Dir(q) {
		if r, err := filepath.EvalSymlinks(q); err == nil {
			return filepath.Join(r, rest)
		}
		if filepath.Dir(q) == q {
			return p
		}
		rest = filepath.Join(filepath.Base(q), rest)
	}
}

// EnclosingRun returns the run directory that path lies inside (path
// itself excluded), with symbolic links resolved, or "".
func EnclosingRun(path string) string {
	o := absPath(path)
	for p := filepath.Dir(o); ; p = filepath.Dir(p) {
		if IsRun(p) {
			return p
		}
		if filepath.Dir(p) == p {
			return ""
		}
	}
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// CheckOutputDir refuses an output run directory out that would destroy
// or corrupt a run: one that is, holds or lies inside one of the inputs, or
// lies inside another run. A directory that already holds a run is refused
// unless overwrite is set; any other directory that is not empty is always
// refused, since replacing it could delete files that are not a run's.
func CheckOutputDir(out string, overwrite bool, inputs ...string) error {
	o := absPath(out)
	for _, in := range inputs {
		i := absPath(in)
		if within(o, i) || within(i, o) {
			return fmt.Errorf("%s: the output directory is (or holds, or is inside) the input run %s: choose another directory", out, in)
		}
	}
	if run := EnclosingRun(out); run != "" {
		return fmt.Errorf("%s: the output directory is inside the run %s: choose a directory outside it", out, run)
	}
	st, err := os.Stat(o)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s: the output directory is a file", out)
	}
	if IsRun(o) {
		if !overwrite {
			return fmt.Errorf("%s already holds a run: continue it with --resume %s, choose another --out, or pass --overwrite to replace it", out, out)
		}
		return nil
	}
	entries, err := os.ReadDir(o)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() != lockFile && e.Name() != LogFile {
			return fmt.Errorf("%s: the output directory is not empty and holds no run (it has %s): choose a new or empty directory", out, e.Name())
		}
	}
	return nil
}

// CheckOutputFile refuses an output file that would destroy something: a
// path that exists and is not a regular file (a device, a FIFO, a
// directory), one inside a run directory (only training writes there), or
// one that is the same file as an input.
func CheckOutputFile(out string, inputs ...string) error {
	if st, err := os.Stat(out); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file, refusing to replace it", out)
	}
	o := absPath(out)
	if run := EnclosingRun(out); run != "" {
		return fmt.Errorf("%s: is inside the run %s, which only training writes: choose a path outside it", out, run)
	}
	ost, err := os.Stat(out)
	for _, in := range inputs {
		if in == "" {
			continue
		}
		ist, ierr := os.Stat(in)
		if absPath(in) == o || err == nil && ierr == nil && os.SameFile(ost, ist) {
			return fmt.Errorf("%s: is the input %s: choose another output", out, in)
		}
	}
	return nil
}

// RemoveRun deletes the files of the run in dir (and nothing else), for
// transformer train --overwrite.
func RemoveRun(dir string) error {
	for _, f := range []string{CheckpointsDir, LatestFile, BestFile, ConfigFile, SrcTokenizerFile, TgtTokenizerFile,
		LogFile, ResultFile, runlog.MetricsFile, runlog.CurvesFile + ".png", runlog.CurvesFile + ".svg"} {
		if err := os.RemoveAll(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("replacing the run in %s: %w", dir, err)
		}
	}
	return nil
}
