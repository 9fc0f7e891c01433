package rundir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --set writes any key, adding sections, and is validated exactly as the
// file is: an unknown key, a wrong type or an out-of-range value is
// refused, naming the --set (issue 20).
func TestConfigSets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte(goodConfig), 0o644)
	sets := func(ss ...string) []Set {
		var out []Set
		for _, s := range ss {
			set, err := ParseSet(s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, set)
		}
		return out
	}
	c, err := LoadConfigWith(path, sets("training.steps=7", "model.encoder.attention={kind: sliding_window, window: 3}",
		"decoding.beam=4", "training.max_time=90m"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Training.Steps != 7 || c.Model.Encoder.Attention.Kind != "sliding_window" || c.Model.Encoder.Attention.Window != 3 ||
		c.Decoding.Beam != 4 || c.Training.MaxTime.Minutes() != 90 {
		t.Errorf("sets not applied: steps %d, attention %+v, beam %d, max_time %v", c.Training.Steps, c.Model.Encoder.Attention, c.Decoding.Beam, c.Training.MaxTime)
	}
	for _, bad := range []struct{ set, want string }{
		{"training.stepz=3", `--set training.stepz=3: unknown key "stepz"`},
		{"training.steps=abc", "--set training.steps=abc: "},
		{"training.steps=-4", "--set training.steps=-4: must be positive"},
		{"training.warmup=20.5", "--set training.warmup=20.5: "},
		{"model.heads=[1, 2]", "--set model.heads=[1, 2]: "},
	} {
		_, err := LoadConfigWith(path, sets(bad.set))
		if err == nil || !strings.HasPrefix(err.Error(), bad.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line starting %q", bad.set, err, bad.want)
		}
	}
	for _, s := range []string{"steps", "=3", "training..steps=3"} {
		if _, err := ParseSet(s); err == nil {
			t.Errorf("ParseSet(%q) accepted", s)
		}
	}
}
