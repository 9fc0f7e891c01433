package model

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/half"
	"github.com/gotransformer/transformer/safeio"
)

// stFile builds a safetensors buffer from a header and a data section.
func stFile(header string, data int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, make([]byte, data)...)
}

func TestCheckSafetensors(t *testing.T) {
	huge := binary.LittleEndian.AppendUint64(nil, 1<<40)
	past := binary.LittleEndian.AppendUint64(nil, 100)
	past = append(past, "{}"...)
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"truncated", []byte{1, 2, 3}, "too short"},
		{"header length huge", huge, "larger than the limit"},
		{"header length past the end", past, "runs past the end"},
		{"not JSON", stFile(`{"a":`, 0), "not valid JSON"},
		{"not an object", stFile(`null`, 0), "not a JSON object"},
		{"entry not an object", stFile(`{"x":null}`, 0), `tensor "x": entry is not a JSON object`},
		{"unknown dtype", stFile(`{"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, 8), `tensor "x": dtype "I64" is not supported`},
		{"missing dtype", stFile(`{"x":{"shape":[1],"data_offsets":[0,4]}}`, 4), `missing "dtype"`},
		{"unknown key", stFile(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"y":1}}`, 4), `unknown key "y"`},
		{"negative dim", stFile(`{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), `tensor "x": shape has the negative number -1`},
		{"fractional dim", stFile(`{"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, 4), `shape has 1.5`},
		{"dim 2^63 with a 0 dim", stFile(`{"x":{"dtype":"F32","shape":[9223372036854775808,0],"data_offsets":[0,0]}}`, 0),
			`tensor "x": shape [9223372036854775808 0] overflows`},
		{"product overflow", stFile(`{"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, 0), "overflows"},
		{"bytes overflow", stFile(`{"x":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}}`, 0), "overflows"},
		{"offsets past the end", stFile(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4), "run past the end"},
		{"begin > end", stFile(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}`, 8), "begin after they end"},
		{"size mismatch", stFile(`{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 8), "hold 8 bytes, but F32 of shape [3] takes 12"},
		{"three offsets", stFile(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}}`, 4), "want [begin, end]"},
		{"metadata not strings", stFile(`{"__metadata__":{"a":1}}`, 0), "__metadata__ must map strings to strings"},
	}
	for _, c := range cases {
		err := CheckSafetensors(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line with %q", c.name, err, c.want)
		}
		if _, _, err := DecodeSafetensors(c.b); err == nil {
			t.Errorf("%s: DecodeSafetensors accepted it", c.name)
		}
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	in := map[string]*tensor.Dense{
		"a": tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6})),
		"b": tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{-1, 0.5})),
	}
	b, err := EncodeSafetensors(in, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckSafetensors(b); err != nil {
		t.Fatal(err)
	}
	out, meta, err := DecodeSafetensors(b)
	if err != nil {
		t.Fatal(err)
	}
	if meta["k"] != "v" || len(out) != 2 || !out["a"].Shape().Eq(in["a"].Shape()) || out["b"].Data().([]float64)[1] != 0.5 {
		t.Errorf("round trip gave %v %v", out, meta)
	}
}

// F16 and BF16 tensors keep their bits through a file, and decode as
// half.Float16 and half.BFloat16.
func TestSafetensorsHalfRoundTrip(t *testing.T) {
	in := map[string]*tensor.Dense{
		"h":  tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]half.Float16{0x3c00, 0x7bff, 0x8001, 0x7e00})),
		"bf": tensor.New(tensor.WithShape(3), tensor.WithBacking([]half.BFloat16{0x3f80, 0xff80, 0x0001})),
	}
	b, err := EncodeSafetensors(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"dtype":"F16"`)) || !bytes.Contains(b, []byte(`"dtype":"BF16"`)) {
		t.Errorf("header %q", b[8:8+binary.LittleEndian.Uint64(b)])
	}
	out, _, err := DecodeSafetensors(b)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range in {
		if !reflect.DeepEqual(out[k].Data(), v.Data()) || !out[k].Shape().Eq(v.Shape()) {
			t.Errorf("%s: %v %v, want %v %v", k, out[k].Shape(), out[k].Data(), v.Shape(), v.Data())
		}
	}
}

func TestDecodeSafetensorsRefusesWhatItCannotHold(t *testing.T) {
	for want, b := range map[string][]byte{
		`"x" is a scalar`: stFile(`{"x":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, 4),
		"no elements":     stFile(`{"x":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, 0),
	} {
		if err := CheckSafetensors(b); err != nil {
			t.Errorf("%s: check refused a valid file: %v", want, err)
		}
		if _, _, err := DecodeSafetensors(b); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
}

func TestReadSafetensorsFileLimits(t *testing.T) {
	p := filepath.Join(t.TempDir(), "w.safetensors")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(50 << 30); err != nil { // sparse: takes no disk
		f.Close()
		t.Skip(err)
	}
	f.Close()
	if _, err := ReadSafetensorsFile(p, WeightsLimit(1000, 8)); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "larger than its limit") {
		t.Errorf("sparse 50 GiB file: %v", err)
	}
	if _, err := ReadSafetensorsFile(t.TempDir(), 1<<20); err == nil {
		t.Error("read a directory")
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := ReadSafetensorsFile("/dev/zero", 1<<20); err == nil {
			t.Error("read /dev/zero")
		}
	}
	if got := WeightsLimit(10, 8); got != 80+safeio.HeaderLimit {
		t.Errorf("WeightsLimit(10, 8) = %d", got)
	}
	if got := WeightsLimit(1<<62, 8); got != 1<<63-1 {
		t.Errorf("WeightsLimit saturates at MaxInt64, got %d", got)
	}
}
