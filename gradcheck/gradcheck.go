// Package gradcheck is the gradient-check registry of `transformer
// gradcheck`: every built-in layer's float64 finite-difference check by
// name, and the check of a whole model through the training loss.
package gradcheck

import (
	"context"
	"fmt"
	"math/rand"
	"sort"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/layers"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/train"
)

// Case builds one gradient-check graph: out is probed with a random
// weighting, and gradients are checked with respect to wrt and every
// parameter of b.
type Case func(b *graph.Builder) (out *G.Node, wrt G.Nodes)

// Cases returns the built-in layers' gradient checks by name, small
// enough to perturb every element.
func Cases() map[string]Case {
	const d, h, f = 8, 2, 12
	pad := []bool{false, false, true, false, false, false}
	mask := func(b *graph.Builder, name string, sq, sk int, causal bool) *G.Node {
		m := b.Input(name, 2, 1, sq, sk)
		graph.FillAttentionMask(m.Value().(*tensor.Dense), pad[:2*sk], causal)
		return m
	}
	in := func(b *graph.Builder, name string, seed int64, rows int) *G.Node {
		return graph.RandomInput(b, name, seed, rows, d)
	}
	c := model.DefaultConfig()
	c.DModel, c.Heads, c.FFDim, c.Dropout = d, h, f, 0
	cases := map[string]Case{
		"attention": func(b *graph.Builder) (*G.Node, G.Nodes) {
			q := graph.RandomInput(b, "q", 1, 2, h, 3, 4)
			k := graph.RandomInput(b, "k", 2, 2, h, 3, 4)
			v := graph.RandomInput(b, "v", 3, 2, h, 3, 4)
			m := mask(b, "mask", 3, 3, true)
			ctx, _ := layers.ScaledDotProductAttention(b, q, k, v, m, nil, 0)
			return ctx, G.Nodes{q, k, v}
		},
		"multihead_self": func(b *graph.Builder) (*G.Node, G.Nodes) {
			x := in(b, "x", 1, 6)
			m := mask(b, "mask", 3, 3, true)
			out, _ := layers.MultiHeadAttention{Name: "attn", DModel: d, Heads: h}.Forward(b, x, x, 2, 3, 3, m)
			return out, G.Nodes{x}
		},
		"multihead_cross": func(b *graph.Builder) (*G.Node, G.Nodes) {
			x, mem := in(b, "x", 1, 4), in(b, "mem", 2, 6)
			m := mask(b, "mask", 2, 3, false)
			out, _ := layers.MultiHeadAttention{Name: "attn", DModel: d, Heads: h}.Forward(b, x, mem, 2, 2, 3, m)
			return out, G.Nodes{x, mem}
		},
		"layer_norm": func(b *graph.Builder) (*G.Node, G.Nodes) {
			x := in(b, "x", 1, 5)
			return layers.LayerNorm{Name: "ln", Dim: d, Eps: 1e-5}.Forward(b, x), G.Nodes{x}
		},
		"embedding": func(b *graph.Builder) (*G.Node, G.Nodes) {
			ids := b.IntInput("ids", 5)
			copy(ids.Value().Data().([]int), []int{1, 3, 3, 0, 6})
			return layers.Embedding{Name: "emb", Vocab: 7, DModel: d}.Forward(b, ids), nil
		},
		"tied_projection": func(b *graph.Builder) (*G.Node, G.Nodes) {
			x := in(b, "x", 1, 3)
			return layers.Embedding{Name: "emb", Vocab: 7, DModel: d}.Project(b, x), G.Nodes{x}
		},
		"learned_positions": func(b *graph.Builder) (*G.Node, G.Nodes) {
			x := in(b, "x", 1, 6)
			return layers.LearnedPositions{Name: "pos", DModel: d, Max: 5}.Encode(b, x, 2, 3), G.Nodes{x}
		},
		"sinusoidal_positions": func(b *graph.Builder) (*G.Node, G.Nodes) {
			x := in(b, "x", 1, 6)
			return layers.Sinusoidal{Name: "pos", DModel: d}.Encode(b, x, 2, 3), G.Nodes{x}
		},
		"softmax": func(b *graph.Builder) (*G.Node, G.Nodes) {
			x := in(b, "x", 1, 4)
			return graph.SoftMax(x), G.Nodes{x}
		},
		"log_softmax": func(b *graph.Builder) (*G.Node, G.Nodes) {
			x := in(b, "x", 1, 4)
			return graph.LogSoftMax(x), G.Nodes{x}
		},
		"dropout": func(b *graph.Builder) (*G.Node, G.Nodes) {
			x := in(b, "x", 1, 4)
			b.Train = true
			y := b.Dropout(x, 0.3)
			b.Train = false
			graph.FillDropout(b.DropoutMasks(), graph.NewRNG(2))
			return y, G.Nodes{x}
		},
		"label_smoothed_loss": func(b *graph.Builder) (*G.Node, G.Nodes) {
			logits := graph.RandomInput(b, "logits", 1, 4, 6)
			loss, target := train.LabelSmoothedCE(b, logits)
			train.FillTargets(target.Value().(*tensor.Dense), []int{4, 5, data.PadID, 2}, 0.1)
			return loss, G.Nodes{logits}
		},
		"gold_label_smoothed_loss": func(b *graph.Builder) (*G.Node, G.Nodes) {
			logits := graph.RandomInput(b, "logits", 1, 4, 6)
			gold := b.Input("gold", 4, 2)
			train.FillGold(gold.Value().(*tensor.Dense), []int{4, 5, data.PadID, 2}, 0)
			return train.GoldCE(0.1)(b, logits, gold), G.Nodes{logits}
		},
	}
	keyPad := func(b *graph.Builder, s int) *G.Node {
		n := b.Input("pad", 2, s)
		G.Let(n, graph.KeyPadding(tensor.Float64, 2, s, pad[:2*s]))
		return n
	}
	// Every registered kind of attention, and every positional scheme that
	// acts inside attention, gets its checks without a line here.
	for _, kind := range layers.AttentionKindNames() {
		k, _ := layers.AttentionSpec{Kind: kind}.Attention()
		for i, spec := range k.GradChecks {
			if spec.IsFull() && spec.Chunk == 0 {
				continue // full attention over the n×n mask: multihead_self
			}
			for _, causal := range []bool{false, true} {
				spec := spec // each case keeps its own causality
				spec.Causal = causal
				name := kind + "_attention" + map[bool]string{false: "", true: "_causal"}[causal]
				switch {
				case spec.Chunk > 0:
					name = fmt.Sprintf("%s_chunked%d", name, spec.Chunk)
				case i > 0:
					name = fmt.Sprint(name, "_", i)
				}
				cases[name] = func(b *graph.Builder) (*G.Node, G.Nodes) {
					x := in(b, "x", 1, 6)
					out, _ := layers.MultiHeadAttention{Name: "attn", DModel: d, Heads: h, Spec: spec}.Self(b, x, 2, 3, nil, keyPad(b, 3))
					return out, G.Nodes{x}
				}
			}
		}
	}
	for _, kind := range layers.PositionKindNames() {
		if k, _ := layers.Positions(kind); k.Absolute {
			continue // added to the embeddings: the *_positions cases above
		}
		for stack, causal := range map[string]bool{"encoder": false, "decoder": true} {
			cases[kind+"_positions_"+stack] = func(b *graph.Builder) (*G.Node, G.Nodes) {
				x := in(b, "x", 1, 6)
				m := mask(b, "mask", 3, 3, causal)
				pos, err := layers.NewPositions(kind, layers.PositionParams{Name: "pos", Stack: "stack", DModel: d, Heads: h,
					MaxLen: 8, Buckets: 4, MaxDistance: 4, Causal: causal})
				if err != nil {
					panic(err)
				}
				out, _ := layers.MultiHeadAttention{Name: "attn", DModel: d, Heads: h, Positions: pos}.Self(b, x, 2, 3, m, nil)
				return out, G.Nodes{x}
			}
		}
	}
	cases["elu_plus_one"] = func(b *graph.Builder) (*G.Node, G.Nodes) {
		x := in(b, "x", 1, 4)
		return graph.EluPlusOne(x), G.Nodes{x}
	}
	for _, act := range layers.Activations {
		act := act
		cases["feedforward_"+act] = func(b *graph.Builder) (*G.Node, G.Nodes) {
			x := in(b, "x", 1, 5)
			return layers.FeedForward{Name: "ff", DModel: d, Hidden: f, Activation: act}.Forward(b, x), G.Nodes{x}
		}
	}
	for _, pre := range []bool{false, true} {
		cc := c
		cc.NormFirst = pre
		suffix := map[bool]string{false: "_post_ln", true: "_pre_ln"}[pre]
		cc.EncoderLayers, cc.DecoderLayers = 1, 1
		cases["encoder_layer"+suffix] = func(b *graph.Builder) (*G.Node, G.Nodes) {
			x := in(b, "x", 1, 6)
			m := mask(b, "mask", 3, 3, false)
			return model.NewEncoder("enc", cc).Layers[0].Forward(b, x, 2, 3, m, nil), G.Nodes{x}
		}
		cases["decoder_layer"+suffix] = func(b *graph.Builder) (*G.Node, G.Nodes) {
			x, mem := in(b, "x", 1, 6), in(b, "mem", 2, 6)
			self := mask(b, "self", 3, 3, true)
			cross := mask(b, "cross", 3, 3, false)
			return model.NewDecoder("dec", cc).Layers[0].Forward(b, x, mem, 2, 3, 3, self, nil, cross), G.Nodes{x, mem}
		}
	}
	return cases
}

