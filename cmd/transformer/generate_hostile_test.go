package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// generate refuses valid_size 0 as a config does (training needs a
// validation split).
func TestGenerateValidSizeZero(t *testing.T) {
	dir := t.TempDir()
	for _, task := range []string{"copy", "reverse", "numbers"} {
		expectError(t, "--valid-size must be positive, got 0",
			"generate", task, "--out", filepath.Join(dir, task), "--valid-size", "0", "--train-size", "10")
		if _, err := os.Stat(filepath.Join(dir, task)); err == nil {
			t.Errorf("%s: --out was made for a refused command", task)
		}
	}
}

// generate never overwrites the data files of an earlier generate (or
// anyone's): each of the six files it writes is checked first.
func TestGenerateRefusesExistingFiles(t *testing.T) {
	for _, name := range []string{"train.src", "valid.tgt", "test.src"} {
		dir := t.TempDir()
		p := writeFile(t, dir, name, "precious\n")
		expectError(t, p+" exists: remove it or choose another --out",
			"generate", "copy", "--out", dir, "--train-size", "10", "--valid-size", "2", "--test-size", "2")
		if b, _ := os.ReadFile(p); string(b) != "precious\n" {
			t.Errorf("%s was overwritten: %q", name, b)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("%s: the refused command wrote %d files", name, len(entries)-1)
		}
	}
	// The numbers task writes .en and .de: a train.src does not stop it,
	// a train.de does.
	dir := t.TempDir()
	writeFile(t, dir, "train.src", "x\n")
	if status, _, stderr := runCLI(t, "", "generate", "numbers", "--out", dir, "--train-size", "10"); status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	expectError(t, filepath.Join(dir, "train.en")+" exists: remove it or choose another --out",
		"generate", "numbers", "--out", dir, "--train-size", "10")
	// A dangling symbolic link counts: writing would follow it.
	dir = t.TempDir()
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), filepath.Join(dir, "test.tgt")); err != nil {
		t.Skip(err)
	}
	expectError(t, filepath.Join(dir, "test.tgt")+" exists",
		"generate", "copy", "--out", dir, "--train-size", "10", "--valid-size", "2")
	// An empty existing directory is fine.
	dir = t.TempDir()
	if status, out, stderr := runCLI(t, "", "generate", "copy", "--out", dir, "--train-size", "10", "--valid-size", "2"); status != 0 ||
		!strings.Contains(out, "wrote 10 train, 2 valid, 1000 test pairs") {
		t.Fatalf("status %d: %s %s", status, out, stderr)
	}
}

// generate refuses an --out that is or lies inside a run directory.
func TestGenerateRefusesRunDirectory(t *testing.T) {
	for _, marker := range []string{"src_tokenizer.json", "latest", "checkpoints/"} {
		run := t.TempDir()
		writeFile(t, run, "config.yaml", "data: {}\n")
		if strings.HasSuffix(marker, "/") {
			if err := os.Mkdir(filepath.Join(run, marker), 0o755); err != nil {
				t.Fatal(err)
			}
		} else {
			writeFile(t, run, marker, "{}")
		}
		args := []string{"generate", "copy", "--train-size", "10", "--valid-size", "2", "--out"}
		expectError(t, "--out "+run+": is a run directory", append(args, run)...)
		sub := filepath.Join(run, "data", "gen")
		expectError(t, "--out "+sub+": is inside the run "+run, append(args, sub)...)
		// Written relative to the working directory, through a symbolic link.
		link := filepath.Join(t.TempDir(), "link")
		if err := os.Symlink(run, link); err == nil {
			expectError(t, "--out "+filepath.Join(link, "x")+": is inside the run", append(args, filepath.Join(link, "x"))...)
		}
		if _, err := os.Stat(filepath.Join(run, "data")); err == nil {
			t.Errorf("%s: the refused command made a directory in the run", marker)
		}
	}
	// A config.yaml alone is not a run.
	dir := t.TempDir()
	writeFile(t, dir, "config.yaml", "data: {}\n")
	if status, _, stderr := runCLI(t, "", "generate", "copy", "--out", filepath.Join(dir, "d"), "--train-size", "10", "--valid-size", "2"); status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
}

// score: the lines that crashed the 13a tokenizer's n-gram counting
// (NUL next to punctuation) are scored like any other.
func TestScoreHostileBytes(t *testing.T) {
	dir := t.TempDir()
	for i, line := range []string{"x\x00.@a", "\x00>@a", "\x00<@a", "\x00>@ab", "\xff\xfe\x00,.-1-\x01"} {
		h := writeFile(t, dir, "h", line+"\n")
		r := writeFile(t, dir, "r", "a b\n")
		for _, ref := range []string{r, h} {
			status, out, stderr := runCLI(t, "", "score", "--hyp", h, "--ref", ref)
			if status != 0 || stderr != "" || !strings.Contains(out, "BLEU = ") || !strings.Contains(out, "chrF2 = ") {
				t.Errorf("line %d (%q) against %s: status %d, stdout %q, stderr %q", i, line, filepath.Base(ref), status, out, stderr)
			}
		}
	}
}

// plot: a metrics.jsonl with a line over the scanner's limit is reported
// with its path and line.
func TestPlotLongMetricsLine(t *testing.T) {
	run := t.TempDir()
	long := `{"kind":"train","step":1,"x":"` + strings.Repeat("a", 17<<20) + `"}` + "\n"
	writeFile(t, run, "metrics.jsonl", long)
	expectError(t, run+": "+filepath.Join(run, "metrics.jsonl")+":1: line longer than 16 MiB",
		"plot", run, "--out", filepath.Join(t.TempDir(), "c"))
}
