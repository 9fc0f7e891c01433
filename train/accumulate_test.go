package train

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/rundir"
)

// loopback connects Size trainers of one test process as a Comm: each
// collective call waits for all of them, and sums in rank order.
type loopback struct {
	rank int
	hub  *hub
}

type hub struct {
	size int
	mu   sync.Mutex
	cond *sync.Cond
	in   [][]float64
	gen  int
	out  []float64
	left int
}

func newLoopback(size int) []Comm {
	h := &hub{size: size, in: make([][]float64, size)}
	h.cond = sync.NewCond(&h.mu)
	out := make([]Comm, size)
	for r := range out {
		out[r] = loopback{r, h}
	}
	return out
}

// exchange hands v in and returns every rank's v, once all have come.
func (h *hub) exchange(rank int, v []float64) [][]float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.left > 0 { // the previous round is still being read
		h.cond.Wait()
	}
	gen := h.gen
	h.in[rank] = append([]float64(nil), v...)
	arrived := 0
	for _, x := range h.in {
		if x != nil {
			arrived++
		}
	}
	if arrived == h.size {
		h.gen++
		h.left = h.size
		h.cond.Broadcast()
	}
	for h.gen == gen {
		h.cond.Wait()
	}
	all := append([][]float64(nil), h.in...)
	if h.left--; h.left == 0 {
		h.in = make([][]float64, h.size)
		h.cond.Broadcast()
	}
	return all
}

func (l loopback) Rank() int { return l.rank }
func (l loopback) Size() int { return l.hub.size }
func (l loopback) SumFloat64(buf []float64) error {
	all := l.hub.exchange(l.rank, buf)
	for i := range buf {
		buf[i] = 0
		for _, v := range all {
			buf[i] += v[i]
		}
	}
	return nil
}
func (l loopback) SumFloat32(buf []float32) error {
	v := make([]float64, len(buf))
	for i, x := range buf {
		v[i] = math.Float64frombits(uint64(math.Float32bits(x)))
	}
	all := l.hub.exchange(l.rank, v)
	for i := range buf {
		var s float32
		for _, w := range all {
			s += math.Float32frombits(uint32(math.Float64bits(w[i])))
		}
		buf[i] = s
	}
	return nil
}
func (l loopback) MinMaxUint64(v uint64) (uint64, uint64, error) {
	all := l.hub.exchange(l.rank, []float64{math.Float64frombits(v)})
	lo, hi := v, v
	for _, w := range all {
		u := math.Float64bits(w[0])
		lo, hi = min(lo, u), max(hi, u)
	}
	return lo, hi, nil
}

func accumulateConfig(dir string, steps, accumulate int, dtype string) *rundir.Config {
	c := resumeConfig(dir, steps)
	c.Training.Accumulate = accumulate
	c.Training.Dtype = dtype
	c.Training.SaveEvery = 5
	return c
}

func weightsOf(t *testing.T, tr *Trainer) map[string][]float64 {
	t.Helper()
	// Run ends holding the best checkpoint's weights when there is a
	// test set; these configs have none, so these are the last ones.
	out := map[string][]float64{}
	s := tr.Task.Store()
	for _, n := range s.Names() {
		out[n] = append([]float64(nil), graph.Float64s(s.Get(n))...)
	}
	return out
}

// worstRelative is the largest |a−b| / max|b| over all tensors.
func worstRelative(a, b map[string][]float64) float64 {
	worst := 0.0
	for n, w := range b {
		scale := math.Max(maxAbs(w), 1e-300)
		for i := range w {
			worst = math.Max(worst, math.Abs(a[n][i]-w[i])/scale)
		}
	}
	return worst
}

// Two micro-batches accumulated give the loss and gradients of one batch
// of the same sentences: each is normalised by all their tokens, and the
// update sums them. (Weights after one Adam step are no test: its first
// step is lr·sign(g), which rounding flips where g is about 0.)
func TestAccumulateEqualsOneBatch(t *testing.T) {
	c := accumulateConfig(t.TempDir(), 1, 2, "float64")
	c.Model.Dropout = 0
	acc, err := NewTrainer(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer acc.Close()
	tl := acc.Translation()
	b0, b1, both := tl.batch(0, 3), tl.batch(3, 6), tl.batch(0, 6)
	n := b0.Targets() + b1.Targets()
	if both.Targets() != n {
		t.Fatalf("%d + %d targets, one batch has %d", b0.Targets(), b1.Targets(), both.Targets())
	}
	sum := newGradSum(tl.Store())
	var loss float64
	var params []Param
	for i, b := range []*data.Batch{b0, b1} {
		l, p, g, err := acc.gradients(b, n)
		if err != nil {
			t.Fatal(err)
		}
		loss += l
		params = p
		sum.add(g, i == 0)
	}
	want, _, grads, err := acc.gradients(both, n)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(loss-want) > 1e-12*math.Abs(want) {
		t.Errorf("accumulated loss %v, one batch %v", loss, want)
	}
	got := map[string][]float64{}
	ref := map[string][]float64{}
	for i, g := range sum.grads(params) {
		got[g.Name], ref[grads[i].Name] = graph.Float64s(g.Tensor), graph.Float64s(grads[i].Tensor)
	}
	// Relative to the largest gradient: the key projections' biases have
	// gradients that are 0 up to rounding (softmax ignores a shift).
	scale, worst := 0.0, 0.0
	for n, w := range ref {
		scale = math.Max(scale, maxAbs(w))
		for i := range w {
			worst = math.Max(worst, math.Abs(got[n][i]-w[i]))
		}
	}
	if worst > 1e-12*scale {
		t.Errorf("accumulated gradients differ from one batch's by %.3g (largest gradient %.3g)", worst, scale)
	}
}

// batch packs training examples lo..hi into one batch.
func (t *Translation) batch(lo, hi int) *data.Batch { return data.Pack(t.trainEx[lo:hi]) }

// trainParallel trains c on size processes of one data-parallel run
// (connected by loopback) and returns rank 0's trainer.
func trainParallel(t *testing.T, c func() *rundir.Config, size int, resume bool) *Trainer {
	t.Helper()
	comms := newLoopback(size)
	trainers := make([]*Trainer, size)
	errs := make([]error, size)
	var wg sync.WaitGroup
	for r := range comms {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			tr, err := NewDataParallelTrainer(context.Background(), c(), nil, comms[r], resume)
			if err != nil {
				errs[r] = err
				return
			}
			defer tr.Close()
			_, errs[r] = tr.Run(context.Background())
			trainers[r] = tr
		}(r)
	}
	wg.Wait()
	for r, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", r, err)
		}
	}
	for r := 1; r < size; r++ {
		if checksum(trainers[r].Task.Store()) != checksum(trainers[0].Task.Store()) {
			t.Fatalf("rank %d ends with other weights than rank 0", r)
		}
	}
	return trainers[0]
}

