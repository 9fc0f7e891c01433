package train

import (
	"hash/fnv"
	"math"

	"github.com/gotransformer/transformer/graph"
)

// Comm is the communication data-parallel training needs between the
// processes of one run (package dist provides it over MPI). Every call is
// collective: all processes make it, in the same order.
type Comm interface {
	// Rank is this process's index in [0, Size).
	Rank() int
	Size() int
	// SumFloat32 and SumFloat64 replace buf, on every process, by the
	// element-wise sum of all processes' bufs.
	SumFloat32(buf []float32) error
	SumFloat64(buf []float64) error
	// MinMaxUint64 returns the least and the greatest v of all processes.
	MinMaxUint64(v uint64) (lo, hi uint64, err error)
}

// agree returns, on every process, whether any process passed true for
// each flag: the decisions to stop are taken together, or a process would
// wait forever for the others.
func (t *Trainer) agree(flags ...bool) ([]bool, error) {
	if t.comm == nil {
		return flags, nil
	}
	v := make([]float64, len(flags))
	for i, f := range flags {
		if f {
			v[i] = 1
		}
	}
	if err := t.comm.SumFloat64(v); err != nil {
		return nil, err
	}
	out := make([]bool, len(flags))
	for i := range v {
		out[i] = v[i] > 0
	}
	return out, nil
}

// sumInt is n summed over the processes.
func (t *Trainer) sumInt(n int) (int, error) {
	if t.comm == nil {
		return n, nil
	}
	v := []float64{float64(n)}
	if err := t.comm.SumFloat64(v); err != nil {
		return 0, err
	}
	return int(v[0]), nil
}

// checksum is an FNV-64 hash of the bits of every parameter, in name
// order: equal on every process exactly when the weights are.
func checksum(s *graph.Store) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for _, n := range s.Names() {
		for _, v := range graph.Float64s(s.Get(n)) {
			u := math.Float64bits(v)
			for i := range b {
				b[i] = byte(u >> (8 * i))
			}
			h.Write(b[:])
		}
	}
	return h.Sum64()
}
