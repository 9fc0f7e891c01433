package graph

import (
	"math"
	"math/bits"
	"sync"

	"gorgonia.org/tensor"
)

// Arena lends the results of the fused ops of graphs that only run forward
// (translation, evaluation) from arrays kept from one run to the next.
// Without it, every op allocates its result afresh on every run, and for a
// batch's encoder that is tens of megabytes: the allocator clears them, the
// collector reclaims them, and the pages fault in again, which took more
// time than the encoder's products.
//
// The graphs that share an arena run one at a time, and Reset comes before
// each run: it takes back every array lent since the previous Reset. So
// nothing may keep a result of a run past the next Reset (copy what you
// keep), and a lent array holds whatever its last user left there: each op
// writes every element of its result. Arrays are grouped by size class
// (four a power of two), and Reset lets go of those no op borrowed in the
// run before, so an arena holds about one run's results, and less after
// the shapes change. It keeps at most Limit bytes (DefaultArenaLimit
// where Limit is 0); what a run needs beyond that is allocated as without
// an arena, so that large batches do not pin their activations between
// runs.
//
// A nil *Arena allocates as usual. An Arena is safe for concurrent use, but
// what it lends is only safe under the rule above.
type Arena struct {
	mu  sync.Mutex
	f32 arenaPool[float32]
	f64 arenaPool[float64]
	// Limit is the most bytes the arena keeps, lent or free (0:
	// DefaultArenaLimit).
	Limit int
	// Poison fills each array it lends with NaN (tests: a result that an
	// op leaves partly unwritten then shows).
	Poison bool
}

// DefaultArenaLimit is the most bytes an Arena keeps unless its Limit
// says otherwise: a batch's encoder values at the reference's shapes take
// a few megabytes to a few tens.
const DefaultArenaLimit = 64 << 20

func (a *Arena) limit() int {
	if a.Limit > 0 {
		return a.Limit
	}
	return DefaultArenaLimit
}

// arenaPool holds the arrays of one element type by size class: free ones,
// and those lent since the last Reset; held counts their elements.
type arenaPool[T float32 | float64] struct {
	free, lent map[int][][]T
	held       int
}

// take lends n elements: a free array of their class, or a new one, kept
// where room is left (the pool may hold room elements more), else not.
func (p *arenaPool[T]) take(n, room int, poison bool) []T {
	c := sizeClass(n)
	var s []T
	switch f := p.free[c]; {
	case len(f) > 0:
		s, p.free[c] = f[len(f)-1], f[:len(f)-1]
		p.lend(c, s)
	case c <= room:
		s = make([]T, c)
		p.held += c
		p.lend(c, s)
	default:
		s = make([]T, n) // past the limit: allocated, not kept
	}
	s = s[:n]
	if poison {
		for i := range s {
			s[i] = T(math.NaN())
		}
	}
	return s
}

// lend records s, of class c, as lent until the next reset.
func (p *arenaPool[T]) lend(c int, s []T) {
	if p.lent == nil {
		p.lent = map[int][][]T{}
	}
	p.lent[c] = append(p.lent[c], s)
}

func (p *arenaPool[T]) reset() {
	for c, ss := range p.free { // unused for a whole run: let go
		p.held -= c * len(ss)
	}
	p.free, p.lent = p.lent, nil
}

func (p *arenaPool[T]) drop() { p.free, p.lent, p.held = nil, nil, 0 }

// sizeClass rounds n up to a size with at most three significant bits: a
// waste below 25%.
func sizeClass(n int) int {
	if n <= 8 {
		return 8
	}
	shift := bits.Len(uint(n-1)) - 3
	return ((n-1)>>shift + 1) << shift
}

// dense returns a tensor of dtype dt and the given shape: from the arena
// (its elements left as they were), or, for a nil arena or a dtype other
// than Float32 and Float64, newly allocated and zeroed.
func (a *Arena) dense(dt tensor.Dtype, shape ...int) *tensor.Dense {
	if a == nil || (dt != tensor.Float32 && dt != tensor.Float64) {
		return tensor.New(tensor.WithShape(tensor.Shape(shape).Clone()...), tensor.Of(dt))
	}
	shape = tensor.Shape(shape).Clone()
	n := tensor.Shape(shape).TotalSize()
	if dt == tensor.Float32 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(a.float32s(n)))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(a.float64s(n)))
}

// float32s lends n float32s (a nil arena allocates them).
func (a *Arena) float32s(n int) []float32 {
	if a == nil {
		return make([]float32, n)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.f32.take(n, (a.limit()-a.bytes())/4, a.Poison)
}

// float64s lends n float64s (a nil arena allocates them).
func (a *Arena) float64s(n int) []float64 {
	if a == nil {
		return make([]float64, n)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.f64.take(n, (a.limit()-a.bytes())/8, a.Poison)
}

// Reset takes back every array lent since the previous Reset, to be lent
// again, and lets go of those that stayed unused since then.
func (a *Arena) Reset() {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.f32.reset()
	a.f64.reset()
}

// Drop lets go of every array, lent or not: for an arena that will not be
// used for a while (a translator between validations, say).
func (a *Arena) Drop() {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.f32.drop()
	a.f64.drop()
}

// Bytes is the memory of the arrays the arena holds, lent or free.
func (a *Arena) Bytes() int {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.bytes()
}

func (a *Arena) bytes() int { return 4*a.f32.held + 8*a.f64.held }
