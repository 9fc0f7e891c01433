// Package progress reports what long commands are doing: a redrawn bar on a
// terminal, plain periodic lines when output goes to a file or a pipe, JSON
// lines for scripts, or nothing but errors.
//
// A Display never writes escape codes or carriage returns unless its mode
// is Bar, and New chooses Bar only for a terminal.
package progress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// Mode is how a Display reports.
type Mode int

const (
	// Lines writes plain lines: messages, and task updates at most once per
	// Display.Every. This is the mode for logs and CI.
	Lines Mode = iota
	// Bar redraws one status line in place, with messages printed above it.
	// Only for terminals.
	Bar
	// JSON writes one JSON object per message and per periodic update.
	JSON
	// Quiet writes nothing.
	Quiet
)

// String names the mode.
func (m Mode) String() string {
	return [...]string{"lines", "bar", "json", "quiet"}[m]
}

// IsTerminal reports whether f (a reader or a writer) is a terminal: an
// *os.File, or a wrapper with an Fd method, on a terminal.
func IsTerminal(f any) bool {
	if file, ok := f.(*os.File); ok {
		return term.IsTerminal(int(file.Fd()))
	}
	if w, ok := f.(interface{ Fd() uintptr }); ok {
		return term.IsTerminal(int(w.Fd()))
	}
	return false
}

// ModeFor chooses the mode for w from the --log-format and --quiet flags:
// format "json" gives JSON; quiet gives Quiet; otherwise a terminal gets
// Bar and anything else Lines. format must be "text" or "json".
func ModeFor(w io.Writer, format string, quiet bool) (Mode, error) {
	switch {
	case format != "text" && format != "json":
		return Lines, fmt.Errorf("--log-format must be text or json, got %q", format)
	case format == "json":
		return JSON, nil
	case quiet:
		return Quiet, nil
	case IsTerminal(w):
		return Bar, nil
	}
	return Lines, nil
}

// Field is one named value of a message or an update, such as loss 2.31.
type Field struct {
	Key   string
	Value any
}

// F makes a Field.
func F(key string, value any) Field { return Field{key, value} }

// Display reports messages and task progress to one writer. It is safe for
// concurrent use.
type Display struct {
	// Every is the least time between two periodic lines in Lines and JSON
	// modes (default 10 s).
	Every time.Duration
	// Width is the terminal width for Bar mode; 0 asks the terminal, then
	// falls back to 100.
	Width int

	w     io.Writer
	mode  Mode
	mu    sync.Mutex
	bar   string // the status line shown, "" if none
	now   func() time.Time
	start time.Time
}

// New returns a Display writing to w in the given mode.
func New(w io.Writer, mode Mode) *Display {
	return &Display{Every: 10 * time.Second, w: w, mode: mode, now: time.Now, start: time.Now()}
}

// Mode returns the display's mode.
func (d *Display) Mode() Mode { return d.mode }

// Message writes one line of text, or in JSON mode an object with the
// event name, the text and the fields. In Bar mode the bar is cleared first
// and redrawn after.
func (d *Display) Message(event, text string, fields ...Field) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch d.mode {
	case Quiet:
	case JSON:
		d.writeJSON(event, text, fields)
	case Lines:
		io.WriteString(d.w, text+"\n")
	case Bar:
		io.WriteString(d.w, "\r\x1b[K"+text+"\n")
		if d.bar != "" {
			io.WriteString(d.w, d.bar)
		}
	}
}

func (d *Display) writeJSON(event, text string, fields []Field) {
	var b bytes.Buffer
	b.WriteString(`{"time":`)
	b.WriteString(jsonValue(d.now().UTC().Format(time.RFC3339Nano)))
	b.WriteString(`,"event":`)
	b.WriteString(jsonValue(event))
	if text != "" {
		b.WriteString(`,"msg":`)
		b.WriteString(jsonValue(text))
	}
	for _, f := range fields {
		b.WriteString(",")
		b.WriteString(jsonValue(f.Key))
		b.WriteString(":")
		b.WriteString(jsonValue(f.Value))
	}
	b.WriteString("}\n")
	d.w.Write(b.Bytes())
}

// jsonValue encodes v; non-finite floats, which JSON lacks, become strings.
func jsonValue(v any) string {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			v = fmt.Sprint(x)
		}
	case time.Duration:
		v = x.Seconds()
	}
	out, err := json.Marshal(v)
	if err != nil {
		out, _ = json.Marshal(fmt.Sprint(v))
	}
	return string(out)
}

// Task is one long job with a known amount of work, such as training steps
// or sentences to translate.
type Task struct {
	d          *Display
	name, unit string
	total      int
	done       int
	first      int // done when the task started (a resumed run)
	start      time.Time
	lastDraw   time.Time
	lastLine   time.Time
	lines      int    // periodic lines written
	lineDone   int    // done at the last periodic line
	outer      string // the bar of the task this one runs inside, if any
	finished   bool
}

// Start begins a task of total units (total ≤ 0: unknown) and returns it.
// name labels it ("train", "translate"); unit names what is counted
// ("steps", "sentences").
func (d *Display) Start(name string, total int, unit string) *Task {
	return d.StartFrom(name, 0, total, unit)
}

// StartFrom begins a task of which done units were finished before, such
// as a resumed training run: the count starts there and the ETA is
// extrapolated from the units done since.
func (d *Display) StartFrom(name string, done, total int, unit string) *Task {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	return &Task{d: d, name: name, unit: unit, total: total, done: done, first: done, start: now, lastLine: now, outer: d.bar}
}

