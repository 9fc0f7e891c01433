package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/nlpodyssey/safetensors"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/half"
	"github.com/gotransformer/transformer/safeio"
)

// EncodeSafetensors serialises named float32, float64, float16 and bfloat16 tensors in the
// safetensors format (little-endian data after a JSON header), readable by
// PyTorch's safetensors.torch.load_file and by NumPy.
func EncodeSafetensors(tensors map[string]*tensor.Dense, meta map[string]string) ([]byte, error) {
	views := make(map[string]safetensors.TensorView, len(tensors))
	for name, t := range tensors {
		var dt safetensors.DType
		var raw []byte
		switch d := t.Data().(type) {
		case []float32:
			dt = safetensors.F32
			raw = make([]byte, 0, 4*len(d))
			for _, v := range d {
				raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
			}
		case []float64:
			dt = safetensors.F64
			raw = make([]byte, 0, 8*len(d))
			for _, v := range d {
				raw = binary.LittleEndian.AppendUint64(raw, math.Float64bits(v))
			}
		case []half.Float16, []half.BFloat16:
			f, bits := graph.HalfBits(t)
			dt = safetensors.F16
			if f == half.BF16 {
				dt = safetensors.BF16
			}
			raw = make([]byte, 0, 2*len(bits))
			for _, v := range bits {
				raw = binary.LittleEndian.AppendUint16(raw, v)
			}
		default:
			return nil, fmt.Errorf("tensor %q: unsupported dtype %v", name, t.Dtype())
		}
		shape := make([]uint64, len(t.Shape()))
		for i, s := range t.Shape() {
			shape[i] = uint64(s)
		}
		v, err := safetensors.NewTensorView(dt, shape, raw)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		views[name] = v
	}
	var buf bytes.Buffer
	if err := safetensors.SerializeToWriter(views, meta, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DecodeSafetensors parses a safetensors file holding F16, BF16, F32 or F64
// tensors (F16 and BF16 as tensors of half.Float16 and half.BFloat16) of
// at least one dimension and one element. The buffer is checked whole by
// CheckSafetensors first, so that no size it declares is trusted.
func DecodeSafetensors(b []byte) (map[string]*tensor.Dense, map[string]string, error) {
	if err := CheckSafetensors(b); err != nil {
		return nil, nil, err
	}
	st, err := safetensors.Deserialize(b)
	if err != nil {
		return nil, nil, err
	}
	_, md, err := safetensors.ReadMetadata(b)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]*tensor.Dense{}
	for _, nv := range st.Tensors() {
		v := nv.TensorView
		switch v.DType() {
		case safetensors.F16, safetensors.BF16, safetensors.F32, safetensors.F64:
		default:
			return nil, nil, fmt.Errorf("tensor %q has dtype %v; only F16, BF16, F32 and F64 are supported", nv.Name, v.DType())
		}
		shape := make([]int, len(v.Shape()))
		for i, s := range v.Shape() {
			shape[i] = int(s) // CheckSafetensors bounds every dimension by math.MaxInt
			if s == 0 {
				return nil, nil, fmt.Errorf("tensor %q has shape %v with no elements; only non-empty tensors are supported", nv.Name, v.Shape())
			}
		}
		if len(shape) == 0 {
			return nil, nil, fmt.Errorf("tensor %q is a scalar (shape []); only tensors of at least one dimension are supported", nv.Name)
		}
		raw := v.Data()
		switch v.DType() {
		case safetensors.F32:
			d := make([]float32, len(raw)/4)
			for i := range d {
				d[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
			out[nv.Name] = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
		case safetensors.F64:
			d := make([]float64, len(raw)/8)
			for i := range d {
				d[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
			}
			out[nv.Name] = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
		case safetensors.F16:
			d := make([]half.Float16, len(raw)/2)
			for i := range d {
				d[i] = half.Float16(binary.LittleEndian.Uint16(raw[2*i:]))
			}
			out[nv.Name] = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
		case safetensors.BF16:
			d := make([]half.BFloat16, len(raw)/2)
			for i := range d {
				d[i] = half.BFloat16(binary.LittleEndian.Uint16(raw[2*i:]))
			}
			out[nv.Name] = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
		}
	}
	return out, md.Metadata(), nil
}

// safetensorsDTypeSizes are the bytes per element of the dtypes
// CheckSafetensors and DecodeSafetensors accept.
var safetensorsDTypeSizes = map[string]uint64{"F16": 2, "BF16": 2, "F32": 4, "F64": 8}

// CheckSafetensors validates a whole safetensors buffer before anything
// proportional to the sizes it declares is allocated: the 8-byte header
// length (at most safeio.HeaderLimit, and within the buffer), a JSON
// object header whose "__metadata__" maps strings to strings, and for
// every tensor a known dtype (F16, BF16, F32, F64), a shape of
// non-negative dimensions whose element and byte counts fit in an int,
// and data_offsets [begin, end] inside the data section with end-begin
// equal to the tensor's byte count. Errors are one line and name the
// tensor.
func CheckSafetensors(b []byte) error {
	if len(b) < 8 {
		return fmt.Errorf("%d bytes is too short for a safetensors file (the header length alone takes 8)", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > safeio.HeaderLimit {
		return fmt.Errorf("header length %d is larger than the limit of %s", n, safeio.Size(safeio.HeaderLimit))
	}
	if n > uint64(len(b)-8) {
		return fmt.Errorf("header length %d runs past the end of the %d-byte file", n, len(b))
	}
	dataLen := uint64(len(b)-8) - n
	header := b[8 : 8+n]
	if !isJSONObject(header) {
		return fmt.Errorf("header is not a JSON object")
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(header, &entries); err != nil {
		return fmt.Errorf("header is not valid JSON: %s", oneLine(err))
	}
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		raw := entries[name]
		if name == "__metadata__" {
			var md map[string]string
			if !isJSONObject(raw) || json.Unmarshal(raw, &md) != nil {
				return fmt.Errorf("__metadata__ must map strings to strings")
			}
			continue
		}
		if err := checkTensorEntry(raw, dataLen); err != nil {
			return fmt.Errorf("tensor %q: %w", name, err)
		}
	}
	return nil
}

// checkTensorEntry validates one tensor's header entry against a data
// section of dataLen bytes.
func checkTensorEntry(raw json.RawMessage, dataLen uint64) error {
	if !isJSONObject(raw) {
		return fmt.Errorf("entry is not a JSON object")
	}
	var e map[string]json.RawMessage
	if err := json.Unmarshal(raw, &e); err != nil {
		return fmt.Errorf("entry is not valid JSON: %s", oneLine(err))
	}
	for k := range e {
		if k != "dtype" && k != "shape" && k != "data_offsets" {
			return fmt.Errorf("unknown key %q (want dtype, shape and data_offsets)", k)
		}
	}
	var dtype string
	if r, ok := e["dtype"]; !ok {
		return fmt.Errorf(`missing "dtype"`)
	} else if json.Unmarshal(r, &dtype) != nil {
		return fmt.Errorf(`"dtype" is not a string`)
	}
	size, ok := safetensorsDTypeSizes[dtype]
	if !ok {
		return fmt.Errorf("dtype %q is not supported (want F16, BF16, F32 or F64)", dtype)
	}
	r, ok := e["shape"]
	if !ok {
		return fmt.Errorf(`missing "shape"`)
	}
	shape, err := naturals(r, "shape")
	if err != nil {
		return err
	}
	count, overflow := uint64(1), false
	for _, d := range shape {
		hi, lo := bits.Mul64(count, d)
		overflow = overflow || d > math.MaxInt || hi != 0 || lo > math.MaxInt
		count = lo
	}
	hi, nbytes := bits.Mul64(count, size)
	if overflow || hi != 0 || nbytes > math.MaxInt {
		return fmt.Errorf("shape %v overflows", shape)
	}
	r, ok = e["data_offsets"]
	if !ok {
		return fmt.Errorf(`missing "data_offsets"`)
	}
	off, err := naturals(r, "data_offsets")
	if err != nil {
		return err
	}
	if len(off) != 2 {
		return fmt.Errorf("data_offsets has %d numbers, want [begin, end]", len(off))
	}
	switch {
	case off[0] > off[1]:
		return fmt.Errorf("data_offsets [%d, %d] begin after they end", off[0], off[1])
	case off[1] > dataLen:
		return fmt.Errorf("data_offsets [%d, %d] run past the end of the %d-byte data section", off[0], off[1], dataLen)
	case off[1]-off[0] != nbytes:
		return fmt.Errorf("data_offsets [%d, %d] hold %d bytes, but %s of shape %v takes %d", off[0], off[1], off[1]-off[0], dtype, shape, nbytes)
	}
	return nil
}

// naturals parses a JSON array of non-negative integers (any size up to
// 2^64-1), naming field in errors.
func naturals(raw json.RawMessage, field string) ([]uint64, error) {
	var nums []json.Number
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '[' || json.Unmarshal(raw, &nums) != nil {
		return nil, fmt.Errorf("%s is not an array of numbers", field)
	}
	out := make([]uint64, len(nums))
	for i, n := range nums {
		v, err := strconv.ParseUint(n.String(), 10, 64)
		if err != nil {
			if strings.HasPrefix(n.String(), "-") {
				return nil, fmt.Errorf("%s has the negative number %s", field, n)
			}
			return nil, fmt.Errorf("%s has %s, not an integer in [0, 2^64)", field, n)
		}
		out[i] = v
	}
	return out, nil
}

// isJSONObject reports whether raw starts, after white space, with '{'
// (json.Unmarshal takes null for an empty map).
func isJSONObject(raw []byte) bool {
	t := bytes.TrimLeft(raw, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

// oneLine flattens an error message onto one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// ReadSafetensorsFile reads a safetensors file of at most limit bytes
// (see WeightsLimit) after checking that it is a regular file, so that a
// sparse huge file or a device is refused before a byte is read. Its
// content is checked by DecodeSafetensors.
func ReadSafetensorsFile(path string, limit int64) ([]byte, error) {
	return safeio.ReadFile(path, limit, "safetensors file")
}

// WeightsLimit is the largest safetensors file worth reading for
// numElements parameters of at most bytesPerElement bytes each: their
// bytes plus safeio.HeaderLimit for the JSON header. It saturates at
// math.MaxInt64 instead of overflowing.
func WeightsLimit(numElements int, bytesPerElement int) int64 {
	if numElements < 0 || bytesPerElement < 0 {
		return safeio.HeaderLimit
	}
	hi, lo := bits.Mul64(uint64(numElements), uint64(bytesPerElement))
	if hi != 0 || lo > math.MaxInt64-safeio.HeaderLimit {
		return math.MaxInt64
	}
	return int64(lo) + safeio.HeaderLimit
}

// WriteFileAtomic writes data to a temporary file beside path, syncs it and
// renames it over path, so that path always holds either the old or the
// new content in full. The file gets mode 0644, like the files around it
// (a temporary file starts as 0600).
//
// A path that is a symbolic link is written through to its target; a path
// that exists but is not a regular file (a device such as /dev/full or
// /dev/null, a FIFO, a directory) is refused, since renaming over it would
// replace it.
func WriteFileAtomic(path string, data []byte) error {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		path = p
	}
	if st, err := os.Lstat(path); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file, refusing to replace it", path)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := writeSync(f, path, data); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// WriteFileSynced writes data to path and syncs it to disk before
// returning (it is not atomic on its own: write into a temporary directory
// and rename it, or use WriteFileAtomic).
func WriteFileSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	return writeSync(f, path, data)
}

// writeSync writes, syncs and closes f; errors name path.
func writeSync(f *os.File, path string, data []byte) error {
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