// Names lists Cases' names in order.
func Names() []string {
	var names []string
	for n := range Cases() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Run runs the named built-in check in float64; it stops when ctx ends,
// returning ctx.Err().
func Run(ctx context.Context, name string, opt graph.GradCheckOptions) ([]graph.GradResult, error) {
	f, ok := Cases()[name]
	if !ok {
		return nil, fmt.Errorf("unknown layer %q (want one of %v)", name, Names())
	}
	s := graph.NewStore(tensor.Float64, 1)
	s.WeightInit = graph.Normal(0.5)
	b := graph.NewBuilder(s, false)
	var out *G.Node
	var wrt G.Nodes
	if err := graph.Build(func() { out, wrt = f(b) }); err != nil {
		return nil, err
	}
	if !out.IsScalar() {
		out = graph.Probe(b, out, 99)
	}
	return graph.GradCheckContext(ctx, out, append(wrt, b.Params()...), opt)
}

// Bounds of a whole-model gradient check (Model), which keep its
// float64 copies in memory and its two forward passes per perturbed
// element within a minute or so.
const (
	MaxParams    = 2_000_000
	MaxPerTensor = 100_000
	MaxElements  = 10_000
)

// Model checks the whole model of c (dropout off, float64,
// vocabularies of srcVocab and tgtVocab tokens) through the label-smoothed
// loss on a random padded batch of two sentences. It stops when ctx ends,
// returning ctx.Err().
func Model(ctx context.Context, c model.Config, srcVocab, tgtVocab int, opt graph.GradCheckOptions) ([]graph.GradResult, error) {
	c.SrcVocab, c.TgtVocab = srcVocab, tgtVocab
	if c.ShareEmbeddings {
		c.SrcVocab = tgtVocab
	}
	c.Dropout, c.AttentionDropout = 0, 0
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if n := c.ParamCount(); n > MaxParams {
		return nil, fmt.Errorf("the model has %d parameters, more than the %d a float64 finite-difference check handles: use a smaller config (lower model.d_model, ff_dim or the layer counts)", n, MaxParams)
	}
	if opt.MaxPerTensor < 0 || opt.MaxPerTensor > MaxPerTensor {
		return nil, fmt.Errorf("--per-tensor must be in [0, %d] (0: all), got %d", MaxPerTensor, opt.MaxPerTensor)
	}
	if !(opt.Step >= 0 && opt.Step < 1) { // 0: the default
		return nil, fmt.Errorf("--step must be a finite number in (0, 1), got %g", opt.Step)
	}
	m, err := model.New(c, tensor.Float64, 1)
	if err != nil {
		return nil, err
	}
	perturbed := 0
	for _, name := range m.Store.Names() {
		n := m.Store.Get(name).Shape().TotalSize()
		if opt.MaxPerTensor > 0 {
			n = min(n, opt.MaxPerTensor)
		}
		perturbed += n
	}
	if perturbed > MaxElements {
		return nil, fmt.Errorf("--per-tensor %d perturbs %d elements of this model, two forward passes each; at most %d: lower --per-tensor (0 means every element)", opt.MaxPerTensor, perturbed, MaxElements)
	}
	rng := rand.New(rand.NewSource(opt.Seed))
	word := func(n int) int { return 4 + rng.Intn(n-4) }
	src := []int{word(c.SrcVocab), word(c.SrcVocab), word(c.SrcVocab), data.EosID, word(c.SrcVocab), data.EosID, 0, 0}
	tgt := []int{data.BosID, word(c.TgtVocab), word(c.TgtVocab), data.EosID, data.BosID, word(c.TgtVocab), data.EosID, 0}
	b := graph.NewBuilder(m.Store, false)
	var loss *G.Node
	err = graph.Build(func() {
		in := m.NewInputs(b, 2, 4, 3)
		if err := in.Bind(src, []int{tgt[0], tgt[1], tgt[2], tgt[4], tgt[5], tgt[6]}); err != nil {
			panic(err)
		}
		var target *G.Node
		loss, target = train.LabelSmoothedCE(b, m.Forward(b, in))
		train.FillTargets(target.Value().(*tensor.Dense), []int{tgt[1], tgt[2], tgt[3], tgt[5], tgt[6], tgt[7]}, 0.1)
	})
	if err != nil {
		return nil, err
	}
	return graph.GradCheckContext(ctx, loss, b.Params(), opt)
}
