package main

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/translate"
)

// Decoding inputs out of bounds give one line on stderr naming the flag
// and the limit, and exit status 1; a huge input line is truncated to the
// model's limit and translated quickly.
func TestDecodeBounds(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tiny.yaml", tinyConfig)
	run := filepath.Join(dir, "run")
	if status, _, stderr := runCLI(t, "", "train", "-c", cfg, "--out", run, "--steps", "1"); status != 0 {
		t.Fatal(stderr)
	}
	src := writeFile(t, dir, "s.en", "a b\n")
	long2k := strings.Repeat("a b ", 512) // 2 KiB, 2048 tokens
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"huge beam", []string{"translate", "-k", run, "--beam", "1000000000", "a b"}, "--beam must be at most 256, got 1000000000"},
		{"beam above vocabulary", []string{"translate", "-k", run, "--beam", "200", "a b"}, "--beam must be at most the target vocabulary of "},
		{"max input above limit", []string{"translate", "-k", run, "--max-input-tokens", "2000", "a b"}, "--max-input-tokens 2000 exceeds the model's limit of 1024 tokens"},
		{"length penalty NaN", []string{"translate", "-k", run, "--beam", "2", "--length-penalty", "NaN", "a b"}, "--length-penalty must be a finite number, got NaN"},
		{"length penalty Inf", []string{"translate", "-k", run, "--beam", "2", "--length-penalty", "+Inf", "a b"}, "--length-penalty must be a finite number, got +Inf"},
		{"eval huge beam", []string{"eval", "-k", run, "--src", src, "--ref", src, "--beam", "1000000000"}, "--beam must be at most 256, got 1000000000"},
		{"eval beam above vocabulary", []string{"eval", "-k", run, "--src", src, "--ref", src, "--beam", "256"}, "--beam must be at most the target vocabulary of "},
		{"eval length penalty NaN", []string{"eval", "-k", run, "--src", src, "--ref", src, "--length-penalty", "nan"}, "--length-penalty must be a finite number, got NaN"},
		{"attention long sentence", []string{"attention", "-k", run, "-o", filepath.Join(dir, "att"), long2k}, "the sentence has 2048 tokens; attention is drawn for at most 256"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { expectError(t, c.want, c.args...) })
	}

	t.Run("1 MB line with no flag limit", func(t *testing.T) {
		line := strings.Repeat("a b ", 1<<18) // 1 MiB, 2^20 tokens
		start := time.Now()
		status, out, stderr := runCLI(t, line+"\nb a\n", "translate", "-k", run, "--max-input-tokens", "0")
		if status != 0 || strings.Count(out, "\n") != 2 {
			t.Fatalf("status %d, output %q, stderr %q", status, out, stderr)
		}
		if want := "transformer: warning: line 1: input of 1048576 tokens truncated to 1024\n"; stderr != want {
			t.Errorf("stderr %q, want %q", stderr, want)
		}
		t.Logf("translated in %v", time.Since(start))
	})

	t.Run("widest beam", func(t *testing.T) {
		// The widest beam the vocabulary allows, on a short input.
		ck, err := rundir.LoadCheckpoint(run, "best")
		if err != nil {
			t.Fatal(err)
		}
		beam := min(model.MaxBeam, ck.Model.Config.TgtVocab)
		status, out, stderr := runCLI(t, "", "translate", "-k", run, "--beam", strconv.Itoa(beam), "--nbest", strconv.Itoa(beam), "a b c d")
		if status != 0 || strings.Count(out, "\n") == 0 {
			t.Fatalf("beam %d: status %d, output %q, stderr %q", beam, status, out, stderr)
		}
	})

	t.Run("cancelled context", func(t *testing.T) {
		ck, err := rundir.LoadCheckpoint(run, "best")
		if err != nil {
			t.Fatal(err)
		}
		tr := model.NewTranslator(ck.Model, 0)
		defer tr.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		lines := []string{"a b c", "d e"}
		if _, err := translate.Greedy(ctx, tr, ck.SrcTok, ck.TgtTok, lines, ck.Config.Decoding.Options(), 0, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("Translate: %v, want context.Canceled", err)
		}
		if _, err := translate.Beam(ctx, tr, ck.SrcTok, ck.TgtTok, lines, model.BeamOptions{Beam: 3}, 0, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("TranslateBeam: %v, want context.Canceled", err)
		}
		if _, err := translate.Greedy(context.Background(), tr, ck.SrcTok, ck.TgtTok, lines, ck.Config.Decoding.Options(), 0, nil); err != nil {
			t.Errorf("Translate without cancelling: %v", err)
		}
	})
}