// Update records that done units are finished, with the fields to show.
// A bar is redrawn at most ten times a second; Lines and JSON modes write
// a line at most once per Display.Every.
func (t *Task) Update(done int, fields ...Field) {
	d := t.d
	d.mu.Lock()
	defer d.mu.Unlock()
	t.done = done
	now := d.now()
	switch d.mode {
	case Bar:
		if now.Sub(t.lastDraw) < 100*time.Millisecond && done < t.total {
			return
		}
		t.lastDraw = now
		d.bar = t.barLine(now, fields)
		io.WriteString(d.w, "\r"+d.bar+"\x1b[K")
	case Lines, JSON:
		if now.Sub(t.lastLine) < d.Every {
			return
		}
		t.lastLine = now
		t.lines++
		t.lineDone = done
		t.line(now, fields)
	}
}

// line writes the task's state as a plain or JSON line.
func (t *Task) line(now time.Time, fields []Field) {
	d := t.d
	if d.mode == JSON {
		all := append([]Field{F("task", t.name), F("done", t.done), F("total", t.total), F("unit", t.unit),
			F("elapsed_s", now.Sub(t.start).Seconds())}, fields...)
		if eta, ok := t.eta(now); ok {
			all = append(all, F("eta_s", eta.Seconds()))
		}
		d.writeJSON("progress", "", all)
		return
	}
	io.WriteString(d.w, t.summary(now, fields)+"\n")
}

// summary is "name 336/800 steps (42%) | k v | … | eta 00:04:12".
func (t *Task) summary(now time.Time, fields []Field) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", t.name, t.count())
	if t.total > 0 {
		fmt.Fprintf(&b, " (%d%%)", 100*t.done/t.total)
	}
	writeFields(&b, fields)
	if eta, ok := t.eta(now); ok {
		fmt.Fprintf(&b, " | eta %s", Clock(eta))
	}
	return b.String()
}

func (t *Task) count() string {
	if t.total > 0 {
		return fmt.Sprintf("%d/%d %s", t.done, t.total, t.unit)
	}
	return fmt.Sprintf("%d %s", t.done, t.unit)
}

func writeFields(b *strings.Builder, fields []Field) {
	for _, f := range fields {
		fmt.Fprintf(b, " | %s %s", f.Key, formatValue(f.Value))
	}
}

// formatValue prints floats compactly: 4 decimals for ordinary sizes,
// exponent notation for very small or large ones.
func formatValue(v any) string {
	x, ok := v.(float64)
	if !ok {
		return fmt.Sprint(v)
	}
	switch a := math.Abs(x); {
	case a == 0 || math.IsNaN(x) || math.IsInf(x, 0):
		return fmt.Sprint(x)
	case a < 1e-2 || a >= 1e6:
		return fmt.Sprintf("%.3e", x)
	case a >= 100:
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.4f", x)
}

// barLine is "name [=====>    ]  42% 336/800 steps | fields | eta", fitted
// to the terminal width: the ETA always stays; the bar narrows (24, 12,
// then no cells) before the last fields go, and only then is the line cut.
func (t *Task) barLine(now time.Time, fields []Field) string {
	width := t.d.width() - 1
	eta := ""
	if e, ok := t.eta(now); ok {
		eta = " | eta " + Clock(e)
	}
	for n := len(fields); n >= 0; n-- {
		for _, w := range []int{24, 12, 0} {
			if s := t.barText(w, fields[:n]) + eta; utf8.RuneCountInString(s) <= width {
				return s
			}
		}
	}
	head := t.barText(0, nil)
	return truncate(head, max(width-utf8.RuneCountInString(eta), 2)) + eta
}

// barText is the bar of w cells (none for 0) with the count and fields.
func (t *Task) barText(w int, fields []Field) string {
	var b strings.Builder
	b.WriteString(t.name + " ")
	if t.total > 0 {
		if w > 0 {
			filled := w * t.done / t.total
			bar := strings.Repeat("=", filled)
			if filled < w {
				bar += ">" + strings.Repeat(" ", w-filled-1)
			}
			fmt.Fprintf(&b, "[%s] ", bar)
		}
		fmt.Fprintf(&b, "%3d%% ", 100*t.done/t.total)
	}
	b.WriteString(t.count())
	writeFields(&b, fields)
	return b.String()
}

func (d *Display) width() int {
	if d.Width > 0 {
		return d.Width
	}
	if f, ok := d.w.(interface{ Fd() uintptr }); ok { // an *os.File or a wrapper of one
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 20 {
			return w
		}
	}
	return 100
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// eta extrapolates the time left from the rate so far.
func (t *Task) eta(now time.Time) (time.Duration, bool) {
	if t.total <= 0 || t.done <= t.first || t.done >= t.total {
		return 0, false
	}
	el := now.Sub(t.start)
	return time.Duration(float64(el) / float64(t.done-t.first) * float64(t.total-t.done)), true
}

// Finish ends the task: a bar is completed and left on its own line (or,
// for a task started while another's bar was shown, that bar comes back), and
// Lines and JSON modes write a final line if the task was long enough to
// have written a periodic one (short tasks stay out of logs).
func (t *Task) Finish(fields ...Field) {
	d := t.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if t.finished {
		return
	}
	t.finished = true
	now := d.now()
	switch d.mode {
	case Bar:
		if t.outer != "" {
			d.bar = t.outer
			io.WriteString(d.w, "\r"+d.bar+"\x1b[K")
			return
		}
		io.WriteString(d.w, "\r"+t.barLine(now, fields)+"\x1b[K\n")
		d.bar = ""
	case Lines, JSON:
		if t.lines > 0 && (t.lineDone != t.done || len(fields) > 0) {
			t.line(now, fields)
		}
	}
}

// Clock formats a duration as hh:mm:ss.
func Clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}
