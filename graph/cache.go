package graph

import (
	"container/list"
	"sync"
)

// Compiled is anything a Cache can hold: a built graph with its machine.
type Compiled interface {
	// Close releases the machine.
	Close() error
}

// Cache keeps compiled graphs keyed by their shape (for example
// "train/b32/s12/t14"), evicting the least recently used beyond Max entries.
// Gorgonia graphs have static shapes, so a model buckets its batches and
// compiles each bucket once.
type Cache struct {
	Max int

	mu      sync.Mutex
	ll      *list.List
	entries map[string]*list.Element
	hits    int
	misses  int
}

type cacheEntry struct {
	key string
	val Compiled
}

// NewCache returns a cache that holds at most max compiled graphs (max <= 0:
// unlimited).
func NewCache(max int) *Cache {
	return &Cache{Max: max, ll: list.New(), entries: map[string]*list.Element{}}
}

// Get returns the graph stored under key, building and storing it with build
// on a miss.
func (c *Cache) Get(key string, build func() (Compiled, error)) (Compiled, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		c.hits++
		c.ll.MoveToFront(e)
		return e.Value.(*cacheEntry).val, nil
	}
	c.misses++
	v, err := build()
	if err != nil {
		return nil, err
	}
	c.entries[key] = c.ll.PushFront(&cacheEntry{key, v})
	for c.Max > 0 && c.ll.Len() > c.Max {
		old := c.ll.Back()
		c.ll.Remove(old)
		ce := old.Value.(*cacheEntry)
		delete(c.entries, ce.key)
		ce.val.Close()
	}
	return v, nil
}

// Stats reports cache hits, misses and current size.
func (c *Cache) Stats() (hits, misses, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses, c.ll.Len()
}

// Clear closes and drops every entry (call it after changing the Store's
// tensors by replacement rather than in place).
func (c *Cache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		e.Value.(*cacheEntry).val.Close()
	}
	c.ll.Init()
	c.entries = map[string]*list.Element{}
}
