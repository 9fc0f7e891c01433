package rundir

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/runlog"
)

// Upper bounds of the training, data and decoding sections' sizes (the
// model section's are in package model). The memory estimate
// (Config.MemoryProblems) then decides what this machine can hold.
const (
	MaxSteps        = runlog.MaxStep
	MaxBatchTokens  = 1 << 20
	MaxBucketWidth  = 1 << 12
	MaxSeqTokens    = 1 << 16 // data.max_len: tokens per side of a training pair
	MaxMerges       = 1 << 20 // BPE merges per tokenizer
	MaxDecodeBatch  = 1 << 14 // decoding.batch_size
	MaxKeep         = 1000    // keep_checkpoints, keep_best
	MaxAccumulate   = 1024    // accumulate (micro-batches per update)
	MaxProcesses    = 1 << 20 // data-parallel processes of a run
	MaxLenFactor    = 1000.0  // decoding.max_len_a
	maxEveryAndWarm = MaxSteps
)

// nonFinite returns one problem for every float in the config that is NaN
// or infinite, named by its dotted YAML key. Every range check below is
// written to fail on NaN too; this gives the clearer message first.
func (c *Config) nonFinite() []error {
	var out []error
	nonFiniteFloats(reflect.ValueOf(*c), "", func(key string, f float64) {
		out = append(out, c.fieldError(key, "must be a finite number, got %g", f))
	})
	return out
}

// nonFiniteFloats calls visit for every float in v (a config struct, with
// its pointers, slices and maps) that is NaN or infinite, with its dotted
// YAML key.
func nonFiniteFloats(v reflect.Value, key string, visit func(key string, f float64)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			nonFiniteFloats(v.Elem(), key, visit)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if name == "-" || !t.Field(i).IsExported() {
				continue
			}
			if name == "" {
				name = strings.ToLower(t.Field(i).Name)
			}
			if key != "" {
				name = key + "." + name
			}
			nonFiniteFloats(v.Field(i), name, visit)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			nonFiniteFloats(v.Index(i), key, visit)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			nonFiniteFloats(it.Value(), key+"."+fmt.Sprint(it.Key()), visit)
		}
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			visit(key, f)
		}
	}
}

// secondDocument reports a YAML stream with more than one document: a
// config is one document, and yaml.v3 would silently ignore the rest.
func secondDocument(path string, raw []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		return nil // reported by the decoders
	}
	err := dec.Decode(&n)
	if errors.Is(err, io.EOF) {
		return nil
	}
	line := n.Line
	if err != nil {
		return yamlError(path, err, 0)
	}
	return &ConfigError{Path: path, Line: line, Msg: "a second YAML document (after ---): a config is one document"}
}

// rangeProblems checks the sizes of the training, data and decoding
// sections against their upper bounds.
func (c *Config) rangeProblems() []error {
	var out []error
	for _, r := range []struct {
		key   string
		v     int
		limit int
	}{
		{"training.steps", c.Training.Steps, MaxSteps},
		{"training.batch_tokens", c.Training.BatchTokens, MaxBatchTokens},
		{"training.bucket_width", c.Training.BucketWidth, MaxBucketWidth},
		{"training.warmup", c.Training.Warmup, maxEveryAndWarm},
		{"training.valid_every", c.Training.ValidEvery, maxEveryAndWarm},
		{"training.log_every", c.Training.LogEvery, maxEveryAndWarm},
		{"training.save_every", c.Training.SaveEvery, maxEveryAndWarm},
		{"training.keep_checkpoints", c.Training.KeepCheckpoints, MaxKeep},
		{"training.keep_best", c.Training.KeepBest, MaxKeep},
		{"training.accumulate", c.Training.Accumulate, MaxAccumulate},
		{"data.max_len", c.Data.MaxLen, MaxSeqTokens},
		{"data.src_tokenizer.merges", c.Data.SrcTokenizer.Merges, MaxMerges},
		{"data.tgt_tokenizer.merges", c.Data.TgtTokenizer.Merges, MaxMerges},
		{"decoding.batch_size", c.Decoding.BatchSize, MaxDecodeBatch},
		{"decoding.max_len", c.Decoding.MaxLen, model.MaxDecodeLen},
		{"decoding.max_len_b", c.Decoding.MaxLenB, model.MaxDecodeLen},
		{"decoding.beam", c.Decoding.Beam, model.MaxBeam},
	} {
		if r.v > r.limit {
			out = append(out, c.fieldError(r.key, "must be at most %d, got %d", r.limit, r.v))
		}
	}
	if c.Decoding.MaxLenA > MaxLenFactor {
		out = append(out, c.fieldError("decoding.max_len_a", "must be at most %g, got %g", MaxLenFactor, c.Decoding.MaxLenA))
	}
	if c.Training.MaxTime > 0 && c.Training.MaxTime.Hours() > 24*366 {
		out = append(out, c.fieldError("training.max_time", "must be at most a year, got %v", c.Training.MaxTime))
	}
	return out
}

// scalarProblems finds what yaml.v3 would decode silently into something
// else: a float for an integer key (20.7 would become 20), a null value
// (~ would leave the default) and a null key. root is the parsed document
// and t the struct type it decodes into.
func scalarProblems(path string, root *yaml.Node) []error {
	if root == nil || len(root.Content) == 0 {
		return nil
	}
	var out []error
	var walk func(n *yaml.Node, t reflect.Type, key string)
	walk = func(n *yaml.Node, t reflect.Type, key string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		switch {
		case n.Kind == yaml.ScalarNode && n.Tag == "!!null" && key != "" && key != "data.generate":
			// data.generate: null says "no generator", as leaving it out
			// does; run directories written before 2026-12-02 hold it.
			out = append(out, &ConfigError{Path: path, Line: n.Line, Field: key, Msg: "null is not a value: give one, or leave the key out for its default"})
		case n.Kind == yaml.ScalarNode && n.Tag == "!!float" && t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
			out = append(out, &ConfigError{Path: path, Line: n.Line, Field: key, Msg: fmt.Sprintf("wrong type: %q is a float, want an integer", n.Value)})
		case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Tag == "!!null" {
					out = append(out, &ConfigError{Path: path, Line: k.Line, Field: key, Msg: "a null key"})
					continue
				}
				if f, ok := fieldByTag(t, k.Value); ok {
					walk(v, f.Type, strings.TrimPrefix(key+"."+k.Value, "."))
				}
			}
		case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
			for _, e := range n.Content {
				walk(e, t.Elem(), key)
			}
		}
	}
	walk(root.Content[0], reflect.TypeOf(Config{}), "")
	return out
}

// fieldByTag finds the field of struct type t whose yaml name is name.
func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" {
			tag = strings.ToLower(f.Name)
		}
		if tag == name && tag != "-" {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
