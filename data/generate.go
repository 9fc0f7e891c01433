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
	// from the training split by structure, so that short and round numbers
	// are seen often (see sampleNumbers).
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

// Bounds of generated datasets, which Validate enforces so that a size
// typed on the command line or in a config cannot exhaust memory. No size
// may be negative.
const (
	// MaxNumbersTrain bounds train_size for the numbers task: as many
	// draws as there are numbers outside the default valid and test sets.
	MaxNumbersTrain = 998_000
	// MaxNumbersHeldOut bounds valid_size and test_size, each, for the
	// numbers task, so that at least 800,000 numbers remain to train on.
	MaxNumbersHeldOut = 100_000
	// MaxSymbolPairs bounds train_size + valid_size + test_size for the
	// copy and reverse tasks.
	MaxSymbolPairs = 10_000_000
	// MaxSymbolLen bounds max_len (symbols per sequence) for the copy and
	// reverse tasks.
	MaxSymbolLen = 4096
	// MaxSymbolTotal bounds (train_size + valid_size + test_size) × max_len
	// for the copy and reverse tasks: the generated text then stays under
	// about 400 MB per side.
	MaxSymbolTotal = 100_000_000
	// MaxAlphabet bounds alphabet for the copy and reverse tasks: the
	// letters a to z.
	MaxAlphabet = 26
)

// Validate checks the task name and its sizes without generating anything.
// Errors are one line naming the config key (train_size, max_len, ...).
// valid_size must be positive: training validates on the valid split, and
// a config with valid_size 0 is refused, so transformer generate refuses
// it too.
func (g Generated) Validate() error {
	if err := g.check(); err != nil {
		return err
	}
	if g.ValidSize <= 0 {
		return fmt.Errorf("valid_size must be positive, got %d", g.ValidSize)
	}
	return nil
}

// check is Validate without the valid_size requirement: the bounds that
// keep Generate from exhausting memory.
func (g Generated) check() error {
	for _, f := range []struct {
		key string
		v   int
	}{{"train_size", g.TrainSize}, {"valid_size", g.ValidSize}, {"test_size", g.TestSize},
		{"min_len", g.MinLen}, {"max_len", g.MaxLen}, {"alphabet", g.Alphabet}} {
		if f.v < 0 {
			return fmt.Errorf("%s must not be negative, got %d", f.key, f.v)
		}
	}
	atMost := func(key string, v, limit int) error {
		if v > limit {
			return fmt.Errorf("%s must be at most %d for the %s task, got %d", key, limit, g.Task, v)
		}
		return nil
	}
	switch g.Task {
	case "numbers":
		for _, err := range []error{
			atMost("train_size", g.TrainSize, MaxNumbersTrain),
			atMost("valid_size", g.ValidSize, MaxNumbersHeldOut),
			atMost("test_size", g.TestSize, MaxNumbersHeldOut),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	case "copy", "reverse":
		for _, err := range []error{
			atMost("train_size", g.TrainSize, MaxSymbolPairs),
			atMost("valid_size", g.ValidSize, MaxSymbolPairs),
			atMost("test_size", g.TestSize, MaxSymbolPairs),
			atMost("max_len", g.MaxLen, MaxSymbolLen),
			atMost("alphabet", g.Alphabet, MaxAlphabet),
		} {
			if err != nil {
				return err
			}
		}
		switch n := g.TrainSize + g.ValidSize + g.TestSize; {
		case n > MaxSymbolPairs:
			return fmt.Errorf("train_size + valid_size + test_size must be at most %d for the %s task, got %d", MaxSymbolPairs, g.Task, n)
		case g.MinLen < 1:
			return fmt.Errorf("min_len must be at least 1 for the %s task, got %d", g.Task, g.MinLen)
		case g.MaxLen < g.MinLen:
			return fmt.Errorf("max_len must be at least min_len (%d) for the %s task, got %d", g.MinLen, g.Task, g.MaxLen)
		case g.Alphabet < 2:
			return fmt.Errorf("alphabet must be at least 2 for the %s task, got %d", g.Task, g.Alphabet)
		case n*g.MaxLen > MaxSymbolTotal:
			return fmt.Errorf("(train_size + valid_size + test_size) × max_len must be at most %d for the %s task, got %d × %d", MaxSymbolTotal, g.Task, n, g.MaxLen)
		}
		return nil
	}
	return fmt.Errorf("unknown generated task %q (want one of %v)", g.Task, GeneratedTasks)
}

// Generate makes the train, valid and test pairs of g. It enforces the
// bounds of Validate but, for callers that want only some splits, not that
// valid_size be positive.
func Generate(g Generated) (train, valid, test []Pair, err error) {
	if err := g.check(); err != nil {
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

// sampleNumbers draws n training numbers (with replacement) from split by
// structure rather than uniformly: the thousands group and the remainder
// are drawn independently, each 0 with probability 0.15, in 1..9 with 0.10,
// in 10..99 with 0.15 and in 100..999 with 0.60. Uniform draws would almost
// never show the model a short or round number (0.1% of 0..999,999 are
// below 1,000, and as few are whole thousands); numbers outside split are
// redrawn, and zero is thinned out.
func sampleNumbers(split []int, n int) []int {
	inSplit := make([]bool, MaxNumber+1)
	for _, x := range split {
		inSplit[x] = true
	}
	rng := splitmix64(numberSplitSeed + 1)
	group := func() int {
		switch r := rng.intn(100); {
		case r < 15:
			return 0
		case r < 25:
			return 1 + rng.intn(9)
		case r < 40:
			return 10 + rng.intn(90)
		default:
			return 100 + rng.intn(900)
		}
	}
	out := make([]int, 0, n)
	for len(out) < n {
		x := group()*1000 + group()
		if !inSplit[x] || (x == 0 && rng.intn(50) != 0) {
			continue
		}
		out = append(out, x)
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
