package graph

import (
	"fmt"
	"math"
	"math/rand"
)

// Initializer fills a freshly created parameter of the given shape. It
// returns the values in row-major order as float64; the Store converts them
// to its dtype.
type Initializer func(rng *rand.Rand, shape []int) []float64

// fans returns the fan-in and fan-out used by Glorot initialisation, following
// PyTorch's convention for a tensor of shape [d0, d1, ...]: fan_in = d1·r,
// fan_out = d0·r with r the product of the remaining axes.
func fans(shape []int) (fanIn, fanOut float64) {
	if len(shape) < 2 {
		n := 1.0
		if len(shape) == 1 {
			n = float64(shape[0])
		}
		return n, n
	}
	r := 1
	for _, d := range shape[2:] {
		r *= d
	}
	return float64(shape[1] * r), float64(shape[0] * r)
}

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// XavierUniform draws from U(-a, a) with a = gain·sqrt(6/(fan_in+fan_out))
// (Glorot & Bengio, 2010).
func XavierUniform(gain float64) Initializer {
	return func(rng *rand.Rand, shape []int) []float64 {
		in, out := fans(shape)
		a := gain * math.Sqrt(6/(in+out))
		v := make([]float64, size(shape))
		for i := range v {
			v[i] = (2*rng.Float64() - 1) * a
		}
		return v
	}
}

// XavierNormal draws from N(0, σ²) with σ = gain·sqrt(2/(fan_in+fan_out)).
func XavierNormal(gain float64) Initializer {
	return func(rng *rand.Rand, shape []int) []float64 {
		in, out := fans(shape)
		return Normal(gain*math.Sqrt(2/(in+out)))(rng, shape)
	}
}

// Normal draws from N(0, std²).
func Normal(std float64) Initializer {
	return func(rng *rand.Rand, shape []int) []float64 {
		v := make([]float64, size(shape))
		for i := range v {
			v[i] = rng.NormFloat64() * std
		}
		return v
	}
}

// Constant fills every element with c (Zeros and Ones are the usual cases).
func Constant(c float64) Initializer {
	return func(_ *rand.Rand, shape []int) []float64 {
		v := make([]float64, size(shape))
		for i := range v {
			v[i] = c
		}
		return v
	}
}

// Zeros fills with 0; biases and layer-norm shifts start here.
var Zeros = Constant(0)

// Ones fills with 1; layer-norm gains start here.
var Ones = Constant(1)

// InitNames lists the weight initialisers a config may name.
var InitNames = []string{"xavier_uniform", "xavier_normal", "normal"}

// InitByName returns the weight initialiser a config names: "xavier_uniform"
// (the default), "xavier_normal", or "normal" (std 0.02, as in BERT/GPT).
func InitByName(name string) (Initializer, error) {
	switch name {
	case "", "xavier_uniform":
		return XavierUniform(1), nil
	case "xavier_normal":
		return XavierNormal(1), nil
	case "normal":
		return Normal(0.02), nil
	}
	return nil, fmt.Errorf("unknown initialiser %q (want one of %v)", name, InitNames)
}
