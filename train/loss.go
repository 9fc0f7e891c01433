package train

import (
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
)

// LabelSmoothedCE adds the label-smoothed cross-entropy of logits [N, V]
// to the builder:
//
//	loss = −Σ_i Σ_v T[i,v] · log softmax(logits_i)_v
//
// where the target input T (returned, to be filled by FillTargets) holds the
// smoothed distribution of each token divided by the number of non-padding
// tokens, and zero rows for padding. It is the mean smoothed cross-entropy
// over real tokens, as PyTorch's CrossEntropyLoss(ignore_index=pad,
// label_smoothing=ε). The target is a dense input rather than a gather,
// whose gradient is wrong in Gorgonia v0.9.18. The rows' cross-entropies
// are one fused op (graph.CrossEntropyRows).
func LabelSmoothedCE(b *graph.Builder, logits *G.Node) (loss, target *G.Node) {
	target = b.Input("target", logits.Shape()...)
	return SmoothedCE(b, logits, target), target
}

// SmoothedCE is LabelSmoothedCE's loss for a given target input: the sum
// over rows of the cross-entropy of logits against target (a
// model.LossFunc).
func SmoothedCE(b *graph.Builder, logits, target *G.Node) *G.Node {
	return G.Must(G.Sum(b.CrossEntropyRows(logits, target)))
}

// FillTargets writes the smoothed targets of gold ids [N] into t [N, V],
// overwriting every element (so t can be reused from step to step): row i
// gets (1−ε)+ε/V at gold[i] and ε/V elsewhere, all divided by the
// number of non-padding tokens, which it returns; padding rows are zero.
func FillTargets(t *tensor.Dense, gold []int, eps float64) int {
	return FillTargetsOver(t, gold, eps, 0)
}

// FillTargetsOver is FillTargets dividing by norm target tokens instead
// (norm ≤ 0: the batch's own), for a batch that is one of several
// micro-batches of an update with norm tokens in all.
func FillTargetsOver(t *tensor.Dense, gold []int, eps float64, norm int) int {
	v := t.Shape()[1]
	n, scale := tokenWeight(gold, norm)
	off, on := eps/float64(v)*scale, (1-eps+eps/float64(v))*scale
	switch d := t.Data().(type) {
	case []float32:
		fillRows(d, gold, v, float32(off), float32(on))
	case []float64:
		fillRows(d, gold, v, off, on)
	}
	return n
}

// GoldCE is the LossFunc of label smoothing eps on a gold target [N, 2]
// (FillGold): the sum over rows of graph.GoldCrossEntropyRows, the same
// loss as SmoothedCE on the dense target FillTargets writes, without the
// [N, V] array.
func GoldCE(eps float64) func(b *graph.Builder, logits, gold *G.Node) *G.Node {
	return func(b *graph.Builder, logits, gold *G.Node) *G.Node {
		return G.Must(G.Sum(graph.GoldCrossEntropyRows(logits, gold, eps)))
	}
}

// FillGold writes each gold id of gold [N] and its weight, 1 over the
// number of target tokens, into t [N, 2] (GoldCE), and returns the number
// of non-padding tokens; padding rows get weight 0. norm ≤ 0 divides by
// the batch's own tokens, as FillTargetsOver.
func FillGold(t *tensor.Dense, gold []int, norm int) int {
	n, w := tokenWeight(gold, norm)
	switch d := t.Data().(type) {
	case []float32:
		fillGold(d, gold, float32(w))
	case []float64:
		fillGold(d, gold, w)
	}
	return n
}

// tokenWeight counts gold's non-padding tokens, n, and returns the weight
// of each: 1/norm, or 1/n when norm ≤ 0.
func tokenWeight(gold []int, norm int) (n int, w float64) {
	for _, g := range gold {
		if g != data.PadID {
			n++
		}
	}
	if norm <= 0 {
		norm = n
	}
	return n, 1 / float64(max(norm, 1))
}

func fillGold[T float32 | float64](d []T, gold []int, w T) {
	for i, g := range gold {
		d[2*i], d[2*i+1] = T(g), w
		if g == data.PadID {
			d[2*i], d[2*i+1] = 0, 0
		}
	}
}

func fillRows[T float32 | float64](d []T, gold []int, v int, off, on T) {
	for i, g := range gold {
		row := d[i*v : (i+1)*v]
		fill := off
		if g == data.PadID {
			fill = 0
		}
		for j := range row {
			row[j] = fill
		}
		if g != data.PadID {
			row[g] = on
		}
	}
}

// TokenStats accumulates teacher-forced metrics over real (non-padding)
// tokens.
type TokenStats struct {
	Tokens   int
	Correct  int
	NLL      float64 // Σ −log p(gold)
	Smoothed float64 // Σ label-smoothed cross-entropy
}

// Add scores logits [N, V] against gold [N] with smoothing eps.
func (s *TokenStats) Add(logits []float64, gold []int, v int, eps float64) {
	for i, g := range gold {
		if g == data.PadID {
			continue
		}
		row := logits[i*v : (i+1)*v]
		mx := row[0]
		best := 0
		for j, x := range row {
			if x > mx {
				mx, best = x, j
			}
		}
		var z, sum float64
		for _, x := range row {
			z += math.Exp(x - mx)
			sum += x
		}
		lse := mx + math.Log(z)
		nll := lse - row[g]
		// −Σ_v T_v log p_v with T = (1−ε)·onehot + ε/V.
		s.Smoothed += (1-eps)*nll + eps*(lse-sum/float64(v))
		s.NLL += nll
		s.Tokens++
		if best == g {
			s.Correct++
		}
	}
}

// Loss is the mean label-smoothed cross-entropy.
func (s TokenStats) Loss() float64 { return s.Smoothed / float64(max(s.Tokens, 1)) }

// Perplexity is exp of the mean negative log-likelihood.
func (s TokenStats) Perplexity() float64 { return math.Exp(s.NLL / float64(max(s.Tokens, 1))) }

// Accuracy is the fraction of tokens whose most probable prediction is the
// gold token.
func (s TokenStats) Accuracy() float64 { return float64(s.Correct) / float64(max(s.Tokens, 1)) }

// sumSquares returns Σ x² in float64, in four independent sums.
func sumSquares[T float32 | float64](x []T) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a, b, c, d := float64(x[i]), float64(x[i+1]), float64(x[i+2]), float64(x[i+3])
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += d * d
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i]) * float64(x[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// ClipGlobalNorm scales grads so that their joint L2 norm is at most
// maxNorm, and returns the norm before clipping (maxNorm ≤ 0: no clipping).
// The sum runs in the order of grads, so the result is reproducible.
func ClipGlobalNorm(grads []Param, maxNorm float64) float64 {
	var ss float64
	for _, g := range grads {
		switch d := g.Tensor.Data().(type) {
		case []float32:
			ss += sumSquares(d)
		case []float64:
			ss += sumSquares(d)
		}
	}
	norm := math.Sqrt(ss)
	if maxNorm <= 0 || norm <= maxNorm || norm == 0 {
		return norm
	}
	s := maxNorm / norm
	for _, g := range grads {
		switch d := g.Tensor.Data().(type) {
		case []float32:
			for i := range d {
				d[i] *= float32(s)
			}
		case []float64:
			for i := range d {
				d[i] *= s
			}
		}
	}
	return norm
}
