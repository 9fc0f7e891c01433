package layers

import "sort"

// registry is a name → variant table filled from init functions: the
// attention kinds and the positional schemes.
type registry[T any] struct {
	what  string
	kinds map[string]T
}

func newRegistry[T any](what string) *registry[T] {
	return &registry[T]{what: what, kinds: map[string]T{}}
}

// add registers k under name; a name taken twice is a programming error.
func (r *registry[T]) add(name string, k T) {
	if _, ok := r.kinds[name]; ok {
		panic("layers: " + r.what + " " + name + " registered twice")
	}
	r.kinds[name] = k
}

// names lists the registered names in order.
func (r *registry[T]) names() []string {
	names := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
