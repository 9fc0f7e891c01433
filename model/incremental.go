package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/layers"
)

// Incremental decoding: the encoder runs once, the keys and values of the
// memory are projected once per cross-attention layer, and each decoder
// step computes only the newest position, attending to the keys and values
// of earlier positions kept in a cache. A step costs O(t·d) instead of the
// O(t²·d) of recomputing the whole prefix.

// StepLayer is one decoder layer for a single new position per sequence:
// x [batch, d] attends to the layer's cached keys and values cacheK, cacheV
// [batch, heads, T, dh] (then to its own) and to the memory's keys and
// values memK, memV [batch, heads, srcLen, dh]. It returns the layer's
// output and the new position's key and value for the cache.
func (l DecoderLayer) StepLayer(b *graph.Builder, x, cacheK, cacheV, memK, memV, selfMask, crossMask *G.Node, batch int) (out, k, v *G.Node) {
	self := func(h *G.Node) *G.Node {
		var o *G.Node
		o, k, v = l.SelfAttn.StepSelf(b, h, cacheK, cacheV, selfMask, batch)
		return o
	}
	cross := func(h *G.Node) *G.Node { return l.CrossAttn.StepCross(b, h, memK, memV, crossMask, batch) }
	ff := func(h *G.Node) *G.Node { return l.FF.Forward(b, h) }
	x = residual(b, x, l.Norm1, l.NormFirst, l.Dropout, self)
	x = residual(b, x, l.Norm2, l.NormFirst, l.Dropout, cross)
	return residual(b, x, l.Norm3, l.NormFirst, l.Dropout, ff), k, v
}

// memoryKV is a compiled graph projecting the memory into every
// cross-attention layer's keys and values.
type memoryKV struct {
	b      *graph.Builder
	memory *G.Node
	k, v   []*G.Node
	vm     G.VM
}

func (g *memoryKV) Close() error { return g.vm.Close() }

// stepGraph is a compiled decoder step for batch rows, cache length T and
// source length srcLen.
type stepGraph struct {
	b                   *graph.Builder
	tok, pos            *G.Node
	cacheK, cacheV      []*G.Node
	memK, memV          []*G.Node
	selfMask, crossMask *G.Node
	logits              *G.Node
	newK, newV          []*G.Node
	vm                  G.VM
}

func (g *stepGraph) Close() error { return g.vm.Close() }

func (t *Translator) memoryGraph(batch, srcLen int) (*memoryKV, error) {
	m := t.Model
	c, err := t.cache.Get(fmt.Sprintf("memkv/b%d/s%d", batch, srcLen), func() (graph.Compiled, error) {
		g := &memoryKV{b: graph.NewBuilder(m.Store, false)}
		err := graph.Build(func() {
			g.memory = g.b.Input("memory", batch*srcLen, m.Config.DModel)
			for _, l := range m.Decoder.Layers {
				k, v := l.CrossAttn.ProjectMemory(g.b, g.memory, batch, srcLen)
				g.k, g.v = append(g.k, k), append(g.v, v)
			}
		})
		if err != nil {
			return nil, err
		}
		g.vm = G.NewTapeMachine(g.b.G.SubgraphRoots(append(append(G.Nodes{}, g.k...), g.v...)...))
		return g, nil
	})
	if err != nil {
		return nil, err
	}
	return c.(*memoryKV), nil
}

