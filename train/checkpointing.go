package train

import (
	"fmt"
	"strings"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/model"
)

// checkpointed is the translator's training step with gradient
// checkpointing (training.checkpoint_activations) for one batch shape:
//
//	src ids ─ srcEmbed ─ x₀ ─ encLayer×L ─ x_L ─ memory (final norm) ─┐
//	tgt ids ─ tgtEmbed ─ y₀ ─ decLayer×M (memory) ─ y_M ─ head ─ loss
//
// Forward keeps only the arrows' activations; each layer is recomputed
// during backward by one segment shared by all layers of its stack.
type checkpointed struct {
	srcEmbed, encLayer, memory *graph.Segment
	tgtEmbed, decLayer, head   *graph.Segment
	ins                        []*model.Inputs // one per segment, to bind the batch
	target                     *G.Node
}

func (c *checkpointed) Close() error {
	for _, s := range []*graph.Segment{c.srcEmbed, c.encLayer, c.memory, c.tgtEmbed, c.decLayer, c.head} {
		if s != nil {
			s.Close()
		}
	}
	return nil
}

// layerName maps a parameter of layer 0 of stack ("encoder" or "decoder")
// to layer i.
func layerName(stack string, i int) func(string) string {
	from, to := stack+".layers.0.", fmt.Sprintf("%s.layers.%d.", stack, i)
	return func(name string) string { return strings.Replace(name, from, to, 1) }
}

// newCheckpointed builds the segments of m for batches of the given shape.
func newCheckpointed(m *model.Transformer, batch, srcLen, tgtLen int, composed bool) (*checkpointed, error) {
	c := &checkpointed{}
	d := m.Config.DModel
	segment := func(in func(b *graph.Builder, mi *model.Inputs) G.Nodes, out func(b *graph.Builder, mi *model.Inputs, in G.Nodes) G.Nodes, loss bool) (*graph.Segment, error) {
		b := graph.NewBuilder(m.Store, true)
		b.Composed = composed
		var ins, outs G.Nodes
		var mi *model.Inputs
		if err := graph.Build(func() {
			mi = m.NewInputs(b, batch, srcLen, tgtLen)
			ins = in(b, mi)
			outs = out(b, mi, ins)
		}); err != nil {
			return nil, err
		}
		c.ins = append(c.ins, mi)
		return graph.NewSegment(b, ins, outs, loss)
	}
	none := func(*graph.Builder, *model.Inputs) G.Nodes { return nil }
	// Activation inputs: source-side ones have batch·srcLen rows, target-side
	// ones batch·tgtLen.
	src, tgt := batch*srcLen, batch*tgtLen
	act := func(rows ...int) func(b *graph.Builder, _ *model.Inputs) G.Nodes {
		return func(b *graph.Builder, _ *model.Inputs) G.Nodes {
			var ns G.Nodes
			for i, r := range rows {
				ns = append(ns, b.Input(fmt.Sprintf("activation.%d", i), r, d))
			}
			return ns
		}
	}
	var err error
	if c.srcEmbed, err = segment(none, func(b *graph.Builder, mi *model.Inputs, _ G.Nodes) G.Nodes {
		return G.Nodes{m.EmbedSource(b, mi)}
	}, false); err != nil {
		return nil, err
	}
	if c.encLayer, err = segment(act(src), func(b *graph.Builder, mi *model.Inputs, in G.Nodes) G.Nodes {
		return G.Nodes{m.Encoder.Layers[0].Forward(b, in[0], batch, srcLen, mi.SrcMask, mi.SrcPad)}
	}, false); err != nil {
		return nil, err
	}
	if m.Encoder.Norm != nil {
		if c.memory, err = segment(act(src), func(b *graph.Builder, _ *model.Inputs, in G.Nodes) G.Nodes {
			return G.Nodes{m.Encoder.Finish(b, in[0])}
		}, false); err != nil {
			return nil, err
		}
	}
	if c.tgtEmbed, err = segment(none, func(b *graph.Builder, mi *model.Inputs, _ G.Nodes) G.Nodes {
		return G.Nodes{m.EmbedTarget(b, mi)}
	}, false); err != nil {
		return nil, err
	}
	if c.decLayer, err = segment(act(tgt, src), func(b *graph.Builder, mi *model.Inputs, in G.Nodes) G.Nodes {
		return G.Nodes{m.Decoder.Layers[0].Forward(b, in[0], in[1], batch, tgtLen, srcLen, mi.TgtMask, mi.TgtPad, mi.CrossMask)}
	}, false); err != nil {
		return nil, err
	}
	if c.head, err = segment(act(tgt), func(b *graph.Builder, _ *model.Inputs, in G.Nodes) G.Nodes {
		loss, target := LabelSmoothedCE(b, m.Project(b, m.Decoder.Finish(b, in[0])))
		c.target = target
		return G.Nodes{loss}
	}, true); err != nil {
		return nil, err
	}
	return c, nil
}

