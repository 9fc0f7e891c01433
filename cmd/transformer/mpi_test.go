//go:build mpi

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/rundir"
)

// These tests run the real binary under Open MPI's mpirun:
//
//	go test -tags mpi ./cmd/transformer -run MPI
//
// CI installs openmpi-bin and libopenmpi-dev and runs them.

const mpiConfig = `data:
  generate: {task: reverse, train_size: 40, valid_size: 4, test_size: 0, min_len: 2, max_len: 5, alphabet: 6, seed: 3}
  src_tokenizer: {merges: 0}
  tgt_tokenizer: {merges: 0}
model: {d_model: 32, heads: 4, ff_dim: 64, encoder_layers: 1, decoder_layers: 1, dropout: 0.2, norm_first: true}
training:
  dtype: %s
  steps: %d
  batch_tokens: 48
  accumulate: %d
  schedule: constant
  learning_rate: 0.003
  warmup: 5
  valid_every: 10
  save_every: 5
  log_every: 5
  best_metric: loss
  out_dir: run
`

func mpiBinary(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("mpirun"); err != nil {
		t.Skip("no mpirun (apt-get install openmpi-bin libopenmpi-dev)")
	}
	bin := filepath.Join(t.TempDir(), "transformer")
	cmd := exec.Command("go", "build", "-tags", "mpi", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags mpi: %v\n%s", err, out)
	}
	return bin
}

func mpirun(np int, bin string, args ...string) *exec.Cmd {
	a := append([]string{"--allow-run-as-root", "--oversubscribe", "-np", fmt.Sprint(np), "-x", "GOMAXPROCS=1", bin}, args...)
	cmd := exec.Command("mpirun", a...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

func writeMPIConfig(t *testing.T, dir, dtype string, steps, accumulate int) string {
	t.Helper()
	p := filepath.Join(dir, fmt.Sprintf("%s-%d-%d.yaml", dtype, steps, accumulate))
	if err := os.WriteFile(p, []byte(fmt.Sprintf(mpiConfig, dtype, steps, accumulate)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func lastWeights(t *testing.T, run string) map[string][]float64 {
	t.Helper()
	ck, err := rundir.LoadCheckpoint(run, "last")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float64{}
	for _, n := range ck.Model.Store.Names() {
		out[n] = graph.Float64s(ck.Model.Store.Get(n))
	}
	return out
}

func worstDiff(a, b map[string][]float64) (worst float64) {
	for n, w := range b {
		scale := 0.0
		for _, v := range w {
			scale = max(scale, abs(v))
		}
		for i := range w {
			worst = max(worst, abs(a[n][i]-w[i])/max(scale, 1e-300))
		}
	}
	return worst
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// mpirun -np 2 with one micro-batch per rank makes the updates of one
// process accumulating two: bitwise in float64 (dropout on), within 1e-6
// relative in float32 after 50 updates.
func TestMPIEqualsAccumulation(t *testing.T) {
	bin := mpiBinary(t)
	dir := t.TempDir()
	for _, c := range []struct {
		dtype string
		steps int
		tol   float64
	}{{"float64", 20, 0}, {"float32", 50, 1e-6}} {
		two, one := filepath.Join(dir, c.dtype+"-mpi"), filepath.Join(dir, c.dtype+"-acc")
		if out, err := mpirun(2, bin, "train", "-c", writeMPIConfig(t, dir, c.dtype, c.steps, 1), "--out", two).CombinedOutput(); err != nil {
			t.Fatalf("mpirun: %v\n%s", err, out)
		}
		if out, err := exec.Command(bin, "train", "-c", writeMPIConfig(t, dir, c.dtype, c.steps, 2), "--out", one).CombinedOutput(); err != nil {
			t.Fatalf("accumulate 2: %v\n%s", err, out)
		}
		w := worstDiff(lastWeights(t, two), lastWeights(t, one))
		t.Logf("%s, %d updates: worst relative difference %.3g", c.dtype, c.steps, w)
		if w > c.tol {
			t.Errorf("%s: two ranks differ from accumulate 2 by %.3g relative (limit %g)", c.dtype, w, c.tol)
		}
	}
}

// A rank killed with SIGKILL ends the whole job within seconds with a
// non-zero status; the last checkpoint stays loadable, and --resume under
// the same number of ranks ends bitwise where an uninterrupted run does.
func TestMPIKilledRankAndResume(t *testing.T) {
	bin := mpiBinary(t)
	dir := t.TempDir()
	cfg := writeMPIConfig(t, dir, "float64", 400, 1)
	run := filepath.Join(dir, "killed")
	cmd := mpirun(2, bin, "train", "-c", cfg, "--out", run, "--quiet")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(run, rundir.LatestFile)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no checkpoint after 60 s:\n%s", out.String())
		}
	}
	// Kill one rank (a child of mpirun).
	pids := children(cmd.Process.Pid, "transformer")
	if len(pids) != 2 {
		cmd.Process.Kill()
		t.Fatalf("ranks %v", pids)
	}
	killed := time.Now()
	syscall.Kill(pids[1], syscall.SIGKILL)
	err := cmd.Wait()
	took := time.Since(killed)
	t.Logf("the job ended %v after the kill: %v", took.Round(time.Millisecond), err)
	if err == nil {
		t.Fatal("the job exited 0 after a rank was killed")
	}
	if took > 10*time.Second {
		t.Errorf("the job took %v to end after a rank was killed", took)
	}
	st, err := rundir.LoadCheckpoint(run, "last")
	if err != nil {
		t.Fatalf("last checkpoint after the kill: %v", err)
	}
	t.Logf("last checkpoint: step %d", st.State.Step)

	// Resume it to step 400 under two ranks; compare with a run that
	// never stopped.
	if out, err := mpirun(2, bin, "train", "--resume", run, "--quiet").CombinedOutput(); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	ref := filepath.Join(dir, "uninterrupted")
	if out, err := mpirun(2, bin, "train", "-c", cfg, "--out", ref, "--quiet").CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted: %v\n%s", err, out)
	}
	if w := worstDiff(lastWeights(t, run), lastWeights(t, ref)); w != 0 {
		t.Errorf("resumed run differs from the uninterrupted one by %.3g relative", w)
	}
}

// children lists the processes whose parent is pid and whose command name
// is name, from /proc.
func children(pid int, name string) []int {
	var out []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		f := strings.Fields(s[close+1:])
		var child, parent int
		fmt.Sscan(s[:open], &child)
		if len(f) > 1 {
			fmt.Sscan(f[1], &parent)
		}
		if parent == pid && s[open+1:close] == name {
			out = append(out, child)
		}
	}
	return out
}

// A binary built without MPI, started under mpirun, says so.
func TestMPIBuildWithoutTagSays(t *testing.T) {
	mpiBinary(t) // skips without mpirun
	plain := filepath.Join(t.TempDir(), "transformer")
	if out, err := exec.Command("go", "build", "-o", plain, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	out, err := mpirun(2, plain, "train", "-c", writeMPIConfig(t, dir, "float32", 5, 1), "--out", filepath.Join(dir, "r")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "built without MPI") {
		t.Errorf("mpirun of a build without MPI: %v\n%s", err, out)
	}
}
