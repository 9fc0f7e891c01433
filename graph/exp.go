package graph

import "github.com/gotransformer/transformer/internal/rows"

// expShift is rows.ExpShift, the kernel the graph-free decoder shares.
func expShift[T float32 | float64](dst, src []T, shift T) float64 {
	return rows.ExpShift(dst, src, shift)
}
