package model

import (
	"fmt"
	"strings"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/layers"
)

// Transformer is the encoder-decoder model: source and target embeddings
// scaled by √d with positions added, the encoder and decoder stacks, and the
// output projection to target-vocabulary scores. Its weights live in Store.
type Transformer struct {
	Config             Config
	Store              *graph.Store
	SrcEmbed, TgtEmbed layers.Embedding
	SrcPos, TgtPos     layers.PositionalEncoding
	Encoder            Encoder
	Decoder            Decoder
	// Output projects to the target vocabulary unless Config.TieOutput is
	// set; then the target embedding is used with the bias OutputBias.
	Output     layers.Linear
	OutputBias string
}

// New describes the model of c and creates its parameters, in dtype dt
// (tensor.Float32 for training, tensor.Float64 for gradient checks),
// initialised from seed.
func New(c Config, dt tensor.Dtype, seed int64) (*Transformer, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.SrcVocab <= 0 || c.TgtVocab <= 0 {
		return nil, fmt.Errorf("model: vocabulary sizes must be positive (source %d, target %d)", c.SrcVocab, c.TgtVocab)
	}
	init, _ := graph.InitByName(c.Init)
	store := graph.NewStore(dt, seed)
	store.WeightInit = init
	m := &Transformer{Config: c, Store: store,
		SrcEmbed:   layers.Embedding{Name: "src_embed", Vocab: c.SrcVocab, DModel: c.DModel},
		TgtEmbed:   layers.Embedding{Name: "tgt_embed", Vocab: c.TgtVocab, DModel: c.DModel},
		Encoder:    NewEncoder("encoder", c),
		Decoder:    NewDecoder("decoder", c),
		Output:     layers.Linear{Name: "output_projection", In: c.DModel, Out: c.TgtVocab},
		OutputBias: "output_projection.bias",
	}
	if c.ShareEmbeddings {
		m.SrcEmbed.Name, m.TgtEmbed.Name = "shared_embed", "shared_embed"
	}
	m.SrcPos = c.stackPositions("encoder", "src_pos")
	m.TgtPos = c.stackPositions("decoder", "tgt_pos")
	// Build a one-token graph once so that every parameter exists, in a
	// fixed order, before training or loading.
	err := graph.Build(func() {
		b := graph.NewBuilder(store, false)
		m.Forward(b, m.NewInputs(b, 1, 1, 1))
	})
	if err != nil {
		return nil, err
	}
	allowHalf(m)
	return m, nil
}

// Inputs are the input nodes of one graph shape: token ids, additive
// attention masks (see graph.AttentionMask) and key paddings (see
// graph.KeyPadding). SrcMask and TgtMask exist only for stacks whose
// self-attention forms the n×n weights (layers.AttentionSpec.NeedsMask),
// which alone needs an n×n mask. Memory is set only in
// decoder-only graphs.
type Inputs struct {
	Batch, SrcLen, TgtLen       int
	Src, Tgt                    *G.Node
	SrcMask, TgtMask, CrossMask *G.Node
	SrcPad, TgtPad              *G.Node
	Memory                      *G.Node
}

// NewInputs adds the inputs of a batch of the given shape to b.
func (m *Transformer) NewInputs(b *graph.Builder, batch, srcLen, tgtLen int) *Inputs {
	in := &Inputs{Batch: batch, SrcLen: srcLen, TgtLen: tgtLen,
		Src:       b.IntInput("src", batch*srcLen),
		Tgt:       b.IntInput("tgt", batch*tgtLen),
		SrcPad:    b.Input("src_pad", batch, srcLen),
		TgtPad:    b.Input("tgt_pad", batch, tgtLen),
		CrossMask: b.Input("cross_mask", batch, 1, tgtLen, srcLen),
	}
	if m.Config.Encoder.Attention.Spec(false).NeedsMask(b) {
		in.SrcMask = b.Input("src_mask", batch, 1, srcLen, srcLen)
	}
	if m.Config.Decoder.Attention.Spec(true).NeedsMask(b) {
		in.TgtMask = b.Input("tgt_mask", batch, 1, tgtLen, tgtLen)
	}
	return in
}

