package model

import (
	"testing"

	"gorgonia.org/tensor"
)

// FuzzSafetensorsHeader: DecodeSafetensors never panics on any bytes, and
// whatever it accepts passes CheckSafetensors and re-encodes into a file
// that decodes to the same tensors.
func FuzzSafetensorsHeader(f *testing.F) {
	good, err := EncodeSafetensors(map[string]*tensor.Dense{
		"w": tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{1, 2, 3, 4})),
		"b": tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{5})),
	}, map[string]string{"format": "pt"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:9])
	f.Add(stFile(`{"x":{"dtype":"F32","shape":[9223372036854775808,0],"data_offsets":[0,0]}}`, 0))
	f.Add(stFile(`{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4))
	f.Add(stFile(`{"x":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, 4))
	f.Add(stFile(`{"__metadata__":{"a":"b"},"x":{"dtype":"F64","shape":[1,1],"data_offsets":[0,8]}}`, 8))
	f.Add(stFile(`{"x":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}`, 4))
	f.Fuzz(func(t *testing.T, b []byte) {
		vals, meta, err := DecodeSafetensors(b)
		if err != nil {
			return
		}
		if err := CheckSafetensors(b); err != nil {
			t.Fatalf("decoded a buffer the check refuses: %v", err)
		}
		again, err := EncodeSafetensors(vals, meta)
		if err != nil {
			t.Fatalf("accepted tensors do not re-encode: %v", err)
		}
		back, _, err := DecodeSafetensors(again)
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
		if len(back) != len(vals) {
			t.Fatalf("%d tensors, re-encoded %d", len(vals), len(back))
		}
		for k, v := range vals {
			if w := back[k]; w == nil || !w.Shape().Eq(v.Shape()) || w.Dtype() != v.Dtype() {
				t.Fatalf("tensor %q changed in the round trip", k)
			}
		}
	})
}
