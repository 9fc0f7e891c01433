package rundir

import (
	"fmt"

	"github.com/gotransformer/transformer/half"
)

// ConvertRun writes the weights of checkpoint which ("best", "last" or a
// step, as LoadCheckpoint) of run as a new run directory outDir whose
// weight matrices are format f (half.F16 or half.BF16; 0 writes float32,
// which also converts a 16-bit run back). Biases, layer norms and position
// tables stay float32 (model.Transformer.HalfWeights lists the rest).
// translate, eval, serve, info and export load the new run like any other;
// training cannot resume it. It returns the loaded checkpoint's path and
// the number of tensors converted.
func ConvertRun(run, which string, f half.Format, outDir string) (from string, converted int, err error) {
	if err := CheckOutputDir(outDir, false, run); err != nil {
		return "", 0, err
	}
	ck, err := LoadCheckpoint(run, which)
	if err != nil {
		return "", 0, err
	}
	if ck.Config.Training.Dtype == "float64" && f != 0 {
		return "", 0, fmt.Errorf("checkpoint %s: training.dtype is float64; 16-bit weights are computed in float32 (convert a float32 run)", run)
	}
	if converted, err = ck.Model.ToHalf(f); err != nil {
		return "", 0, fmt.Errorf("checkpoint %s: %w", run, err)
	}
	st := ck.State
	st.WeightsFormat = ""
	if f != 0 {
		st.WeightsFormat = f.String()
	}
	st.ConvertedFrom = ck.Path
	if err := WriteRunLike(ck.Model, run, outDir, st); err != nil {
		return "", 0, err
	}
	return ck.Path, converted, nil
}