// NewDecoderInputs adds the inputs of a decoder-only graph, whose encoder
// output arrives as the input Memory [batch·srcLen, d].
func (m *Transformer) NewDecoderInputs(b *graph.Builder, batch, srcLen, tgtLen int) *Inputs {
	in := m.NewInputs(b, batch, srcLen, tgtLen)
	in.Memory = b.Input("memory", batch*srcLen, m.Config.DModel)
	return in
}

// Bind gives the inputs fresh values for source ids src [Batch·SrcLen] and
// decoder input ids tgt [Batch·TgtLen] (nil in encoder-only graphs), and
// derives the masks from padding. Fresh tensors are bound every time
// because a forward-only machine may overwrite its inputs.
func (in *Inputs) Bind(src, tgt []int) error {
	dt := in.SrcPad.Dtype()
	srcPad := padFlags(src)
	if err := G.Let(in.Src, intTensor(src)); err != nil {
		return err
	}
	if err := G.Let(in.SrcPad, graph.KeyPadding(dt, in.Batch, in.SrcLen, srcPad)); err != nil {
		return err
	}
	if in.SrcMask != nil {
		if err := G.Let(in.SrcMask, graph.AttentionMask(dt, in.Batch, in.SrcLen, in.SrcLen, srcPad, false)); err != nil {
			return err
		}
	}
	if tgt == nil {
		return nil
	}
	tgtPad := padFlags(tgt)
	if err := G.Let(in.Tgt, intTensor(tgt)); err != nil {
		return err
	}
	if err := G.Let(in.TgtPad, graph.KeyPadding(dt, in.Batch, in.TgtLen, tgtPad)); err != nil {
		return err
	}
	if in.TgtMask != nil {
		if err := G.Let(in.TgtMask, graph.AttentionMask(dt, in.Batch, in.TgtLen, in.TgtLen, tgtPad, true)); err != nil {
			return err
		}
	}
	return G.Let(in.CrossMask, graph.AttentionMask(dt, in.Batch, in.TgtLen, in.SrcLen, srcPad, false))
}

func padFlags(ids []int) []bool {
	f := make([]bool, len(ids))
	for i, id := range ids {
		f[i] = id == data.PadID
	}
	return f
}

func intTensor(ids []int) *tensor.Dense {
	return tensor.New(tensor.WithShape(len(ids)), tensor.WithBacking(append([]int(nil), ids...)))
}

// Encode embeds the source and runs the encoder, giving the memory
// [Batch·SrcLen, d].
func (m *Transformer) Encode(b *graph.Builder, in *Inputs) *G.Node {
	x := m.Encoder.Forward(b, m.EmbedSource(b, in), in.Batch, in.SrcLen, in.SrcMask, in.SrcPad)
	return b.Mark("memory", x)
}

// EmbedSource is the encoder's input: source embeddings scaled by √d,
// positions added, dropout.
func (m *Transformer) EmbedSource(b *graph.Builder, in *Inputs) *G.Node {
	x := m.SrcEmbed.Forward(b, in.Src)
	return b.Dropout(m.SrcPos.Encode(b, x, in.Batch, in.SrcLen), m.Config.Dropout)
}

// EmbedTarget is the decoder's input, as EmbedSource for the target.
func (m *Transformer) EmbedTarget(b *graph.Builder, in *Inputs) *G.Node {
	y := m.TgtEmbed.Forward(b, in.Tgt)
	return b.Dropout(m.TgtPos.Encode(b, y, in.Batch, in.TgtLen), m.Config.Dropout)
}

// Decode embeds the decoder input, runs the decoder over memory, and
// projects to target-vocabulary scores [Batch·TgtLen, TgtVocab] (marked
// "logits").
func (m *Transformer) Decode(b *graph.Builder, in *Inputs, memory *G.Node) *G.Node {
	return b.Mark("logits", m.Head(b, m.decoderStates(b, in, memory)))
}

