package model

import (
	"fmt"
	"sort"
	"strings"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/graph"
)

// This file is the one place that maps parameter names and layouts between
// this project and PyTorch. The PyTorch side is the module documented in
// docs/pytorch.md: nn.Transformer plus src_embed, tgt_embed and
// output_projection. Differences:
//
//   - Linear weights are stored [in, out] here and [out, in] in PyTorch.
//   - Attention keeps separate q_proj, k_proj, v_proj here; PyTorch packs them
//     into in_proj_weight [3d, d] and in_proj_bias [3d] (rows q, k, v).
//   - The stacks are "encoder"/"decoder" here, "transformer.encoder"/
//     "transformer.decoder" in the module.
//   - Shared embeddings ("shared_embed") appear as both src_embed and
//     tgt_embed, and a tied output projection as output_projection.weight
//     equal to tgt_embed.weight, since PyTorch's state dict lists every
//     name of a shared tensor.

// torchSlot says where one of our tensors lives in a PyTorch state dict:
// key, which third of a packed in_proj tensor (-1: all of it), and whether
// the matrix is transposed.
type torchSlot struct {
	key       string
	part      int
	transpose bool
}

func torchSlotOf(name string, rename func(string) string) torchSlot {
	for i, p := range []string{".q_proj.", ".k_proj.", ".v_proj."} {
		if j := strings.Index(name, p); j >= 0 {
			base := name[:j]
			if strings.HasSuffix(name, ".weight") {
				return torchSlot{rename(base + ".in_proj_weight"), i, true}
			}
			return torchSlot{rename(base + ".in_proj_bias"), i, false}
		}
	}
	embedding := strings.HasSuffix(name, "_embed.weight") || strings.HasSuffix(name, "_pos.weight")
	linear := strings.HasSuffix(name, ".weight") && !embedding && !strings.Contains(name, "norm")
	return torchSlot{rename(name), -1, linear}
}

// ExportTorch returns the store's parameters under PyTorch names and
// layouts. rename maps our names before the layer-level rules apply (nil:
// identity).
func ExportTorch(s *graph.Store, rename func(string) string) (map[string]*tensor.Dense, error) {
	if rename == nil {
		rename = func(n string) string { return n }
	}
	out := map[string]*tensor.Dense{}
	packed := map[string][]*tensor.Dense{}
	for _, name := range s.Names() {
		t := s.Get(name)
		slot := torchSlotOf(name, rename)
		if slot.transpose {
			t = transposed(t)
		}
		if slot.part < 0 {
			out[slot.key] = t
			continue
		}
		if packed[slot.key] == nil {
			packed[slot.key] = make([]*tensor.Dense, 3)
		}
		packed[slot.key][slot.part] = t
	}
	for key, parts := range packed {
		for i, p := range parts {
			if p == nil {
				return nil, fmt.Errorf("%s: part %d of 3 is missing", key, i)
			}
		}
		out[key] = concatRows(parts)
	}
	return out, nil
}