// step runs forward and backward on one batch and returns the loss and
// the gradient of every parameter by name. Dropout masks come from rng in
// the order a whole-model graph would draw them.
func (c *checkpointed) step(m *model.Transformer, batch *data.Batch, smoothing float64, rng *graph.RNG, targets *graph.Scratch) (float64, map[string]*tensor.Dense, int, error) {
	for _, in := range c.ins {
		if err := in.Bind(batch.Src, batch.DecoderInput()); err != nil {
			return 0, nil, 0, err
		}
	}
	target := targets.Tensor(m.Store.Dtype(), c.target.Shape()...)
	n := FillTargets(target, batch.DecoderOutput(), smoothing)
	if err := G.Let(c.target, target); err != nil {
		return 0, nil, 0, err
	}
	L, M := len(m.Encoder.Layers), len(m.Decoder.Layers)
	grads := map[string]*tensor.Dense{}

	// Forward: keep the boundary activations and each segment's random
	// state.
	fwd := func(s *graph.Segment, rename func(string) string, in ...*tensor.Dense) (*tensor.Dense, uint64, error) {
		if err := s.Bind(rename); err != nil {
			return nil, 0, err
		}
		out, st, err := s.Forward(in, rng)
		if err != nil {
			return nil, 0, err
		}
		return out[0], st, nil
	}
	xs := make([]*tensor.Dense, L+1)
	encState := make([]uint64, L)
	var srcState, tgtState, memState uint64
	var err error
	if xs[0], srcState, err = fwd(c.srcEmbed, nil); err != nil {
		return 0, nil, 0, err
	}
	for i := 0; i < L; i++ {
		if xs[i+1], encState[i], err = fwd(c.encLayer, layerName("encoder", i), xs[i]); err != nil {
			return 0, nil, 0, err
		}
	}
	memory := xs[L] // without a final norm
	if c.memory != nil {
		if memory, memState, err = fwd(c.memory, nil, xs[L]); err != nil {
			return 0, nil, 0, err
		}
	}
	ys := make([]*tensor.Dense, M+1)
	decState := make([]uint64, M)
	if ys[0], tgtState, err = fwd(c.tgtEmbed, nil); err != nil {
		return 0, nil, 0, err
	}
	for i := 0; i < M; i++ {
		if ys[i+1], decState[i], err = fwd(c.decLayer, layerName("decoder", i), ys[i], memory); err != nil {
			return 0, nil, 0, err
		}
	}

	// Backward, from the loss down.
	bwd := func(s *graph.Segment, rename func(string) string, state uint64, up *tensor.Dense, in ...*tensor.Dense) ([]*tensor.Dense, float64, error) {
		if err := s.Bind(rename); err != nil {
			return nil, 0, err
		}
		var ups []*tensor.Dense
		if up != nil {
			ups = []*tensor.Dense{up}
		}
		return s.Backward(in, ups, state, rename, grads)
	}
	d, loss, err := bwd(c.head, nil, rng.State, nil, ys[M])
	if err != nil {
		return 0, nil, 0, err
	}
	dy := d[0]
	var dMemory *tensor.Dense
	for i := M - 1; i >= 0; i-- {
		d, _, err := bwd(c.decLayer, layerName("decoder", i), decState[i], dy, ys[i], memory)
		if err != nil {
			return 0, nil, 0, err
		}
		dy = d[0]
		if dMemory == nil {
			dMemory = d[1]
		} else if err := graph.AddInto(dMemory, d[1]); err != nil {
			return 0, nil, 0, err
		}
		ys[i+1] = nil
	}
	if _, _, err := bwd(c.tgtEmbed, nil, tgtState, dy); err != nil {
		return 0, nil, 0, err
	}
	dx := dMemory
	if c.memory != nil {
		if d, _, err = bwd(c.memory, nil, memState, dMemory, xs[L]); err != nil {
			return 0, nil, 0, err
		}
		dx = d[0]
	}
	for i := L - 1; i >= 0; i-- {
		if d, _, err = bwd(c.encLayer, layerName("encoder", i), encState[i], dx, xs[i]); err != nil {
			return 0, nil, 0, err
		}
		dx = d[0]
		xs[i+1] = nil
	}
	if _, _, err := bwd(c.srcEmbed, nil, srcState, dx); err != nil {
		return 0, nil, 0, err
	}
	return loss, grads, n, nil
}