// decoderStates are the decoder layers' output over the embedded decoder
// input, before the final norm.
func (m *Transformer) decoderStates(b *graph.Builder, in *Inputs, memory *G.Node) *G.Node {
	return m.Decoder.Stack(b, m.EmbedTarget(b, in), memory, in.Batch, in.TgtLen, in.SrcLen, in.TgtMask, in.TgtPad, in.CrossMask)
}

// Head maps the decoder layers' output h [N, d] to target-vocabulary
// scores [N, TgtVocab]: the decoder's final norm, then Project.
func (m *Transformer) Head(b *graph.Builder, h *G.Node) *G.Node {
	return m.Project(b, m.Decoder.Finish(b, h))
}

// A LossFunc maps scores [N, V] and the target input to a scalar loss.
type LossFunc func(b *graph.Builder, logits, target *G.Node) *G.Node

// Objective is the training loss of a batch: loss applied to Forward's
// scores and target. The output head and the loss form one block of
// b.Checkpoint, so that with b.Checkpointing set the [N, V] scores are not
// kept between forward and backward.
func (m *Transformer) Objective(b *graph.Builder, in *Inputs, target *G.Node, loss LossFunc) *G.Node {
	h := m.decoderStates(b, in, m.Encode(b, in))
	return b.Checkpoint("head", G.Nodes{h}, G.Nodes{target}, func(b *graph.Builder, h, target G.Nodes) *G.Node {
		return loss(b, m.Head(b, h[0]), target[0])
	})
}

// Project maps decoder states h [N, d] to target-vocabulary scores
// [N, TgtVocab]: the output projection, or the tied target embedding
// with its own bias.
func (m *Transformer) Project(b *graph.Builder, h *G.Node) *G.Node {
	if m.Config.TieOutput {
		bias := b.Param(m.OutputBias, graph.Zeros, m.Config.TgtVocab)
		return m.TgtEmbed.ProjectBias(b, h, bias)
	}
	return m.Output.Forward(b, h)
}

// Forward is Decode(Encode(...)): teacher-forced scores for a whole batch.
func (m *Transformer) Forward(b *graph.Builder, in *Inputs) *G.Node {
	return m.Decode(b, in, m.Encode(b, in))
}

// ParamCounts returns the number of scalar parameters per top-level module
// ("encoder", "decoder", "src_embed", ...), plus "total".
func (m *Transformer) ParamCounts() map[string]int {
	out := map[string]int{}
	for _, name := range m.Store.Names() {
		n := m.Store.Get(name).Shape().TotalSize()
		top := name
		for i, r := range name {
			if r == '.' {
				top = name[:i]
				break
			}
		}
		out[top] += n
		out["total"] += n
	}
	return out
}

// ModuleSize is the parameter count of one module, such as
// "encoder.layers.0.self_attn", at Depth (0 for top-level modules, 1 for
// their parts, and so on).
type ModuleSize struct {
	Name   string
	Depth  int
	Params int
}

// ModuleSizes returns the parameter count of every module and submodule,
// in the order their first parameter was created, each module before its
// submodules. Parameter tensors themselves (…weight, …bias) are not listed.
func (m *Transformer) ModuleSizes() []ModuleSize {
	index := map[string]int{}
	var out []ModuleSize
	for _, name := range m.Store.Names() {
		n := m.Store.Get(name).Shape().TotalSize()
		parts := strings.Split(name, ".")
		depth := 0
		for d := 1; d < len(parts); d++ {
			mod := strings.Join(parts[:d], ".")
			if parts[d-1] == "layers" { // "encoder.layers" alone says nothing
				continue
			}
			i, ok := index[mod]
			if !ok {
				i = len(out)
				index[mod] = i
				out = append(out, ModuleSize{Name: mod, Depth: depth})
			}
			out[i].Params += n
			depth++
		}
	}
	return out
}
