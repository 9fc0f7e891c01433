package rundir

import (
	"strings"
	"testing"
)

// FuzzParseConfig: any bytes give a config or a one-line error naming the
// file; never a panic.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(goodConfig))
	f.Add([]byte("data:\n  generate: {task: copy, train_size: 5, valid_size: 2, min_len: 1, max_len: 3, alphabet: 4}\n"))
	f.Add([]byte("model: {d_model: 7, heads: 7}\ntraining: {steps: -1, max_time: 3x}\n"))
	f.Add([]byte("data: [1, 2\n"))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig("fuzz.yaml", b)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "fuzz.yaml") || strings.Contains(msg, "\n") {
				t.Fatalf("error is not one line naming the file: %q", msg)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed config fails validation: %v", err)
		}
	})
}