// ImportTorch sets every parameter of the store from a PyTorch state dict
// (values are converted to the store's dtype). Every parameter must be
// found with the right shape, and every key of sd must be used, except the
// keys listed in allowExtra.
func ImportTorch(s *graph.Store, sd map[string]*tensor.Dense, rename func(string) string, allowExtra ...string) error {
	if rename == nil {
		rename = func(n string) string { return n }
	}
	used := map[string]bool{}
	for _, k := range allowExtra {
		used[k] = true
	}
	vals := map[string]*tensor.Dense{}
	for _, name := range s.Names() {
		want := s.Get(name).Shape()
		slot := torchSlotOf(name, rename)
		t, ok := sd[slot.key]
		if !ok {
			return fmt.Errorf("state dict has no %q (for %s)", slot.key, name)
		}
		used[slot.key] = true
		if slot.part >= 0 {
			if t.Shape()[0]%3 != 0 {
				return fmt.Errorf("%q has shape %v; a packed in_proj needs 3·d rows", slot.key, t.Shape())
			}
			t = rowsPart(t, slot.part)
		}
		if slot.transpose {
			if t.Dims() != 2 {
				return fmt.Errorf("%q has shape %v, want a matrix", slot.key, t.Shape())
			}
			t = transposed(t)
		}
		if !t.Shape().Eq(want) {
			return fmt.Errorf("%q gives %s the shape %v, want %v", slot.key, name, t.Shape(), want)
		}
		vals[name] = t
	}
	var extra []string
	for k := range sd {
		if !used[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("state dict has %d unexpected keys, first %q", len(extra), extra[0])
	}
	return s.Load(vals)
}

// torchRename maps the model's top-level names to the documented module's.
func torchRename(n string) string {
	for _, p := range []string{"encoder.", "decoder."} {
		if strings.HasPrefix(n, p) {
			return "transformer." + n
		}
	}
	return n
}

// TorchState returns the model's weights as the state dict of the PyTorch
// module in docs/pytorch.md, ready for load_state_dict(strict=True).
func (m *Transformer) TorchState() (map[string]*tensor.Dense, error) {
	sd, err := ExportTorch(m.Store, torchRename)
	if err != nil {
		return nil, err
	}
	if t, ok := sd["shared_embed.weight"]; ok {
		delete(sd, "shared_embed.weight")
		sd["src_embed.weight"], sd["tgt_embed.weight"] = t, t
	}
	if m.Config.TieOutput {
		sd["output_projection.weight"] = sd["tgt_embed.weight"]
	}
	return sd, nil
}

// LoadTorchState sets the model's weights from a state dict of the module
// in docs/pytorch.md. With shared or tied embeddings, the aliased entries
// must hold the same values.
func (m *Transformer) LoadTorchState(sd map[string]*tensor.Dense) error {
	in := map[string]*tensor.Dense{}
	for k, v := range sd {
		in[k] = v
	}
	var extra []string
	if m.Config.ShareEmbeddings {
		src, tgt := in["src_embed.weight"], in["tgt_embed.weight"]
		if src == nil || tgt == nil || !sameValues(src, tgt) {
			return fmt.Errorf("shared embeddings: src_embed.weight and tgt_embed.weight must both be present and equal")
		}
		delete(in, "src_embed.weight")
		in["shared_embed.weight"] = tgt
	}
	if m.Config.TieOutput {
		emb, out := in["tgt_embed.weight"], in["output_projection.weight"]
		if m.Config.ShareEmbeddings {
			emb = in["shared_embed.weight"]
		}
		if out != nil {
			if emb == nil || !sameValues(emb, out) {
				return fmt.Errorf("tied output: output_projection.weight differs from the target embedding")
			}
			extra = append(extra, "output_projection.weight")
		}
	}
	if m.Config.ShareEmbeddings {
		delete(in, "tgt_embed.weight")
	}
	return ImportTorch(m.Store, in, torchRename, extra...)
}

func sameValues(a, b *tensor.Dense) bool {
	if !a.Shape().Eq(b.Shape()) {
		return false
	}
	x, y := graph.Float64s(a), graph.Float64s(b)
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

func transposed(t *tensor.Dense) *tensor.Dense {
	s := t.Shape()
	if len(s) != 2 {
		return t
	}
	r, c := s[0], s[1]
	v := graph.Float64s(t)
	o := make([]float64, len(v))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			o[j*r+i] = v[i*c+j]
		}
	}
	return graph.FromFloat64s(t.Dtype(), o, c, r)
}

// concatRows stacks tensors of equal trailing shape along axis 0.
func concatRows(parts []*tensor.Dense) *tensor.Dense {
	var v []float64
	rows := 0
	for _, p := range parts {
		v = append(v, graph.Float64s(p)...)
		rows += p.Shape()[0]
	}
	shape := append([]int{rows}, parts[0].Shape()[1:]...)
	return graph.FromFloat64s(parts[0].Dtype(), v, shape...)
}

// rowsPart returns third i of t along axis 0.
func rowsPart(t *tensor.Dense, i int) *tensor.Dense {
	s := t.Shape()
	n := s[0] / 3
	per := t.Shape().TotalSize() / s[0]
	v := graph.Float64s(t)[i*n*per : (i+1)*n*per]
	shape := append([]int{n}, s[1:]...)
	return graph.FromFloat64s(t.Dtype(), append([]float64(nil), v...), shape...)
}
