package model

import "sync"

// arrays recycles a stepper's arrays for the next batch of its Translator
// (Translator.arrays), so that decoding does not allocate, clear and
// collect them batch after batch.
type arrays[T float] struct{ free [][]T }

// get returns n zeros: the smallest recycled array that holds them, or a
// new one (always, for a nil a).
func (a *arrays[T]) get(n int) []T {
	if a == nil {
		return make([]T, n)
	}
	best := -1
	for i, b := range a.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(a.free[best])) {
			best = i
		}
	}
	if best < 0 {
		return make([]T, n)
	}
	b := a.free[best][:n]
	a.free[best] = a.free[len(a.free)-1]
	a.free = a.free[:len(a.free)-1]
	clear(b)
	return b
}

// put keeps arrays for get (none, for a nil a).
func (a *arrays[T]) put(bs ...[]T) {
	if a == nil {
		return
	}
	for _, b := range bs {
		if cap(b) > 0 {
			a.free = append(a.free, b)
		}
	}
}

// arrayPool holds the arrays of a Translator's finished decoders
// (*arrays[float32] or *arrays[float64]) for its next ones. Unlike a
// sync.Pool, it keeps them across garbage collections, which come several
// times a batch: at most one set per decoder that ran at once.
type arrayPool struct {
	mu   sync.Mutex
	sets []any
}

// Put keeps a set of arrays.
func (p *arrayPool) Put(a any) {
	p.mu.Lock()
	p.sets = append(p.sets, a)
	p.mu.Unlock()
}

// recycled returns a set of arrays pool holds for T, or new ones.
func recycled[T float](pool *arrayPool) *arrays[T] {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	for i, set := range pool.sets {
		if a, ok := set.(*arrays[T]); ok {
			pool.sets = append(pool.sets[:i], pool.sets[i+1:]...)
			return a
		}
	}
	return &arrays[T]{}
}
