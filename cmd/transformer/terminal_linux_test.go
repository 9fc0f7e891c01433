package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gotransformer/transformer/internal/ptytest"
)

// screen replays terminal output as a terminal of cols columns shows it:
// \r returns to the line's start, \n moves down, ESC[K clears to the end
// of the line, and text wraps at the last column.
func screen(out string, cols int) []string {
	lines := []string{""}
	row, col := 0, 0
	put := func(r rune) {
		line := []rune(lines[row])
		for len(line) < col {
			line = append(line, ' ')
		}
		if col < len(line) {
			line[col] = r
		} else {
			line = append(line, r)
		}
		lines[row] = string(line)
		col++
	}
	newline := func() {
		row++
		col = 0
		if row == len(lines) {
			lines = append(lines, "")
		}
	}
	for i := 0; i < len(out); {
		switch {
		case strings.HasPrefix(out[i:], "\x1b[K"):
			if r := []rune(lines[row]); col < len(r) {
				lines[row] = string(r[:col])
			}
			i += 3
			continue
		case out[i] == '\r':
			col = 0
		case out[i] == '\n':
			newline()
		default:
			r := []rune(out[i:])[0]
			if col == cols {
				newline()
			}
			put(r)
			i += len(string(r))
			continue
		}
		i++
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// onTerminal starts the binary with its input and output on a
// pseudo-terminal of cols columns and returns the command and a function
// that waits for it and returns all it wrote.
func onTerminal(t *testing.T, bin string, cols int, args ...string) (*exec.Cmd, func() string) {
	cmd, _, _, wait := onTerminalIO(t, bin, cols, args...)
	return cmd, wait
}

// onTerminalIO is onTerminal that also gives the terminal's master side,
// to type on, and a function that returns what was written so far.
func onTerminalIO(t *testing.T, bin string, cols int, args ...string) (*exec.Cmd, *os.File, func() string, func() string) {
	t.Helper()
	master, tty := ptytest.Open(t, cols)
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			mu.Lock()
			buf.Write(b[:n])
			mu.Unlock()
			if err != nil {
				close(done)
				return
			}
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	read := func() string {
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
	return cmd, master, read, func() string {
		cmd.Wait()
		tty.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		return read()
	}
}

// wroteSoFar reads what the command wrote so far (for waiting on it).
func waitFor(t *testing.T, read func() string, want string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(read(), want) {
			return
		}
	}
	t.Fatalf("no %q in the output:\n%s", want, read())
}

// A training run in an 80- and a 140-column terminal (issue 20): every
// frame of the bar fits the width and keeps its ETA, the log lines are
// printed above it, and the final screen ends with the result, no bar
// drawn after it. Interrupted with Ctrl-C (SIGINT), the screen ends with
// how to resume, not with a stale bar.
func TestTerminalDisplay(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tiny.yaml", strings.NewReplacer("steps: 250", "steps: 400", "valid_every: 125", "valid_every: 200",
		"log_every: 125", "log_every: 100").Replace(tinyConfig))
	for _, cols := range []int{80, 140} {
		t.Run(fmt.Sprint(cols), func(t *testing.T) {
			_, wait := onTerminal(t, bin, cols, "train", "-c", cfg, "--out", filepath.Join(t.TempDir(), "run"))
			out := wait()
			frames := 0
			for _, f := range strings.Split(out, "\r") {
				f = strings.TrimSuffix(strings.SplitN(f, "\n", 2)[0], "\x1b[K")
				if !isBar(f) {
					continue
				}
				frames++
				if n := len([]rune(f)); n >= cols {
					t.Errorf("a bar frame of %d columns: %q", n, f)
				}
				if !strings.Contains(f, " 100% ") && !strings.Contains(f, "| eta ") {
					t.Errorf("a bar frame without its ETA: %q", f)
				}
			}
			if frames == 0 {
				t.Fatalf("no bar drawn:\n%q", out)
			}
			// The bar's loss is the step's, the log line's the interval mean:
			// each says which.
			if !strings.Contains(out, "| step loss ") || !strings.Contains(out, "(mean of 100 steps)") {
				t.Errorf("the losses are not labelled:\n%q", out)
			}
			sc := screen(out, cols)
			if last := sc[len(sc)-1]; !strings.HasPrefix(last, "test BLEU") {
				t.Errorf("the final screen ends with %q, want the result:\n%s", last, strings.Join(sc, "\n"))
			}
			for _, l := range sc {
				if isBar(l) && !strings.Contains(l, "100%") {
					t.Errorf("a stale bar on the final screen: %q", l)
				}
			}
		})
	}
	t.Run("ctrl-c", func(t *testing.T) {
		long := writeFile(t, dir, "long.yaml", strings.NewReplacer("steps: 250", "steps: 1000000", "valid_every: 125", "valid_every: 100000",
			"log_every: 125", "log_every: 50").Replace(tinyConfig))
		cmd, _, read, wait := onTerminalIO(t, bin, 80, "train", "-c", long, "--out", filepath.Join(t.TempDir(), "run"))
		waitFor(t, read, "step 50/") // well into training
		cmd.Process.Signal(syscall.SIGINT)
		sc := screen(wait(), 80)
		// The screen ends with the interruption's messages (wrapped at 80
		// columns); no bar is drawn after the first of them.
		at := -1
		for i, l := range sc {
			if strings.Contains(l, "interrupted at step") && at < 0 {
				at = i
			}
		}
		if at < 0 || !strings.Contains(strings.Join(sc[at:], ""), "resume with: transformer train --resume") {
			t.Fatalf("no interruption message on the final screen:\n%s", strings.Join(sc, "\n"))
		}
		for _, l := range sc[at:] {
			if isBar(l) {
				t.Errorf("a bar drawn after the interruption: %q\n%s", l, strings.Join(sc, "\n"))
			}
		}
	})
}

// isBar reports whether a line is a frame of the training bar.
func isBar(l string) bool { return strings.HasPrefix(l, "train ") && strings.Contains(l, " steps") }

// At the prompt (standard input a terminal), --nbest N prints the N best
// translations, numbered and scored (issue 20: it printed only the best).
func TestPromptPrintsNBest(t *testing.T) {
	bin := buildBinary(t)
	run, _ := trainTiny(t)
	_, master, read, wait := onTerminalIO(t, bin, 100, "translate", "-k", run, "--nbest", "3")
	waitFor(t, read, "> ")
	master.Write([]byte("a b c\n"))
	waitFor(t, read, "3. ")
	master.Write([]byte("\n")) // an empty line ends
	out := wait()
	for _, want := range []string{"1. ", "2. ", "3. "} {
		if !strings.Contains(out, want) {
			t.Errorf("the prompt's answer lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "(-") < 3 {
		t.Errorf("the n-best list has no scores:\n%s", out)
	}
}
