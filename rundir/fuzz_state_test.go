package rundir

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzState: any bytes give a state whose every counter is in range, or a
// one-line error naming the file; never a panic.
func FuzzState(f *testing.F) {
	good, _ := json.Marshal(State{Step: 750, Epoch: 3, Pos: 12, DropoutRNG: 99, AdamStep: 750, Seed: 1, Metric: "bleu",
		BestValue: 31.5, BestStep: 500, Valid: map[string]float64{"bleu": 30.1}, ValidStep: 750, TrainSeconds: 812.5,
		Files:       map[string]string{WeightsFile: strings.Repeat("ab", 32)},
		ModelConfig: strings.Repeat("01", 32), Tokenizers: map[string]string{SrcTokenizerFile: strings.Repeat("cd", 32)}})
	f.Add(good)
	f.Add([]byte(`{"step": 9223372036854775807}`))
	f.Add([]byte(`{"step": 5, "pos": -1}`))
	f.Add([]byte(`{"step": 5, "best_step": 6}`))
	f.Add([]byte(`{"files": {"model.safetensors": "xyz"}}`))
	f.Add([]byte(`{"train_seconds": 1e308}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseState("state.json", b)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "state.json: ") || strings.Contains(msg, "\n") {
				t.Fatalf("error is not one line naming the file: %q", msg)
			}
			return
		}
		if st.Step < 0 || st.Step > MaxSteps || st.Pos < 0 || st.Epoch < 0 || st.BestStep > st.Step || st.AdamStep > st.Step {
			t.Fatalf("accepted an out-of-range state %+v", st)
		}
	})
}

// Range checks name the bad field.
func TestStateCheck(t *testing.T) {
	for in, want := range map[string]string{
		`{"step": 9223372036854775807}`:              "step 9223372036854775807 is out of range",
		`{"step": 5, "pos": -1}`:                     "pos -1 is out of range",
		`{"step": 5, "best_step": 6}`:                "best_step 6 is after the checkpoint's step 5",
		`{"step": 5, "valid_step": 9}`:               "valid_step 9 is after",
		`{"step": 5, "adam_step": 9}`:                "adam_step 9 is after",
		`{"train_seconds": -1}`:                      "train_seconds -1 is out of range",
		`{"best_metric": "accuracyy"}`:               `unknown best_metric "accuracyy"`,
		`{"files": {"model.safetensors": "xyz"}}`:    `files: "model.safetensors" has no SHA-256 digest`,
		`{"model_config_sha256": "00"}`:              "model_config_sha256",
		`{"step": 1.5}`:                              "not a training state",
		`{"micro_batches": -3}`:                      "micro_batches -3 is negative",
		`{"processes": 99999999}`:                    "processes 99999999 is out of range",
		`{"step": 5, "epoch": 1, "pos": 2} trailing`: "not a training state",
	} {
		_, err := parseState("state.json", []byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", in, err, want)
		}
	}
	if _, err := parseState("state.json", []byte(`{"step": 5, "epoch": 1, "pos": 2, "best_metric": "loss"}`)); err != nil {
		t.Errorf("good state refused: %v", err)
	}
}
