package train

import (
	"context"
	"math"
	"path/filepath"
	"testing"
)

// training.composed_ops trains the same model as the fused ops: in float64
// with dropout, 20 steps of each end with weights equal to 1e-9.
func TestComposedOpsTrainTheSame(t *testing.T) {
	weights := func(composed bool) map[string][]float64 {
		c := resumeConfig(filepath.Join(t.TempDir(), "run"), 20)
		c.Training.Dtype = "float64"
		c.Training.ComposedOps = composed
		tr := trainFor(t, c, false, context.Background())
		out := map[string][]float64{}
		for _, n := range tr.Translation().Model.Store.Names() {
			out[n] = append([]float64(nil), tr.Translation().Model.Store.Get(n).Data().([]float64)...)
		}
		return out
	}
	fused, composed := weights(false), weights(true)
	worst := 0.0
	for n, w := range fused {
		for i := range w {
			worst = math.Max(worst, math.Abs(w[i]-composed[n][i])/math.Max(1, math.Abs(w[i])))
		}
	}
	t.Logf("worst relative weight difference after 20 steps: %.2g", worst)
	if worst > 1e-9 {
		t.Errorf("composed and fused training differ by %.3g", worst)
	}
}
