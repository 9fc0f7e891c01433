package graph

import (
	"testing"

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
