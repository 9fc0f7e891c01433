package rundir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotransformer/transformer/sysmem"
)

// The estimate is within a factor of 1.5 of the peak RSS measured for the
// shipped configs on this project's machines (README results table:
// numbers-en-de 488 MB, multi30k 2.9 GB with vocabularies of about 170 and
// 5,300 tokens).
func TestMemoryEstimateMatchesRuns(t *testing.T) {
	for _, r := range []struct {
		config   string
		vocab    int
		measured float64
	}{{"numbers-en-de.yaml", 170, 488e6}, {"multi30k-de-en.yaml", 5300, 2.9e9}} {
		c, err := parseNoValidate(r.config, mustRead(t, filepath.Join("..", "configs", r.config)))
		if err != nil {
			t.Fatal(err)
		}
		e := c.EstimateMemory(r.vocab, r.vocab)
		ratio := float64(e.Train) / r.measured
		t.Logf("%s: %v; measured %.0f MB, ratio %.2f", r.config, e, r.measured/1e6, ratio)
		if ratio < 1/1.5 || ratio > 1.5 {
			t.Errorf("%s: estimate %d bytes is %.2f× the measured peak", r.config, e.Train, ratio)
		}
	}
}

// A model the machine cannot hold is refused, naming the estimate and the
// key to change; what fits passes.
func TestMemoryProblems(t *testing.T) {
	c := DefaultConfig()
	c.Path = "big.yaml"
	limit := sysmem.Limit{Bytes: 4 << 30, Source: "ulimit -v"}
	if p := c.MemoryProblems(1000, 1000, limit); len(p) != 0 {
		t.Fatalf("default config refused: %v", p)
	}
	c.Model.DModel, c.Model.FFDim = 8192, 32768
	p := c.MemoryProblems(1000, 1000, limit)
	if len(p) == 0 || !strings.Contains(p[0].Error(), "model.d_model: a training step needs about") || !strings.Contains(p[0].Error(), "4.0 GiB (ulimit -v) available") {
		t.Errorf("big model: %v", p)
	}
	c = DefaultConfig()
	c.Training.BatchTokens = 1 << 20
	c.Data.MaxLen = 4096
	if p := c.MemoryProblems(30000, 30000, limit); len(p) == 0 || !strings.Contains(p[0].Error(), "training.batch_tokens") {
		t.Errorf("big batch: %v", p)
	}
	if p := c.MemoryProblems(30000, 30000, sysmem.Limit{}); len(p) != 0 {
		t.Errorf("unknown limit: %v", p)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
