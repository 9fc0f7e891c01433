package data

import (
	"fmt"
	"math/rand"
)

// LongRange generates the long-range classification task: sequences of
// Length tokens whose label depends only on the first and the last token.
// The first token is one of two markers A₀, A₁ and the last one of B₀, B₁;
// between them lie Length−2 filler tokens drawn uniformly from Fillers
// others. The label is 1 when the two marker indices differ (their XOR), so
// a model must see both ends: attention limited to a window of w positions
// per layer never connects them.
type LongRange struct {
	Length  int `yaml:"length"`
	Fillers int `yaml:"fillers"`
	Train   int `yaml:"train_size"`
	// Valid is the size of the validation set, which training validates
	// on and picks its best checkpoint by (drawn apart from train and test).
	Valid int   `yaml:"valid_size"`
	Test  int   `yaml:"test_size"`
	Seed  int64 `yaml:"seed"`
}

// Token ids of the long-range task. Id 0 stays padding as elsewhere.
const (
	LongRangeA0     = 4
	LongRangeB0     = 6
	longRangeFiller = 8
)

// Vocab is the number of token ids the task uses.
func (g LongRange) Vocab() int { return longRangeFiller + g.Fillers }

// Bounds of the long-range task, which Check enforces so that a config
// cannot ask for more than memory holds.
const (
	// MaxLongRangeLength bounds length (tokens per sequence).
	MaxLongRangeLength = 65_536
	// MaxLongRangeFillers bounds fillers (the vocabulary is fillers + 8).
	MaxLongRangeFillers = 1 << 20
	// MaxLongRangeSize bounds train_size + valid_size + test_size.
	MaxLongRangeSize = 10_000_000
	// MaxLongRangeTokens bounds (train_size + valid_size + test_size) × length.
	MaxLongRangeTokens = 100_000_000
)

// Check reports a task that cannot be generated, in one line naming the
// config key.
func (g LongRange) Check() error {
	switch {
	case g.Length < 3:
		return fmt.Errorf("length must be at least 3, got %d", g.Length)
	case g.Length > MaxLongRangeLength:
		return fmt.Errorf("length must be at most %d, got %d", MaxLongRangeLength, g.Length)
	case g.Fillers < 1:
		return fmt.Errorf("fillers must be positive, got %d", g.Fillers)
	case g.Fillers > MaxLongRangeFillers:
		return fmt.Errorf("fillers must be at most %d, got %d", MaxLongRangeFillers, g.Fillers)
	case g.Train < 1 || g.Test < 0:
		return fmt.Errorf("train_size must be positive and test_size not negative, got %d and %d", g.Train, g.Test)
	case g.Valid < 1:
		return fmt.Errorf("valid_size must be positive: training validates on it, got %d", g.Valid)
	case g.Train > MaxLongRangeSize || g.Test > MaxLongRangeSize || g.Valid > MaxLongRangeSize || g.Train+g.Test+g.Valid > MaxLongRangeSize:
		return fmt.Errorf("train_size + valid_size + test_size must be at most %d, got %d, %d and %d", MaxLongRangeSize, g.Train, g.Valid, g.Test)
	case (g.Train+g.Test+g.Valid)*g.Length > MaxLongRangeTokens:
		return fmt.Errorf("(train_size + valid_size + test_size) × length must be at most %d, got (%d + %d + %d) × %d", MaxLongRangeTokens, g.Train, g.Valid, g.Test, g.Length)
	}
	return nil
}

// Labelled is one sequence with its class.
type Labelled struct {
	Tokens []int
	Label  int
}

// Generate returns the training and test sets. Labels are balanced in
// expectation; the same Seed gives the same sets.
func (g LongRange) Generate() (train, test []Labelled) {
	gen := g.generator(g.Seed)
	return gen(g.Train), gen(g.Test)
}

// Validation returns the validation set: Valid sequences drawn from a
// generator of their own, so that the training and test sets are the same
// whatever its size.
func (g LongRange) Validation() []Labelled {
	return g.generator(g.Seed ^ 0x5a17)(g.Valid)
}

// generator draws sequences from a generator seeded with seed.
func (g LongRange) generator(seed int64) func(n int) []Labelled {
	rng := rand.New(rand.NewSource(seed))
	return func(n int) []Labelled {
		out := make([]Labelled, n)
		for i := range out {
			a, b := rng.Intn(2), rng.Intn(2)
			t := make([]int, g.Length)
			t[0], t[g.Length-1] = LongRangeA0+a, LongRangeB0+b
			for j := 1; j < g.Length-1; j++ {
				t[j] = longRangeFiller + rng.Intn(g.Fillers)
			}
			out[i] = Labelled{Tokens: t, Label: a ^ b}
		}
		return out
	}
}
