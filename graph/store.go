package graph

import (
	"fmt"
	"math/rand"
	"sort"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/half"
)

// Store owns a model's learnable tensors, keyed by hierarchical names such as
// "encoder.layers.0.self_attn.q_proj.weight". Names keep their creation
// order, which fixes the order of parameters everywhere (optimizer state,
// checkpoints, reports).
type Store struct {
	dtype tensor.Dtype
	rng   *rand.Rand
	// WeightInit initialises matrices created with Add(name, nil, ...);
	// it defaults to XavierUniform(1).
	WeightInit Initializer
	names      []string
	vals       map[string]*tensor.Dense
	halfOK     map[string]bool
	q8         map[string]int8Matrix // int8 matrices (ToInt8)
}

// NewStore returns an empty store whose tensors have dtype dt (tensor.Float32
// or tensor.Float64) and whose initial values are drawn from a generator
// seeded with seed.
func NewStore(dt tensor.Dtype, seed int64) *Store {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		panic(fmt.Sprintf("graph: unsupported dtype %v", dt))
	}
	return &Store{dtype: dt, rng: rand.New(rand.NewSource(seed)), WeightInit: XavierUniform(1), vals: map[string]*tensor.Dense{}}
}

// Dtype is the element type of every tensor in the store.
func (s *Store) Dtype() tensor.Dtype { return s.dtype }

// Add creates the parameter name with the given shape, initialised by init
// (nil means the store's WeightInit), and returns it. Adding a name twice
// returns the existing tensor when the shapes agree, which is how tied
// weights are shared; a shape conflict panics, since it is a programming error.
func (s *Store) Add(name string, init Initializer, shape ...int) *tensor.Dense {
	if t, ok := s.vals[name]; ok {
		if !t.Shape().Eq(tensor.Shape(shape)) {
			panic(fmt.Sprintf("graph: parameter %s exists with shape %v, asked for %v", name, t.Shape(), shape))
		}
		return t
	}
	if init == nil {
		init = s.WeightInit
	}
	t := FromFloat64s(s.dtype, init(s.rng, shape), shape...)
	s.names = append(s.names, name)
	s.vals[name] = t
	return t
}

// Get returns the parameter name, or nil if there is none.
func (s *Store) Get(name string) *tensor.Dense { return s.vals[name] }

// Names lists the parameter names in creation order.
func (s *Store) Names() []string { return append([]string(nil), s.names...) }

// Len is the number of parameter tensors.
func (s *Store) Len() int { return len(s.names) }

// NumElements is the number of scalar parameters.
func (s *Store) NumElements() int {
	n := 0
	for _, t := range s.vals {
		n += t.Shape().TotalSize()
	}
	return n
}

