package runlog

import (
	"strconv"
	"strings"
	"testing"
)

// The validation panel draws the run's best_metric when it was logged (the
// numbers task's exact match, not its BLEU), else the first headline
// metric present.
func TestValidMetricPrefersTheRunsBestMetric(t *testing.T) {
	recs := []Record{{Kind: "valid", Step: 10, Values: map[string]float64{"bleu": 0, "exact_match": 0.9, "token_accuracy": 0.95}}}
	for _, c := range []struct{ metric, want string }{
		{"exact_match", "exact_match"}, {"token_accuracy", "token_accuracy"}, {"", "bleu"}, {"accuracy", "bleu"},
	} {
		if got := validMetric([]Curves{{Records: recs, Metric: c.metric}}); got != c.want {
			t.Errorf("metric %q: drew %q, want %q", c.metric, got, c.want)
		}
	}
	classify := []Record{{Kind: "valid", Step: 10, Values: map[string]float64{"accuracy": 0.7, "loss": 0.6}}}
	if got := validMetric([]Curves{{Records: classify}}); got != "accuracy" {
		t.Errorf("classify run: drew %q, want accuracy", got)
	}
}

// Step axes read whole steps (issue 20: "250.00").
func TestStepTicksAreWholeSteps(t *testing.T) {
	labels := 0
	for _, r := range [][2]float64{{0, 1000}, {1, 7}, {0, 3}, {250, 60000}} {
		for _, tk := range (stepTicks{}).Ticks(r[0], r[1]) {
			if tk.Label == "" {
				continue
			}
			labels++
			if strings.ContainsAny(tk.Label, ".e") || tk.Label != strconv.FormatInt(int64(tk.Value), 10) {
				t.Errorf("range %v: tick %v labelled %q", r, tk.Value, tk.Label)
			}
		}
	}
	if labels == 0 {
		t.Error("no labelled ticks")
	}
}
