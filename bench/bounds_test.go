package bench

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/sysmem"
)

// Every bench flag is bounded and named in its error, and a run the
// machine cannot hold is refused before anything is allocated (bug 4).
func TestBenchOptionsBounds(t *testing.T) {
	limit := sysmem.Limit{Bytes: 4 << 30, Source: "ulimit -v"}
	for _, tc := range []struct {
		set  func(o *Options)
		want string
	}{
		{func(o *Options) { o.Batch = 1000000 }, "--batch must be in [1, 4096], got 1000000"},
		{func(o *Options) { o.SrcLen = 1000000 }, "--src-len must be in [2, 4096], got 1000000"},
		{func(o *Options) { o.Steps = 1000000000 }, "--steps must be in [1, 10000], got 1000000000"},
		{func(o *Options) { o.Heads = 3 }, "--heads 3 does not divide --d-model 128"},
		{func(o *Options) { o.Heads = 0 }, "--heads must be in [1, 1024], got 0"},
		{func(o *Options) { o.Vocab = 1 }, "--vocab must be in [5, 1048576], got 1"},
		{func(o *Options) { o.Dropout = math.NaN() }, "--dropout must be in [0, 1), got NaN"},
		{func(o *Options) { o.Decode, o.DecodeReps = true, 1000000000 }, "--decode-reps must be in [1, 1000]"},
		{func(o *Options) { o.Decode, o.DecodeLen = true, 100000 }, "--decode-len must be in [1, 1024], got 100000"},
		{func(o *Options) { o.Batch, o.SrcLen, o.TgtLen = 4096, 4096, 4096 }, "a training step needs about"},
		{func(o *Options) { o.Decode, o.DecodeBatch, o.DecodeLen, o.DecodeSrcLen = true, 4096, 1024, 1024 }, "decoding needs about"},
		{func(o *Options) {
			o.Decode, o.DecodeBatch, o.DecodeBeam, o.DecodeLen, o.DecodeSrcLen = true, 4096, 256, 1024, 1024
		}, "decoding needs about"},
		{func(o *Options) { o.Decode, o.DecodeBeam = true, -1 }, "--decode-beam must be in [1, 256], got -1"},
	} {
		o := DefaultOptions()
		tc.set(&o)
		err := o.Check(limit)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
		if _, err := Run(context.Background(), o, nil); err == nil {
			t.Errorf("Bench ran %+v", o)
		}
	}
	if err := DefaultOptions().Check(limit); err != nil {
		t.Errorf("default options: %v", err)
	}
}

// bench-long bounds its flags and estimates the memory of a step, full
// attention's batch × heads × seq² weights included (bug 5).
func TestLongBenchBounds(t *testing.T) {
	limit := sysmem.Limit{Bytes: 4 << 30, Source: "ulimit -v"}
	for _, tc := range []struct {
		set  func(o *LongOptions)
		want string
	}{
		{func(o *LongOptions) { o.SeqLen = 1000000000 }, "--seq must be in [2, 65536], got 1000000000"},
		{func(o *LongOptions) { o.SeqLen, o.Attention = 65536, "full" }, "--seq 65536 --batch 1: a training step needs about"},
		{func(o *LongOptions) { o.SeqLen, o.Attention = 65536, "linear" }, "--seq 65536 --batch 1: a training step needs about"},
		{func(o *LongOptions) { o.Batch = 1000000 }, "--batch must be in [1, 4096], got 1000000"},
		{func(o *LongOptions) { o.Batch = 4096 }, "--seq 1024 --batch 4096: a training step needs about"},
		{func(o *LongOptions) { o.DModel, o.FFDim = 16384, 65536 }, "--seq 1024 --batch 1: a training step needs about"},
		{func(o *LongOptions) { o.Heads = 3 }, "--heads 3 does not divide --d-model 256"},
		{func(o *LongOptions) { o.Steps = 1 << 30 }, "--steps must be in [1, 1000]"},
		{func(o *LongOptions) { o.Attention, o.Window = "sliding_window", 1<<20 }, "--window must be in [1, 65536]"},
	} {
		o := DefaultLongOptions()
		tc.set(&o)
		if err := o.Check(limit); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
	if err := DefaultLongOptions().Check(limit); err != nil {
		t.Errorf("default options: %v", err)
	}
}

// The classifier's memory estimate is within a factor of two of the peaks
// docs/long-sequences.jsonl measured.
func TestLongBenchMemoryEstimateMatchesRuns(t *testing.T) {
	res, err := ReadLong("../docs/long-sequences.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		e := rundir.ClassifyMemory(r.LongOptions.model(), longBenchVocab, r.Batch, r.SeqLen, "float32", r.Checkpoint, 0)
		ratio := float64(e.Train) / (1 << 20) / r.PeakRSSMB
		t.Logf("%s chunk %d n=%d checkpoint %v: estimate / measured %.2f", r.Attention, r.Chunk, r.SeqLen, r.Checkpoint, ratio)
		if ratio < 0.5 || ratio > 2 {
			t.Errorf("%s n=%d checkpoint %v: estimate %.0f MB, measured %.0f MB", r.Attention, r.SeqLen, r.Checkpoint, float64(e.Train)/(1<<20), r.PeakRSSMB)
		}
	}
}

// A report of one result draws (the log axes get a range around the one
// point); lines missing fields are refused with their line (bug 5).
func TestLongReportOnePointAndMissingFields(t *testing.T) {
	dir := t.TempDir()
	one := filepath.Join(dir, "one.jsonl")
	os.WriteFile(one, []byte(`{"attention":"full","seq_len":256,"batch":1,"step_seconds":0.66,"peak_rss_mb":340.6}`+"\n"), 0o644)
	res, err := ReadLong(one)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"png", "svg"} {
		if img, err := DrawLong(res, format); err != nil || len(img) == 0 {
			t.Errorf("%s: %d bytes, %v", format, len(img), err)
		}
	}
	for _, tc := range []struct{ line, want string }{
		{`{"attention":"full","seq_len":256}`, ":1: step_seconds must be a positive number"},
		{`{"attention":"full","step_seconds":1,"peak_rss_mb":3}`, ":1: seq_len must be positive"},
		{`{"seq_len":256,"step_seconds":1,"peak_rss_mb":3}`, ":1: no attention field"},
		{`{"attention":"full","seq_len":"x"}`, ":1: not a bench-long result line"},
	} {
		p := filepath.Join(dir, "bad.jsonl")
		os.WriteFile(p, []byte(tc.line+"\n"), 0o644)
		if _, err := ReadLong(p); err == nil || !strings.HasPrefix(err.Error(), p+tc.want) {
			t.Errorf("%s: error %v, want %q", tc.line, err, p+tc.want)
		}
	}
	if _, err := DrawLong([]LongResult{{}}, "png"); err == nil {
		t.Error("drew an empty result")
	}
}