// Load copies values into existing parameters. Every parameter must be
// present with the right shape, and no unknown name may appear; the error
// names the first offending tensor. Values of another float dtype are converted.
func (s *Store) Load(vals map[string]*tensor.Dense) error {
	var unknown []string
	for name := range vals {
		if _, ok := s.vals[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("unexpected tensor %q (the model has no such parameter)", unknown[0])
	}
	for _, name := range s.names {
		v, ok := vals[name]
		if !ok {
			return fmt.Errorf("missing tensor %q", name)
		}
		dst := s.vals[name]
		if !v.Shape().Eq(dst.Shape()) {
			return fmt.Errorf("tensor %q has shape %v, the model expects %v", name, v.Shape(), dst.Shape())
		}
		if f := HalfFormat(v); f != 0 {
			if err := s.halfAllowed(name, f); err != nil {
				return err
			}
			s.vals[name] = v
			continue
		}
		if HalfFormat(dst) != 0 {
			dst = Zeroed(s.dtype, dst.Shape()...)
			s.vals[name] = dst
		}
		copy64To(dst, Float64s(v))
	}
	return nil
}

// AllowHalf marks parameters that may be held as 16-bit numbers (ToHalf,
// or Load of F16 and BF16 tensors): matrices that graphs read only through
// the products and lookups that convert them (Builder.Affine, MatMul,
// Lookup, ProductT) and that the graph-free decoder reads the same way.
func (s *Store) AllowHalf(names ...string) {
	if s.halfOK == nil {
		s.halfOK = map[string]bool{}
	}
	for _, n := range names {
		s.halfOK[n] = true
	}
}

func (s *Store) halfAllowed(name string, f half.Format) error {
	if s.dtype != tensor.Float32 {
		return fmt.Errorf("tensor %q is %v: 16-bit weights are computed in float32, but this model's dtype is %v", name, f, s.dtype)
	}
	if !s.halfOK[name] {
		return fmt.Errorf("tensor %q is %v, but only the weight matrices of products and embeddings may be 16-bit", name, f)
	}
	return nil
}

// ToHalf rounds every parameter marked by AllowHalf to format f, in place
// of its float tensor, and returns how many it converted; with f 0 it
// converts 16-bit parameters back to the store's dtype.
func (s *Store) ToHalf(f half.Format) (int, error) {
	if f != 0 && s.dtype != tensor.Float32 {
		return 0, fmt.Errorf("16-bit weights are computed in float32, but this model's dtype is %v", s.dtype)
	}
	n := 0
	for _, name := range s.names {
		t := s.vals[name]
		if f == 0 {
			if HalfFormat(t) != 0 {
				s.vals[name] = FromFloat64s(s.dtype, Float64s(t), t.Shape()...)
				n++
			}
			continue
		}
		if !s.halfOK[name] {
			continue
		}
		if err := s.halfAllowed(name, f); err != nil {
			return n, err
		}
		if HalfFormat(t) != f {
			s.vals[name] = ToHalf(f, t)
			n++
		}
	}
	return n, nil
}

// Half is the format of the store's 16-bit parameters (that of the first
// if they differ), or 0 when it has none.
func (s *Store) Half() half.Format {
	for _, name := range s.names {
		if f := HalfFormat(s.vals[name]); f != 0 {
			return f
		}
	}
	return 0
}

// Bytes is the memory the parameters' values take, int8 matrices
// (ToInt8) included.
func (s *Store) Bytes() int {
	n := 0
	for _, t := range s.vals {
		n += t.Shape().TotalSize() * int(t.Dtype().Size())
	}
	for _, q := range s.q8 {
		n += q.m.Bytes()
	}
	return n
}

// FromFloat64s builds a tensor of dtype dt (float32, float64, Float16 or
// BFloat16, rounding to the nearest) and the given shape from float64 values.
func FromFloat64s(dt tensor.Dtype, v []float64, shape ...int) *tensor.Dense {
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
	copy64To(t, v)
	return t
}

// Zeroed returns a zero tensor of dtype dt and the given shape.
func Zeroed(dt tensor.Dtype, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
}

func copy64To(t *tensor.Dense, v []float64) {
	switch d := t.Data().(type) {
	case []float64:
		copy(d, v)
	case []float32:
		for i := range d {
			d[i] = float32(v[i])
		}
	case []half.Float16:
		for i := range d {
			d[i] = half.FromFloat32(float32(v[i]))
		}
	case []half.BFloat16:
		for i := range d {
			d[i] = half.BFloat16FromFloat32(float32(v[i]))
		}
	default:
		panic(fmt.Sprintf("graph: unsupported dtype %v", t.Dtype()))
	}
}

// Float64s returns a float32, float64 or 16-bit tensor's data as float64
// values (a copy, except for float64: the backing slice).
func Float64s(t *tensor.Dense) []float64 {
	if f, bits := halfBits(t); f != 0 {
		v32 := make([]float32, len(bits))
		half.Decode(f, v32, bits)
		v := make([]float64, len(v32))
		for i, x := range v32 {
			v[i] = float64(x)
		}
		return v
	}
	switch d := t.Data().(type) {
	case []float64:
		return d
	case []float32:
		v := make([]float64, len(d))
		for i, x := range d {
			v[i] = float64(x)
		}
		return v
	}
	panic(fmt.Sprintf("graph: unsupported dtype %v", t.Dtype()))
}
