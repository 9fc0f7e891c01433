package graph

import (
	"math"
	"testing"

	"gorgonia.org/tensor"
)

func TestSizeClass(t *testing.T) {
	prev := 0
	for n := 1; n < 1<<20; n += 1 + n/7 {
		c := sizeClass(n)
		if c < n || float64(c) > 1.25*float64(max(n, 8)) {
			t.Fatalf("sizeClass(%d) = %d: below n or over 25%% more", n, c)
		}
		if c < prev {
			t.Fatalf("sizeClass(%d) = %d, below the class of a smaller n (%d)", n, c, prev)
		}
		if sizeClass(c) != c {
			t.Fatalf("sizeClass(%d) = %d, but sizeClass(%d) = %d", n, c, c, sizeClass(c))
		}
		prev = c
	}
}

// An arena lends an array again only after Reset, lets go of arrays unused
// for a whole run at the next Reset, and of all of them at Drop.
func TestArenaLending(t *testing.T) {
	var a Arena
	x := a.float32s(1000)
	y := a.float32s(1000)
	z := a.float64s(100)
	if len(x) != 1000 || len(z) != 100 || &x[0] == &y[0] {
		t.Fatal("one run's arrays overlap, or have the wrong length")
	}
	held := a.Bytes()
	if want := 2*4*sizeClass(1000) + 8*sizeClass(100); held != want {
		t.Fatalf("Bytes = %d, want %d", held, want)
	}
	a.Reset()
	x2 := a.float32s(990) // the same class: lent again
	if &x2[0] != &y[0] && &x2[0] != &x[0] {
		t.Error("an array of the same size class was allocated instead of lent again")
	}
	if a.Bytes() != held {
		t.Errorf("Bytes = %d after lending again, want %d", a.Bytes(), held)
	}
	a.Reset() // one float32 array and the float64 one stayed unused: let go
	if want := 4 * sizeClass(1000); a.Bytes() != want {
		t.Errorf("Bytes = %d after a run that used one array, want %d", a.Bytes(), want)
	}
	a.Drop()
	if a.Bytes() != 0 {
		t.Errorf("Bytes = %d after Drop", a.Bytes())
	}
	a.Poison = true
	for _, v := range a.float64s(20) {
		if !math.IsNaN(v) {
			t.Fatal("a poisoned arena lent a value that is not NaN")
		}
	}
}

// A nil arena allocates zeroed tensors, and every arena allocates the
// dtypes it does not lend.
func TestNilArena(t *testing.T) {
	var a *Arena
	d := a.dense(tensor.Float32, 2, 3)
	for _, v := range d.Data().([]float32) {
		if v != 0 {
			t.Fatal("a nil arena's tensor is not zeroed")
		}
	}
	a.Reset()
	a.Drop()
	if a.Bytes() != 0 || len(a.float64s(3)) != 3 {
		t.Fatal("a nil arena holds memory or lends the wrong length")
	}
	b := &Arena{Poison: true}
	if ints := b.dense(tensor.Int, 4); ints.Dtype() != tensor.Int || b.Bytes() != 0 {
		t.Fatal("an arena lent an Int tensor")
	}
	if s := b.dense(tensor.Float64, 2, 2).Shape(); !s.Eq(tensor.Shape{2, 2}) {
		t.Fatalf("shape %v, want (2, 2)", s)
	}
}

// An arena keeps at most Limit bytes: arrays past it are lent once and not
// kept, and the arrays it kept are lent again after Reset.
func TestArenaLimit(t *testing.T) {
	a := Arena{Limit: 5000}
	x := a.float32s(1000) // 4096 bytes: kept
	y := a.float32s(1000) // would make 8192: not kept
	if &x[0] == &y[0] || len(y) != 1000 {
		t.Fatal("the array past the limit overlaps or has the wrong length")
	}
	if a.Bytes() != 4096 {
		t.Fatalf("Bytes = %d, want 4096", a.Bytes())
	}
	a.Reset()
	if z := a.float32s(1000); &z[0] != &x[0] {
		t.Error("the kept array was not lent again")
	}
	if w := a.float32s(1000); &w[0] == &x[0] || &w[0] == &y[0] || a.Bytes() != 4096 {
		t.Errorf("past the limit after Reset: Bytes = %d, want 4096 and a new array", a.Bytes())
	}
	var d Arena
	d.float64s(DefaultArenaLimit/8 + 1) // larger than the default limit
	if d.Bytes() != 0 {
		t.Errorf("an array above DefaultArenaLimit was kept: Bytes = %d", d.Bytes())
	}
}
