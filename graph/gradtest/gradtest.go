// Package gradtest asserts, inside Go tests, that a graph's symbolic
// gradients match float64 finite differences (see graph.GradCheck).
package gradtest

import (
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
)

// Tol is the largest relative error accepted by Check.
const Tol = 1e-6

// Check runs graph.GradCheckOutput on out with respect to wrt and every
// parameter of b, perturbing at most maxPerTensor elements per tensor
// (0: all), and fails t for every tensor whose error exceeds Tol.
func Check(t testing.TB, b *graph.Builder, out *G.Node, maxPerTensor int, wrt ...*G.Node) []graph.GradResult {
	t.Helper()
	res, err := graph.GradCheckOutput(b, out, wrt, graph.GradCheckOptions{MaxPerTensor: maxPerTensor})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) == 0 {
		t.Fatal("nothing was checked")
	}
	for _, r := range res {
		if !(r.MaxRelErr <= Tol) {
			t.Errorf("%s: max relative error %.3g > %g (abs %.3g)", r.Name, r.MaxRelErr, Tol, r.MaxAbsErr)
		}
	}
	return res
}
