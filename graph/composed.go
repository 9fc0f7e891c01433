package graph

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/half"
)

// The composed references of the fused ops: each is the graph of Gorgonia
// ops (with Gorgonia's own gradients) that the fused op computes in one
// node with a hand-written backward pass. The tests check every fused op
// against its reference, values and gradients, and whole models built with
// Builder.Composed against the fused ones. The Builder methods below pick
// one or the other, so that layers state their forward pass once.

// AffineComposed is x·w + bias as Mul and a broadcast Add.
func AffineComposed(x, w, bias *G.Node) *G.Node {
	return G.Must(G.BroadcastAdd(G.Must(G.Mul(x, w)), bias, nil, []byte{0}))
}

// AffineTComposed is x·wᵀ + bias as Tensordot and a broadcast Add.
func AffineTComposed(x, w, bias *G.Node) *G.Node {
	return G.Must(G.BroadcastAdd(G.Must(G.Tensordot([]int{1}, []int{1}, x, w)), bias, nil, []byte{0}))
}

// LayerNormComposed is (x − mean) / sqrt(var + eps) · gamma + beta over each
// row, with the biased variance.
func LayerNormComposed(b *Builder, x, gamma, beta *G.Node, eps float64) *G.Node {
	mean := G.Must(G.Mean(x, 1))
	xc := G.Must(G.BroadcastSub(x, mean, nil, []byte{1}))
	variance := G.Must(G.Mean(G.Must(G.Square(xc)), 1))
	std := G.Must(G.Sqrt(G.Must(G.Add(variance, b.Const(eps)))))
	xn := G.Must(G.BroadcastHadamardDiv(xc, std, nil, []byte{1}))
	y := G.Must(G.BroadcastHadamardProd(xn, gamma, nil, []byte{0}))
	return G.Must(G.BroadcastAdd(y, beta, nil, []byte{0}))
}

// ResidualComposed is x + y ⊙ mask (x + y without a mask).
func ResidualComposed(x, y, mask *G.Node) *G.Node {
	if mask != nil {
		y = G.Must(G.HadamardProd(y, mask))
	}
	return G.Must(G.Add(x, y))
}

// ReLUComposed is Rectify(x) ⊙ mask (Rectify(x) without a mask).
func ReLUComposed(x, mask *G.Node) *G.Node {
	y := G.Must(G.Rectify(x))
	if mask != nil {
		y = G.Must(G.HadamardProd(y, mask))
	}
	return y
}

// CrossEntropyRowsComposed is −Σ_v target ⊙ log softmax(logits) per row.
func CrossEntropyRowsComposed(logits, target *G.Node) *G.Node {
	return G.Must(G.Neg(G.Must(G.Sum(G.Must(G.HadamardProd(LogSoftMax(logits), target)), 1))))
}

// rounding is the format weight products round their operands to: the
// builder's Precision over a float32 store, else 0.
func (b *Builder) rounding() half.Format {
	if b.Dtype() != tensor.Float32 {
		return 0
	}
	return b.Precision
}

// Affine is the fused Affine, or its composed reference with b.Composed;
// HalfAffine for 16-bit weights; Int8Product for int8 ones; RoundedAffine
// in mixed precision.
func (b *Builder) Affine(x, w, bias *G.Node) *G.Node {
	if m := b.int8Of(w, false); m != nil {
		return int8Product(b.Arena, x, m, w.Name(), bias)
	}
	if f := b.rounding(); f != 0 {
		return RoundedAffine(f, x, w, bias, false)
	}
	if IsHalf(w) {
		return halfProduct(b.Arena, x, w, bias, false)
	}
	if b.Composed {
		return AffineComposed(x, w, bias)
	}
	return affine(b.Arena, x, w, bias, false)
}

// AffineT is the fused AffineT, or its composed reference with b.Composed;
// HalfAffine for 16-bit weights; Int8Product for int8 ones.
func (b *Builder) AffineT(x, w, bias *G.Node) *G.Node {
	if m := b.int8Of(w, true); m != nil {
		return int8Product(b.Arena, x, m, w.Name()+"ᵀ", bias)
	}
	if f := b.rounding(); f != 0 {
		return RoundedAffine(f, x, w, bias, true)
	}
	if IsHalf(w) {
		return halfProduct(b.Arena, x, w, bias, true)
	}
	if b.Composed {
		return AffineTComposed(x, w, bias)
	}
	return affine(b.Arena, x, w, bias, true)
}

// MatMul is x·W (Gorgonia's Mul), or HalfProduct for 16-bit weights.
func (b *Builder) MatMul(x, w *G.Node) *G.Node {
	if m := b.int8Of(w, false); m != nil {
		return int8Product(b.Arena, x, m, w.Name(), nil)
	}
	if f := b.rounding(); f != 0 {
		return RoundedProduct(f, x, w, false)
	}
	if IsHalf(w) {
		return halfProduct(b.Arena, x, w, nil, false)
	}
	return G.Must(G.Mul(x, w))
}

// ProductT is x·Wᵀ (a Tensordot over both second axes), or HalfProduct
// for 16-bit weights.
func (b *Builder) ProductT(x, w *G.Node) *G.Node {
	if m := b.int8Of(w, true); m != nil {
		return int8Product(b.Arena, x, m, w.Name()+"ᵀ", nil)
	}
	if f := b.rounding(); f != 0 {
		return RoundedProduct(f, x, w, true)
	}
	if IsHalf(w) {
		return halfProduct(b.Arena, x, w, nil, true)
	}
	return G.Must(G.Tensordot([]int{1}, []int{1}, x, w))
}

// Lookup returns rows ids (an Int vector) of table (Gorgonia's ByIndices
// on axis 0), or HalfLookup for a 16-bit table.
func (b *Builder) Lookup(table, ids *G.Node) *G.Node {
	if IsHalf(table) {
		return HalfLookup(table, ids)
	}
	return G.Must(G.ByIndices(table, ids, 0))
}

// LayerNorm is the fused LayerNorm, or its composed reference with
// b.Composed.
func (b *Builder) LayerNorm(x, gamma, beta *G.Node, eps float64) *G.Node {
	if b.Composed {
		return LayerNormComposed(b, x, gamma, beta, eps)
	}
	return layerNorm(b.Arena, x, gamma, beta, eps)
}

// Residual is the fused Residual, or its composed reference with
// b.Composed.
func (b *Builder) Residual(x, y, mask *G.Node) *G.Node {
	if b.Composed {
		return ResidualComposed(x, y, mask)
	}
	return residual(b.Arena, x, y, mask)
}

// ReLU is the fused ReLU, or its composed reference with b.Composed.
func (b *Builder) ReLU(x, mask *G.Node) *G.Node {
	if b.Composed {
		return ReLUComposed(x, mask)
	}
	return relu(b.Arena, x, mask)
}

// Attention is the fused full attention (Attention).
func (b *Builder) Attention(q, k, v, mask, drop *G.Node, batch, heads int) *G.Node {
	return attention(b.Arena, q, k, v, mask, drop, batch, heads)
}

// CrossEntropyRows is the fused CrossEntropyRows, or its composed reference
// with b.Composed.
func (b *Builder) CrossEntropyRows(logits, target *G.Node) *G.Node {
	if b.Composed {
		return CrossEntropyRowsComposed(logits, target)
	}
	return CrossEntropyRows(logits, target)
}