func (t *Translator) stepGraph(batch, cacheLen, srcLen int) (*stepGraph, error) {
	m := t.Model
	c, err := t.cache.Get(fmt.Sprintf("step/b%d/t%d/s%d", batch, cacheLen, srcLen), func() (graph.Compiled, error) {
		g := &stepGraph{b: graph.NewBuilder(m.Store, false)}
		mc := m.Config
		dh := mc.DModel / mc.Heads
		err := graph.Build(func() {
			b := g.b
			g.tok = b.IntInput("tok", batch)
			g.pos = b.Input("pos", batch, mc.DModel)
			g.selfMask = b.Input("self_mask", batch, 1, 1, cacheLen+1)
			g.crossMask = b.Input("cross_mask", batch, 1, 1, srcLen)
			x := G.Must(G.Add(m.TgtEmbed.Forward(b, g.tok), g.pos))
			for i, l := range m.Decoder.Layers {
				ck := b.Input(fmt.Sprintf("cache_k.%d", i), batch, mc.Heads, cacheLen, dh)
				cv := b.Input(fmt.Sprintf("cache_v.%d", i), batch, mc.Heads, cacheLen, dh)
				mk := b.Input(fmt.Sprintf("mem_k.%d", i), batch, mc.Heads, srcLen, dh)
				mv := b.Input(fmt.Sprintf("mem_v.%d", i), batch, mc.Heads, srcLen, dh)
				var k, v *G.Node
				x, k, v = l.StepLayer(b, x, ck, cv, mk, mv, g.selfMask, g.crossMask, batch)
				g.cacheK, g.cacheV = append(g.cacheK, ck), append(g.cacheV, cv)
				g.memK, g.memV = append(g.memK, mk), append(g.memV, mv)
				g.newK, g.newV = append(g.newK, k), append(g.newV, v)
			}
			if m.Decoder.Norm != nil {
				x = m.Decoder.Norm.Forward(b, x)
			}
			if mc.TieOutput {
				bias := b.Param(m.OutputBias, graph.Zeros, mc.TgtVocab)
				g.logits = G.Must(G.BroadcastAdd(m.TgtEmbed.Project(b, x), bias, nil, []byte{0}))
			} else {
				g.logits = m.Output.Forward(b, x)
			}
		})
		if err != nil {
			return nil, err
		}
		roots := append(append(G.Nodes{g.logits}, g.newK...), g.newV...)
		g.vm = G.NewTapeMachine(g.b.G.SubgraphRoots(roots...))
		return g, nil
	})
	if err != nil {
		return nil, err
	}
	return c.(*stepGraph), nil
}

// positionRow returns the target position vector of position pos.
func (t *Translator) positionRow(pos int) []float64 {
	d := t.Model.Config.DModel
	switch p := t.Model.TgtPos.(type) {
	case layers.LearnedPositions:
		table := graph.Float64s(t.Model.Store.Get(p.Name + ".weight"))
		return table[pos*d : (pos+1)*d]
	default:
		return layers.SinusoidalTable(pos+1, d)[pos*d:]
	}
}

// kvCache holds, per decoder layer, the keys and values of the positions
// decoded so far: [rows, heads, capacity, dh] as float64.
type kvCache struct {
	rows, heads, dh, capacity int
	k, v                      [][]float64
}

func newKVCache(layers, rows, heads, dh int) *kvCache {
	return &kvCache{rows: rows, heads: heads, dh: dh, k: make([][]float64, layers), v: make([][]float64, layers)}
}

// view returns layer i's keys or values for the first n slots as a fresh
// tensor [rows, heads, n, dh] (zeros beyond the capacity).
func (c *kvCache) view(dt tensor.Dtype, src []float64, n int) *tensor.Dense {
	out := make([]float64, c.rows*c.heads*n*c.dh)
	if src != nil {
		for rh := 0; rh < c.rows*c.heads; rh++ {
			m := min(n, c.capacity) * c.dh
			copy(out[rh*n*c.dh:rh*n*c.dh+m], src[rh*c.capacity*c.dh:rh*c.capacity*c.dh+m])
		}
	}
	return graph.FromFloat64s(dt, out, c.rows, c.heads, n, c.dh)
}

// put writes the new position's keys and values [rows, heads, 1, dh] of
// layer i into slot pos, growing the capacity as needed.
func (c *kvCache) put(i, pos int, k, v []float64) {
	if pos >= c.capacity {
		grown := max(2*c.capacity, pos+1, 8)
		for l := range c.k {
			c.k[l], c.v[l] = c.regrow(c.k[l], grown), c.regrow(c.v[l], grown)
		}
		c.capacity = grown
	}
	for rh := 0; rh < c.rows*c.heads; rh++ {
		copy(c.k[i][(rh*c.capacity+pos)*c.dh:], k[rh*c.dh:(rh+1)*c.dh])
		copy(c.v[i][(rh*c.capacity+pos)*c.dh:], v[rh*c.dh:(rh+1)*c.dh])
	}
}

// reorder makes row r hold what row parents[r] held.
func (c *kvCache) reorder(parents []int) {
	span := c.heads * c.capacity * c.dh
	for l := range c.k {
		for _, kv := range []*[]float64{&c.k[l], &c.v[l]} {
			if *kv == nil {
				continue
			}
			old, out := *kv, make([]float64, len(*kv))
			for r, p := range parents {
				copy(out[r*span:(r+1)*span], old[p*span:(p+1)*span])
			}
			*kv = out
		}
	}
}

func (c *kvCache) regrow(old []float64, capacity int) []float64 {
	out := make([]float64, c.rows*c.heads*capacity*c.dh)
	if old != nil {
		for rh := 0; rh < c.rows*c.heads; rh++ {
			copy(out[rh*capacity*c.dh:], old[rh*c.capacity*c.dh:(rh+1)*c.capacity*c.dh])
		}
	}
	return out
}

