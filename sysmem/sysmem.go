// Package sysmem tells how much memory this process may use: the machine's
// RAM, lowered by an address-space limit (ulimit -v) or a cgroup's
// memory.max where one is set. Commands compare their memory estimates with
// it before they allocate, so that a config the machine cannot hold is
// refused with a message instead of a Go out-of-memory crash.
package sysmem

import "fmt"

// Limit is the memory available to the process and where the figure comes
// from.
type Limit struct {
	Bytes  int64  // 0 when unknown
	Source string // "RAM", "ulimit -v", "cgroup memory.max"
}

// String reads "23.4 GiB (RAM)".
func (l Limit) String() string {
	if l.Bytes <= 0 {
		return "unknown"
	}
	return fmt.Sprintf("%s (%s)", size(l.Bytes), l.Source)
}

// Available returns the smallest of the limits this platform reports;
// Bytes is 0 where none is known.
func Available() Limit {
	var best Limit
	for _, l := range limits() {
		if l.Bytes > 0 && (best.Bytes == 0 || l.Bytes < best.Bytes) {
			best = l
		}
	}
	return best
}

func size(n int64) string {
	const gib = 1 << 30
	if n >= gib {
		return fmt.Sprintf("%.1f GiB", float64(n)/gib)
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}
