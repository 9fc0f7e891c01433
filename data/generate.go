package data

import (
	"fmt"
	"strings"
)

// Pair is one aligned source/target sentence pair.
type Pair struct{ Src, Tgt string }

// splitmix64 is a tiny, fully specified generator, so that generated
// datasets are identical on every platform and Go version.
type splitmix64 uint64

func (s *splitmix64) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a value in [0, n).
func (s *splitmix64) intn(n int) int { return int(s.next() % uint64(n)) }

// numberSplitSeed fixes the number split for everyone.
const numberSplitSeed = 20261121

// NumberSplit partitions 0..999,999 deterministically: a fixed permutation
// puts testSize numbers in test, the next validSize in valid and the rest in
// train, so that no number is in two splits.
func NumberSplit(validSize, testSize int) (train, valid, test []int) {
	perm := make([]int, MaxNumber+1)
	for i := range perm {
		perm[i] = i
	}
	rng := splitmix64(numberSplitSeed)
	for i := len(perm) - 1; i > 0; i-- {
		j := rng.intn(i + 1)
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm[testSize+validSize:], perm[testSize : testSize+validSize], perm[:testSize]
}

// Generated describes a dataset the project makes itself.
type Generated struct {
	// Task is "numbers" (English number words to German ones), "copy" or
	// "reverse" (sequences of letters).
	Task string `yaml:"task"`
	// TrainSize is the number of training pairs. For numbers they are drawn
	// from the training split: 10% from its numbers below 1,000, 10% from
	// those in 1,000..9,999, the rest uniformly (uniform sampling alone
	// would show the model almost no small numbers: 0.1% are below 1,000).
	TrainSize int `yaml:"train_size"`
	ValidSize int `yaml:"valid_size"`
	TestSize  int `yaml:"test_size"`
	// MinLen, MaxLen and Alphabet shape the copy and reverse tasks.
	MinLen   int   `yaml:"min_len"`
	MaxLen   int   `yaml:"max_len"`
	Alphabet int   `yaml:"alphabet"`
	Seed     int64 `yaml:"seed"`
}

// GeneratedTasks lists the tasks Generate knows.
var GeneratedTasks = []string{"numbers", "copy", "reverse"}

// Validate checks the task name and its sizes without generating anything.
func (g Generated) Validate() error {
	switch g.Task {
	case "numbers":
		if g.ValidSize+g.TestSize > MaxNumber {
			return fmt.Errorf("valid_size + test_size exceeds %d numbers", MaxNumber+1)
		}
		return nil
	case "copy", "reverse":
		if g.MinLen < 1 || g.MaxLen < g.MinLen || g.Alphabet < 2 || g.Alphabet > 26 {
			return fmt.Errorf("%s task needs 1 ≤ min_len ≤ max_len and 2 ≤ alphabet ≤ 26", g.Task)
		}
		return nil
	}
	return fmt.Errorf("unknown generated task %q (want one of %v)", g.Task, GeneratedTasks)
}

// Generate makes the train, valid and test pairs of g.
func Generate(g Generated) (train, valid, test []Pair, err error) {
	if err := g.Validate(); err != nil {
		return nil, nil, nil, err
	}
	switch g.Task {
	case "numbers":
		tr, va, te := NumberSplit(g.ValidSize, g.TestSize)
		return numberPairs(sampleNumbers(tr, g.TrainSize)), numberPairs(va), numberPairs(te), nil
	default:
		rng := splitmix64(g.Seed)
		gen := func(n int) []Pair { return symbolPairs(&rng, g, n) }
		return gen(g.TrainSize), gen(g.ValidSize), gen(g.TestSize), nil
	}
}

// sampleNumbers draws n training numbers from split (already a random
// permutation): one in ten from the numbers below 1,000, one in ten from
// 1,000..9,999, the others uniformly (each at most once).
func sampleNumbers(split []int, n int) []int {
	var small, mid []int
	for _, x := range split {
		switch {
		case x < 1000:
			small = append(small, x)
		case x < 10000:
			mid = append(mid, x)
		}
	}
	rng := splitmix64(numberSplitSeed + 1)
	out := make([]int, 0, n)
	next := 0
	for len(out) < n {
		switch r := rng.intn(10); {
		case r == 0 && len(small) > 0:
			out = append(out, small[rng.intn(len(small))])
		case r == 1 && len(mid) > 0:
			out = append(out, mid[rng.intn(len(mid))])
		default:
			if next >= len(split) {
				return out
			}
			out = append(out, split[next])
			next++
		}
	}
	return out
}

func numberPairs(ns []int) []Pair {
	out := make([]Pair, len(ns))
	for i, n := range ns {
		out[i] = Pair{EnglishNumber(n), GermanNumber(n)}
	}
	return out
}

// symbolPairs makes sequences of space-separated letters and their copy or
// reversal.
func symbolPairs(rng *splitmix64, g Generated, n int) []Pair {
	out := make([]Pair, n)
	for i := range out {
		l := g.MinLen + rng.intn(g.MaxLen-g.MinLen+1)
		sym := make([]string, l)
		for j := range sym {
			sym[j] = string(rune('a' + rng.intn(g.Alphabet)))
		}
		src := strings.Join(sym, " ")
		if g.Task == "reverse" {
			for a, b := 0, len(sym)-1; a < b; a, b = a+1, b-1 {
				sym[a], sym[b] = sym[b], sym[a]
			}
		}
		out[i] = Pair{src, strings.Join(sym, " ")}
	}
	return out
}
