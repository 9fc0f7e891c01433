package model

import (
	"testing"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
)

// FuzzReadWeights: any bytes either load into a store or give an error;
// never a panic.
func FuzzReadWeights(f *testing.F) {
	s := graph.NewStore(tensor.Float32, 1)
	s.Add("a.weight", nil, 2, 3)
	s.Add("a.bias", graph.Zeros, 3)
	good, err := EncodeSafetensors(map[string]*tensor.Dense{"a.weight": s.Get("a.weight"), "a.bias": s.Get("a.bias")}, map[string]string{"k": "v"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '})
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		vals, _, err := DecodeSafetensors(b)
		if err != nil {
			return
		}
		_ = s.Load(vals)
	})
}
