package graph

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestGradCheckAcceptsRightGradients(t *testing.T) {
	b := NewBuilder(NewStore(tensor.Float64, 1), false)
	x := RandomInput(b, "x", 1, 3, 4)
	w := b.Param("w", nil, 4, 2)
	y := G.Must(G.Tanh(G.Must(G.Mul(x, w))))
	res, err := GradCheckOutput(b, y, G.Nodes{x}, GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Checked != 12 || res[1].Checked != 8 {
		t.Fatalf("results %+v", res)
	}
	for _, r := range res {
		if r.MaxRelErr > 1e-7 {
			t.Errorf("%s: %g", r.Name, r.MaxRelErr)
		}
	}
}

// Gorgonia v0.9.18's ByIndices has a wrong gradient when it gathers along
// the innermost axis; the checker must catch it, which shows that it can fail.
func TestGradCheckCatchesByIndicesInnermostBug(t *testing.T) {
	b := NewBuilder(NewStore(tensor.Float64, 1), false)
	x := RandomInput(b, "x", 1, 3, 5)
	idx := b.IntInput("idx", 2)
	copy(idx.Value().Data().([]int), []int{4, 1})
	y := G.Must(G.ByIndices(x, idx, 1))
	res, err := GradCheckOutput(b, y, G.Nodes{x}, GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].MaxRelErr < 1e-2 {
		t.Errorf("gradient check passed ByIndices on axis 1 (worst error %g); expected a mismatch", res[0].MaxRelErr)
	}
}

func TestStoreLoadRejectsBadTensors(t *testing.T) {
	s := NewStore(tensor.Float32, 1)
	s.Add("a", nil, 2, 3)
	s.Add("b", Zeros, 3)
	good := map[string]*tensor.Dense{"a": Zeroed(tensor.Float64, 2, 3), "b": Zeroed(tensor.Float32, 3)}
	if err := s.Load(good); err != nil {
		t.Fatal(err)
	}
	cases := map[string]map[string]*tensor.Dense{
		`missing tensor "b"`:    {"a": Zeroed(tensor.Float32, 2, 3)},
		`"a" has shape (3, 2)`:  {"a": Zeroed(tensor.Float32, 3, 2), "b": Zeroed(tensor.Float32, 3)},
		`unexpected tensor "c"`: {"a": Zeroed(tensor.Float32, 2, 3), "b": Zeroed(tensor.Float32, 3), "c": Zeroed(tensor.Float32, 1)},
	}
	for want, vals := range cases {
		err := s.Load(vals)
		if err == nil || !contains(err.Error(), want) {
			t.Errorf("error %v, want it to mention %s", err, want)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestXavierUniformBounds(t *testing.T) {
	s := NewStore(tensor.Float64, 3)
	w := s.Add("w", nil, 40, 60)
	a := math.Sqrt(6.0 / 100)
	var sum2 float64
	for _, v := range w.Data().([]float64) {
		if math.Abs(v) > a {
			t.Fatalf("value %g outside ±%g", v, a)
		}
		sum2 += v * v
	}
	// Var of U(-a, a) is a²/3.
	if got, want := sum2/2400, a*a/3; math.Abs(got-want)/want > 0.1 {
		t.Errorf("variance %g, want about %g", got, want)
	}
}

func TestAttentionMask(t *testing.T) {
	m := AttentionMask(tensor.Float64, 1, 3, 3, []bool{false, false, true}, true).Data().([]float64)
	want := []float64{0, MaskValue, MaskValue, 0, 0, MaskValue, 0, 0, MaskValue}
	for i := range want {
		if m[i] != want[i] {
			t.Fatalf("mask %v, want %v", m, want)
		}
	}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := NewCache(2)
	closed := map[string]bool{}
	get := func(k string) {
		c.Get(k, func() (Compiled, error) { return closer{k, closed}, nil })
	}
	get("a")
	get("b")
	get("a")
	get("c") // evicts b
	if !closed["b"] || closed["a"] {
		t.Fatalf("closed %v, want only b", closed)
	}
	if h, m, n := c.Stats(); h != 1 || m != 3 || n != 2 {
		t.Errorf("stats %d/%d/%d", h, m, n)
	}
}

type closer struct {
	k string
	m map[string]bool
}

func (c closer) Close() error { c.m[c.k] = true; return nil }
