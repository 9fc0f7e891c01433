package graph

// RNG is a small random generator (SplitMix64) whose whole state is one
// exported number, so that a checkpoint can save and restore it exactly.
type RNG struct {
	State uint64
}

// NewRNG returns a generator seeded with seed.
func NewRNG(seed int64) *RNG { return &RNG{State: uint64(seed)} }

// Uint64 returns the next 64 random bits.
func (r *RNG) Uint64() uint64 {
	r.State += gamma
	z := r.State
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// gamma is SplitMix64's increment: each number advances State by it.
const gamma = 0x9e3779b97f4a7c15

// Skip advances the generator past n numbers without drawing them.
func (r *RNG) Skip(n uint64) { r.State += n * gamma }

// Float64 returns a number in [0, 1) with 53 random bits.
func (r *RNG) Float64() float64 { return float64(r.Uint64()>>11) / (1 << 53) }