// Two processes with a micro-batch each make, bit for bit in float64
// (dropout on), the updates of one process accumulating two; and a
// data-parallel run stopped at step 9 and resumed by the same two
// processes ends where the uninterrupted one does.
func TestDataParallelEqualsAccumulation(t *testing.T) {
	const steps = 16
	one := trainFor(t, accumulateConfig(t.TempDir(), steps, 2, "float64"), false, context.Background())
	dir := t.TempDir()
	two := trainParallel(t, func() *rundir.Config { return accumulateConfig(dir, steps, 1, "float64") }, 2, false)
	if w := worstRelative(weightsOf(t, two), weightsOf(t, one)); w != 0 {
		t.Errorf("two processes differ from accumulate 2 by %.3g relative", w)
	}
	if two.state.MicroBatches != 2*steps || one.state.MicroBatches != 2*steps {
		t.Errorf("micro-batches %d and %d, want %d", two.state.MicroBatches, one.state.MicroBatches, 2*steps)
	}

	resumed := t.TempDir()
	trainParallel(t, func() *rundir.Config { return accumulateConfig(resumed, 9, 1, "float64") }, 2, false)
	got := trainParallel(t, func() *rundir.Config { return accumulateConfig(resumed, steps, 1, "float64") }, 2, true)
	if w := worstRelative(weightsOf(t, got), weightsOf(t, two)); w != 0 {
		t.Errorf("resumed data-parallel run differs by %.3g relative", w)
	}
}

// In float32 the two agree to 1e-6 after 50 updates.
func TestDataParallelFloat32(t *testing.T) {
	if testing.Short() {
		t.Skip("50 updates twice")
	}
	const steps = 50
	one := trainFor(t, accumulateConfig(t.TempDir(), steps, 2, "float32"), false, context.Background())
	dir := t.TempDir()
	two := trainParallel(t, func() *rundir.Config { return accumulateConfig(dir, steps, 1, "float32") }, 2, false)
	if w := worstRelative(weightsOf(t, two), weightsOf(t, one)); w > 1e-6 {
		t.Errorf("float32: two processes differ from accumulate 2 by %.3g relative", w)
	}
}

// A run accumulating 3 micro-batches, stopped and resumed, ends bitwise
// where an uninterrupted one does.
func TestAccumulateResumeIsExact(t *testing.T) {
	ref := trainFor(t, accumulateConfig(t.TempDir(), 12, 3, "float64"), false, context.Background())
	dir := t.TempDir()
	trainFor(t, accumulateConfig(dir, 7, 3, "float64"), false, context.Background())
	got := trainFor(t, accumulateConfig(dir, 12, 3, "float64"), true, context.Background())
	if w := worstRelative(weightsOf(t, got), weightsOf(t, ref)); w != 0 {
		t.Errorf("resumed run differs by %.3g relative", w)
	}
	if got.state.MicroBatches != 36 {
		t.Errorf("%d micro-batches, want 36", got.state.MicroBatches)
	}
}

// If the processes' weights ever differ, every process stops at the next
// validation with an error saying so.
func TestDataParallelReplicasMustAgree(t *testing.T) {
	dir := t.TempDir()
	comms := newLoopback(2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for r := range comms {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			c := accumulateConfig(dir, 8, 1, "float64")
			c.Training.ValidEvery = 4
			tr, err := NewDataParallelTrainer(context.Background(), c, nil, comms[r], false)
			if err != nil {
				errs[r] = err
				return
			}
			defer tr.Close()
			if r == 1 { // a replica whose weights went astray
				w := tr.Task.Store().Get(tr.Task.Store().Names()[0]).Data().([]float64)
				w[0] += 1e-9
			}
			_, errs[r] = tr.Run(context.Background())
		}(r)
	}
	wg.Wait()
	for r, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "step 4: the weights of the 2 processes differ") {
			t.Errorf("rank %d: %v, want the replicas' disagreement", r, err)
		}
	}
}
