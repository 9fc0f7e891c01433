package progress

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fakeClock returns a Display whose clock moves only when told.
func fakeClock(mode Mode) (*Display, *bytes.Buffer, *time.Time) {
	var buf bytes.Buffer
	d := New(&buf, mode)
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	d.now = func() time.Time { return now }
	d.start = now
	d.Width = 200
	return d, &buf, &now
}

func runTask(d *Display, now *time.Time) {
	d.Message("log", "data: 10 pairs", F("pairs", 10))
	task := d.Start("train", 100, "steps")
	for i := 1; i <= 100; i++ {
		*now = now.Add(time.Second)
		task.Update(i, F("loss", 2.5-float64(i)/100), F("lr", 1e-4))
		if i == 50 {
			d.Message("valid", "valid step 50: loss 1.9", F("loss", 1.9))
		}
	}
	task.Finish(F("loss", 1.5))
}

func TestLinesModeWritesNoEscapes(t *testing.T) {
	d, buf, now := fakeClock(Lines)
	runTask(d, now)
	out := buf.String()
	if strings.ContainsAny(out, "\r\x1b") {
		t.Fatalf("escape codes in Lines mode:\n%q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	// 2 messages, one periodic line per 10 s of 100 s, and the final line.
	if len(lines) != 2+10+1 {
		t.Fatalf("got %d lines, want 13:\n%s", len(lines), out)
	}
	if lines[0] != "data: 10 pairs" {
		t.Errorf("first line %q", lines[0])
	}
	if want := "train 10/100 steps (10%) | loss 2.4000 | lr 1.000e-04 | eta 00:01:30"; lines[1] != want {
		t.Errorf("periodic line\n got %q\nwant %q", lines[1], want)
	}
	if last := lines[len(lines)-1]; last != "train 100/100 steps (100%) | loss 1.5000" {
		t.Errorf("final line %q", last)
	}
}

func TestShortTaskStaysOutOfLogs(t *testing.T) {
	d, buf, now := fakeClock(Lines)
	task := d.Start("valid", 10, "batches")
	for i := 1; i <= 10; i++ {
		*now = now.Add(500 * time.Millisecond)
		task.Update(i)
	}
	task.Finish()
	if buf.Len() != 0 {
		t.Errorf("a 5 s task wrote %q", buf.String())
	}
}

func TestFinishDoesNotRepeatTheLastLine(t *testing.T) {
	d, buf, now := fakeClock(Lines)
	task := d.Start("evaluate", 2, "batches")
	*now = now.Add(11 * time.Second)
	task.Update(2)
	task.Finish()
	if got := buf.String(); got != "evaluate 2/2 batches (100%)\n" {
		t.Errorf("got %q", got)
	}
}

func TestBarModeRedrawsInPlace(t *testing.T) {
	d, buf, now := fakeClock(Bar)
	runTask(d, now)
	out := buf.String()
	if n := strings.Count(out, "\r"); n < 100 {
		t.Errorf("bar redrawn %d times, want one per update (100+)", n)
	}
	if !strings.Contains(out, "\r\x1b[Kvalid step 50: loss 1.9\n") {
		t.Errorf("message not printed above the bar:\n%q", out)
	}
	if !strings.Contains(out, "[============>           ]  50% 50/100 steps") {
		t.Errorf("no half-full bar in output:\n%q", out)
	}
	if !strings.HasSuffix(out, "[========================] 100% 100/100 steps | loss 1.5000\x1b[K\n") {
		t.Errorf("bar not completed at the end: %q", out[len(out)-120:])
	}
	// Every line the user sees ends with the bar or a message; none is
	// longer than the width.
	for _, seg := range strings.FieldsFunc(out, func(r rune) bool { return r == '\r' || r == '\n' }) {
		seg = strings.TrimPrefix(strings.TrimSuffix(seg, "\x1b[K"), "\x1b[K")
		if len([]rune(seg)) >= d.Width {
			t.Errorf("line wider than %d: %q", d.Width, seg)
		}
	}
}

func TestNestedTaskRestoresOuterBar(t *testing.T) {
	d, buf, now := fakeClock(Bar)
	outer := d.Start("train", 10, "steps")
	*now = now.Add(time.Second)
	outer.Update(5)
	inner := d.Start("evaluate", 3, "batches")
	for i := 1; i <= 3; i++ {
		*now = now.Add(time.Second)
		inner.Update(i)
	}
	buf.Reset()
	inner.Finish()
	if got := buf.String(); !strings.HasPrefix(got, "\rtrain [") || !strings.Contains(got, "5/10 steps") || strings.Contains(got, "\n") {
		t.Errorf("after the inner task: %q, want the outer bar back on the same line", got)
	}
}

func TestStartFromResumedCount(t *testing.T) {
	d, buf, now := fakeClock(Lines)
	task := d.StartFrom("train", 600, 1000, "steps")
	*now = now.Add(10 * time.Second)
	task.Update(700)
	// 100 steps in 10 s: 300 left take 30 s.
	if got := buf.String(); got != "train 700/1000 steps (70%) | eta 00:00:30\n" {
		t.Errorf("got %q", got)
	}
}

func TestBarIsThrottled(t *testing.T) {
	d, buf, now := fakeClock(Bar)
	task := d.Start("translate", 1000, "sentences")
	for i := 1; i <= 999; i++ {
		*now = now.Add(time.Millisecond)
		task.Update(i)
	}
	if n := strings.Count(buf.String(), "\r"); n > 11 {
		t.Errorf("%d redraws in 1 s, want at most 10 per second", n)
	}
}

func TestJSONMode(t *testing.T) {
	d, buf, now := fakeClock(JSON)
	runTask(d, now)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 13 {
		t.Fatalf("got %d lines, want 13", len(lines))
	}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i+1, err, l)
		}
		if m["event"] == nil || m["time"] == nil {
			t.Errorf("line %d lacks event or time: %s", i+1, l)
		}
	}
	var first, periodic map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &periodic)
	if first["event"] != "log" || first["msg"] != "data: 10 pairs" || first["pairs"] != 10.0 {
		t.Errorf("message object %v", first)
	}
	if periodic["event"] != "progress" || periodic["done"] != 10.0 || periodic["loss"] != 2.4 || periodic["eta_s"] != 90.0 {
		t.Errorf("progress object %v", periodic)
	}
}