// incremental decodes one batch step by step with the cache. next is
// called after each step with the scores [rows, vocab] of the newest
// position and returns the token each row feeds to the next step, and
// whether decoding goes on. src holds rows·srcLen ids (each source ending
// with EosID, then padding).
func (t *Translator) incremental(src []int, rows, srcLen, steps int, next func(step int, scores []float64) (tokens []int, more bool)) error {
	return t.incrementalReorder(src, rows, srcLen, steps, func(step int, scores []float64) ([]int, []int, bool) {
		tokens, more := next(step, scores)
		return tokens, nil, more
	})
}

// incrementalReorder is incremental for search over several hypotheses per
// sentence: next also returns, for each row, the row whose cached keys and
// values it continues (nil: each its own), as beam search does when a
// hypothesis extends another row's prefix.
func (t *Translator) incrementalReorder(src []int, rows, srcLen, steps int, next func(step int, scores []float64) (tokens, parents []int, more bool)) error {
	m := t.Model
	mc := m.Config
	dt := m.Store.Dtype()
	dh := mc.DModel / mc.Heads
	memory, err := t.EncodeBatch(src, rows, srcLen)
	if err != nil {
		return err
	}
	mg, err := t.memoryGraph(rows, srcLen)
	if err != nil {
		return err
	}
	if err := G.Let(mg.memory, memory); err != nil {
		return err
	}
	mg.vm.Reset()
	if err := mg.vm.RunAll(); err != nil {
		return err
	}
	memK, memV := make([][]float64, len(mg.k)), make([][]float64, len(mg.v))
	for i := range mg.k {
		memK[i] = append([]float64(nil), graph.Float64s(mg.k[i].Value().(*tensor.Dense))...)
		memV[i] = append([]float64(nil), graph.Float64s(mg.v[i].Value().(*tensor.Dense))...)
	}
	graph.Release(mg.b.G, mg.vm)
	srcPad := padFlags(src)
	crossMask := graph.AttentionMask(dt, rows, 1, srcLen, srcPad, false)
	cache := newKVCache(len(m.Decoder.Layers), rows, mc.Heads, dh)
	tok := make([]int, rows)
	for i := range tok {
		tok[i] = data.BosID
	}
	for step := 0; step < steps; step++ {
		cacheLen := max(8, roundUp(step, 8))
		g, err := t.stepGraph(rows, cacheLen, srcLen)
		if err != nil {
			return err
		}
		pos := make([]float64, 0, rows*mc.DModel)
		row := t.positionRow(step)
		for r := 0; r < rows; r++ {
			pos = append(pos, row...)
		}
		// Slots before step are decoded positions; the rest of the cache is
		// unused; the last key is the new position's own.
		mask := make([]float64, rows*(cacheLen+1))
		for r := 0; r < rows; r++ {
			for j := step; j < cacheLen; j++ {
				mask[r*(cacheLen+1)+j] = graph.MaskValue
			}
		}
		lets := []let{
			{g.tok, intTensor(tok)}, {g.pos, graph.FromFloat64s(dt, pos, rows, mc.DModel)},
			{g.selfMask, graph.FromFloat64s(dt, mask, rows, 1, 1, cacheLen+1)},
			{g.crossMask, crossMask.Clone().(*tensor.Dense)},
		}
		for i := range g.cacheK {
			lets = append(lets, let{g.cacheK[i], cache.view(dt, cache.k[i], cacheLen)},
				let{g.cacheV[i], cache.view(dt, cache.v[i], cacheLen)},
				let{g.memK[i], graph.FromFloat64s(dt, memK[i], rows, mc.Heads, srcLen, dh)},
				let{g.memV[i], graph.FromFloat64s(dt, memV[i], rows, mc.Heads, srcLen, dh)})
		}
		for _, l := range lets {
			if err := G.Let(l.n, l.v); err != nil {
				return err
			}
		}
		g.vm.Reset()
		if err := g.vm.RunAll(); err != nil {
			return err
		}
		scores := append([]float64(nil), graph.Float64s(g.logits.Value().(*tensor.Dense))...)
		for i := range g.newK {
			cache.put(i, step, graph.Float64s(g.newK[i].Value().(*tensor.Dense)), graph.Float64s(g.newV[i].Value().(*tensor.Dense)))
		}
		graph.Release(g.b.G, g.vm)
		var more bool
		var parents []int
		tok, parents, more = next(step, scores)
		if !more {
			return nil
		}
		if parents != nil {
			cache.reorder(parents)
		}
	}
	return nil
}

// let is an input node and the fresh value to bind to it.
type let struct {
	n *G.Node
	v *tensor.Dense
}
