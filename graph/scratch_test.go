package graph

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestScratchSharesItsArray(t *testing.T) {
	var s Scratch
	a := s.Tensor(tensor.Float32, 4, 5)
	a.Data().([]float32)[3] = 7
	b := s.Tensor(tensor.Float32, 2, 3)
	if got := b.Data().([]float32)[3]; got != 7 || !b.Shape().Eq(tensor.Shape{2, 3}) {
		t.Fatalf("second tensor %v reads %v, want the shared element 7", b.Shape(), got)
	}
	c := s.Tensor(tensor.Float32, 50) // grows
	if len(c.Data().([]float32)) != 50 || c.Data().([]float32)[3] != 0 {
		t.Fatalf("grown tensor: %d elements, element 3 = %v", len(c.Data().([]float32)), c.Data().([]float32)[3])
	}
	if d := s.Tensor(tensor.Float64, 3, 2); d.Dtype() != tensor.Float64 || d.Shape().TotalSize() != 6 {
		t.Fatalf("float64 tensor %v %v", d.Dtype(), d.Shape())
	}
}

// Two graphs' masks share arrays, and dropout still applies each graph's
// freshly filled mask.
func TestDropoutPool(t *testing.T) {
	var pool DropoutPool
	rng := NewRNG(3)
	var arrays []*float32
	for _, rows := range []int{6, 4} {
		b := NewBuilder(NewStore(tensor.Float32, 1), true)
		x := b.Input("x", rows, 5)
		x.Value().(*tensor.Dense).Memset(float32(1))
		y := b.Dropout(b.Dropout(x, 0.5), 0.5)
		if err := pool.Bind(b.DropoutMasks(), tensor.Float32); err != nil {
			t.Fatal(err)
		}
		FillDropout(b.DropoutMasks(), rng)
		m := G.NewTapeMachine(b.G)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		m1 := b.DropoutMasks()[0].Node.Value().Data().([]float32)
		m2 := b.DropoutMasks()[1].Node.Value().Data().([]float32)
		for i, v := range y.Value().Data().([]float32) {
			if v != m1[i]*m2[i] {
				t.Fatalf("rows %d: output %d is %v, masks %v·%v", rows, i, v, m1[i], m2[i])
			}
		}
		arrays = append(arrays, &m1[0])
		m.Close()
		if &m1[0] == &m2[0] {
			t.Fatal("two masks of one graph share an array")
		}
	}
	if arrays[0] != arrays[1] {
		t.Error("the graphs' first masks do not share an array")
	}
}
