package layers

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/gotransformer/transformer/graph"
)

// Activation names accepted by Activate and by configs.
var Activations = []string{"relu", "gelu", "gelu_tanh"}

// Activate applies the named activation: "relu"; "gelu", the exact
// x·Φ(x) (PyTorch's default GELU, see graph.GELU); or "gelu_tanh", its tanh
// approximation,
//
//	GELU(x) ≈ ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
//
// (Hendrycks & Gimpel, 2016), which equals PyTorch's
// F.gelu(x, approximate="tanh").
func Activate(b *graph.Builder, name string, x *G.Node) *G.Node {
	switch name {
	case "relu":
		return G.Must(G.Rectify(x))
	case "gelu":
		return graph.GELU(x)
	case "gelu_tanh":
		inner := G.Must(G.Add(x, G.Must(G.Mul(G.Must(G.Cube(x)), b.Const(0.044715)))))
		t := G.Must(G.Tanh(G.Must(G.Mul(inner, b.Const(math.Sqrt(2/math.Pi))))))
		half := G.Must(G.Mul(x, b.Const(0.5)))
		return G.Must(G.HadamardProd(half, G.Must(G.Add(t, b.Const(1)))))
	}
	panic(fmt.Sprintf("layers: unknown activation %q", name))
}

// CheckActivation reports whether name is a known activation.
func CheckActivation(name string) error {
	for _, a := range Activations {
		if a == name {
			return nil
		}
	}
	return fmt.Errorf("unknown activation %q (want one of %v)", name, Activations)
}
