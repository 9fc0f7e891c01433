package model

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/nlpodyssey/safetensors"
	"gorgonia.org/tensor"
)

// EncodeSafetensors serialises named float32/float64 tensors in the
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

// DecodeSafetensors parses a safetensors file holding F32 or F64 tensors.
func DecodeSafetensors(b []byte) (map[string]*tensor.Dense, map[string]string, error) {
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
		shape := make([]int, len(v.Shape()))
		for i, s := range v.Shape() {
			shape[i] = int(s)
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
		default:
			return nil, nil, fmt.Errorf("tensor %q has dtype %v; only F32 and F64 are supported", nv.Name, v.DType())
		}
	}
	return out, md.Metadata(), nil
}

// WriteFileAtomic writes data to a temporary file beside path, syncs it and
// renames it over path, so that path always holds either the old or the
// new content in full. The file gets mode 0644, like the files around it
// (a temporary file starts as 0600).
func WriteFileAtomic(path string, data []byte) error {
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
