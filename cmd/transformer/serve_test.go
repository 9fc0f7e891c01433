package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serve answers on a free port with a trained run; SIGTERM during a
// request lets it finish with its translation, and the server exits 0.
func TestServeFinishesRequestOnSIGTERM(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tiny.yaml", tinyConfig)
	run := filepath.Join(dir, "tiny")
	if status, _, stderr := runCLI(t, "", "train", "-c", cfg, "--out", run, "--steps", "20"); status != 0 {
		t.Fatal(stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-batch", "0"}, "--max-batch must be positive, got 0"},
		{[]string{"--max-queue", "-1"}, "--max-queue must be positive, got -1"},
		{[]string{"--max-queue", "1000000000000"}, "Limits.MaxQueue (--max-queue) must be at most 65536, got 1000000000000"},
		{[]string{"--timeout", "0s"}, "--timeout must be positive, got 0s"},
		{[]string{"--batch-window", "100h"}, "(--batch-window) must be at most 10s"},
		{[]string{"-k", dir}, "config.yaml"},
		{[]string{"-k", "bad name=" + run}, `model name "bad name"`},
		{[]string{"-k", run}, `model name "tiny" is given twice`},
	} {
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "-k", run}, c.args...)
		if c.args[0] == "-k" && c.args[1] == dir {
			args = []string{"serve", "--addr", "127.0.0.1:0", "-k", dir}
		}
		status, _, stderr := runCLI(t, "", args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		last := lines[len(lines)-1]
		if status != 1 || !strings.HasPrefix(last, "transformer: ") || !strings.Contains(last, c.want) {
			t.Errorf("%v: status %d, %q; want a last line \"transformer: ...\" containing %q", c.args, status, stderr, c.want)
		}
	}
	// A batch window of 2 s holds the request in the server while the
	// signal arrives.
	cmd := exec.Command(bin, "serve", "-k", run, "--addr", "127.0.0.1:0", "--batch-window", "2s", "--log-format", "json")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addrRE := regexp.MustCompile(`listening on http://(127\.0\.0\.1:\d+)`)
	var addr string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil && strings.Contains(stderr.String(), `"ready"`) {
			addr = m[1]
			break
		}
	}
	if addr == "" {
		t.Fatalf("the server did not become ready: %s", stderr.String())
	}
	resp, err := http.Get("http://" + addr + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/health: %v %v", err, resp)
	}
	resp.Body.Close()
	// Attention on request: three views (encoder self, decoder self,
	// cross) of layers × heads × rows × columns.
	resp, err = http.Post("http://"+addr+"/translate", "application/json", strings.NewReader(`{"sentences": ["a b c"], "attention": true}`))
	if err != nil {
		t.Fatal(err)
	}
	var att struct {
		Translations []struct {
			Attention struct {
				Views []struct {
					Name    string
					Rows    []string
					Weights [][][][]float64
				}
			}
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&att)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(att.Translations) != 1 || len(att.Translations[0].Attention.Views) != 3 {
		t.Fatalf("attention reply: %d %v %+v", resp.StatusCode, err, att)
	}
	for _, v := range att.Translations[0].Attention.Views {
		if len(v.Weights) == 0 || len(v.Weights[0]) == 0 || len(v.Weights[0][0]) != len(v.Rows) {
			t.Errorf("view %s: %d layers, rows %v", v.Name, len(v.Weights), v.Rows)
		}
	}
	type reply struct {
		code int
		body []byte
		err  error
	}
	done := make(chan reply, 1)
	go func() {
		resp, err := http.Post("http://"+addr+"/translate", "application/json", strings.NewReader(`{"sentences": ["a b c", "d e"]}`))
		if err != nil {
			done <- reply{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- reply{code: resp.StatusCode, body: b}
	}()
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	r := <-done
	var body struct {
		Translations []struct{ Text string }
	}
	if r.err != nil || r.code != 200 || json.Unmarshal(r.body, &body) != nil || len(body.Translations) != 2 {
		t.Errorf("request in flight at SIGTERM: %d %q %v", r.code, r.body, r.err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case <-waited:
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30 s after SIGTERM")
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0; stderr %s", code, stderr.String())
	}
	for _, want := range []string{`"event":"request"`, `"path":"/translate"`, `"status":200`, "SIGTERM: stopped"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, stderr.String())
		}
	}
}