func TestJSONNonFinite(t *testing.T) {
	d, buf, _ := fakeClock(JSON)
	d.Message("train", "", F("loss", math.NaN()), F("norm", math.Inf(1)))
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, buf.String())
	}
	if m["loss"] != "NaN" || m["norm"] != "+Inf" {
		t.Errorf("got %v", m)
	}
}

func TestQuietWritesNothing(t *testing.T) {
	d, buf, now := fakeClock(Quiet)
	runTask(d, now)
	if buf.Len() != 0 {
		t.Errorf("quiet wrote %q", buf.String())
	}
}

func TestModeFor(t *testing.T) {
	var buf bytes.Buffer
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	cases := []struct {
		name   string
		w      any
		format string
		quiet  bool
		want   Mode
	}{
		{"buffer", &buf, "text", false, Lines},
		{"file", f, "text", false, Lines},
		{"pipe", w, "text", false, Lines},
		{"quiet", f, "text", true, Quiet},
		{"json", f, "json", false, JSON},
		{"json wins over quiet", f, "json", true, JSON},
	}
	for _, c := range cases {
		got, err := ModeFor(c.w.(interface{ Write([]byte) (int, error) }), c.format, c.quiet)
		if err != nil || got != c.want {
			t.Errorf("%s: got %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	if _, err := ModeFor(&buf, "xml", false); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("bad format: %v", err)
	}
}

func TestFormatValue(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{{2.34567, "2.3457"}, {1e-4, "1.000e-04"}, {2100.4, "2100"}, {0.0, "0"}, {7, "7"}, {"x", "x"}} {
		if got := formatValue(c.v); got != c.want {
			t.Errorf("formatValue(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

// At any width the ETA stays on the bar line: fields go first, from the
// last (issue 20: at 80 columns the line was cut at "| lr…" and the ETA
// lost).
func TestBarKeepsETA(t *testing.T) {
	for _, width := range []int{40, 60, 80, 140} {
		d, buf, now := fakeClock(Bar)
		d.Width = width
		task := d.Start("train", 800, "steps")
		*now = now.Add(10 * time.Second)
		task.Update(50, F("epoch", 3), F("loss", 2.4321), F("lr", 1.234e-4), F("grad norm", 0.5))
		line := strings.TrimSuffix(strings.TrimPrefix(buf.String(), "\r"), "\x1b[K")
		if !strings.HasSuffix(line, "| eta 00:02:30") {
			t.Errorf("width %d: %q has no ETA at its end", width, line)
		}
		if n := utf8.RuneCountInString(line); n >= width {
			t.Errorf("width %d: line of %d columns: %q", width, n, line)
		}
		if width >= 80 && !strings.Contains(line, "| loss 2.4321") {
			t.Errorf("width %d: %q lost the loss", width, line)
		}
	}
}
