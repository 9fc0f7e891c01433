package progress

import (
	"os"
	"strings"
	"testing"

	"github.com/gotransformer/transformer/internal/ptytest"
	"golang.org/x/sys/unix"
)

func openPTY(t *testing.T) (master, tty *os.File) { return ptytest.Open(t, 0) }

// On a real terminal the text format gives a bar, which redraws in place
// and fits the terminal width (a narrower bar before any field is lost).
func TestTerminalGetsBar(t *testing.T) {
	master, tty := openPTY(t)
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 60}); err != nil {
		t.Fatal(err)
	}
	mode, err := ModeFor(tty, "text", false)
	if err != nil || mode != Bar {
		t.Fatalf("terminal: mode %v, %v; want bar", mode, err)
	}
	if m, _ := ModeFor(tty, "text", true); m != Quiet {
		t.Errorf("--quiet on a terminal: %v", m)
	}
	d := New(tty, mode)
	task := d.Start("train", 10, "steps")
	task.Update(10, F("loss", 1.5))
	task.Finish()
	buf := make([]byte, 4096)
	n, err := master.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	out := string(buf[:n])
	if !strings.Contains(out, "\rtrain [============] 100% 10/10 steps | loss 1.5000\x1b[K") {
		t.Errorf("terminal got %q", out)
	}
	for _, line := range strings.FieldsFunc(out, func(r rune) bool { return r == '\r' || r == '\n' }) {
		if w := len([]rune(strings.ReplaceAll(line, "\x1b[K", ""))); w >= 60 {
			t.Errorf("line of %d columns on a 60-column terminal: %q", w, line)
		}
	}
}
