package graph

import (
	"fmt"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// checkpointLayer is a small block with a parameter, dropout, an auxiliary
// mask and a second activation (x, read by every layer as the decoder's
// layers read the encoder's memory).
func checkpointLayer(name string) BlockFunc {
	return func(b *Builder, acts, aux G.Nodes) *G.Node {
		w := b.Param(name+".w", Normal(0.5), 6, 6)
		h := G.Must(G.Tanh(G.Must(G.Mul(acts[0], w))))
		h = b.Dropout(h, 0.25)
		h = G.Must(G.HadamardProd(h, aux[0]))
		return G.Must(G.Add(h, acts[1]))
	}
}

// checkpointModel is two layers and a scalar head, each a block, defined
// once; b.Checkpointing decides how they are built.
func checkpointModel(b *Builder) (cost, x *G.Node) {
	x = RandomInput(b, "x", 1, 4, 6)
	mask := b.Input("mask", 4, 6)
	m := make([]float64, 24)
	for i := range m {
		if i%5 != 0 {
			m[i] = 1
		}
	}
	copy64To(mask.Value().(*tensor.Dense), m)
	h := b.Checkpoint("l1", G.Nodes{x, x}, G.Nodes{mask}, checkpointLayer("l1"))
	h = b.Checkpoint("l2", G.Nodes{h, x}, G.Nodes{mask}, checkpointLayer("l2"))
	cost = b.Checkpoint("head", G.Nodes{h}, nil, func(b *Builder, acts, _ G.Nodes) *G.Node {
		return Probe(b, acts[0], 7)
	})
	return cost, x
}

// checkpointRun trains one step of checkpointModel and returns the cost
// and the gradients of x and of every parameter, by name.
func checkpointRun(t *testing.T, dt tensor.Dtype, checkpointing bool, seed uint64) (float64, map[string][]float64) {
	t.Helper()
	b := NewBuilder(NewStore(dt, 5), true)
	b.Checkpointing = checkpointing
	defer b.Close()
	var cost, x *G.Node
	if err := Build(func() { cost, x = checkpointModel(b) }); err != nil {
		t.Fatal(err)
	}
	wrt := append(G.Nodes{x}, b.Params()...)
	if _, err := G.Grad(cost, wrt...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(b.G)
	defer vm.Close()
	var pool DropoutPool
	if err := pool.Bind(b.DropoutMasks(), dt); err != nil {
		t.Fatal(err)
	}
	FillDropout(b.DropoutMasks(), &RNG{State: seed})
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	grads := map[string][]float64{}
	for _, n := range wrt {
		g, err := n.Grad()
		if err != nil {
			t.Fatalf("%s: %v", n.Name(), err)
		}
		grads[n.Name()] = Float64s(g.(*tensor.Dense))
	}
	return scalarValue(cost.Value()), grads
}

// A checkpointed step gives the plain step's loss and gradients bit for
// bit, dropout included, in both float types; and a different random
// state gives different masks (the masks are really drawn).
func TestCheckpointEqualsPlainBitwise(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		loss, want := checkpointRun(t, dt, false, 11)
		got, grads := checkpointRun(t, dt, true, 11)
		if math.Float64bits(got) != math.Float64bits(loss) {
			t.Errorf("%v: checkpointed loss %v, plain %v", dt, got, loss)
		}
		if len(grads) != 3 {
			t.Fatalf("%v: %d gradients, want x and two weights", dt, len(grads))
		}
		for name, w := range want {
			g := grads[name]
			for i := range w {
				if math.Float64bits(g[i]) != math.Float64bits(w[i]) {
					t.Errorf("%v: %s[%d]: checkpointed %v, plain %v", dt, name, i, g[i], w[i])
					break
				}
			}
		}
		other, _ := checkpointRun(t, dt, true, 12)
		if other == got {
			t.Errorf("%v: another random state gave the same loss %v: the block's dropout masks were not drawn", dt, got)
		}
	}
}

// The checkpointed graph's gradients agree with finite differences
// (evaluation mode: no dropout).
func TestCheckpointGradCheck(t *testing.T) {
	b := NewBuilder(NewStore(tensor.Float64, 5), false)
	b.Checkpointing = true
	defer b.Close()
	var cost, x *G.Node
	if err := Build(func() { cost, x = checkpointModel(b) }); err != nil {
		t.Fatal(err)
	}
	res, err := GradCheck(cost, append(G.Nodes{x}, b.Params()...), GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.MaxRelErr > 1e-7 {
			t.Errorf("%s: max relative error %g", r.Name, r.MaxRelErr)
		}
	}
	t.Logf("%d tensors checked: %s", len(res), fmt.Sprint(res))
}

func scalarValue(v G.Value) float64 {
	switch x := v.Data().(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	}
	return math.NaN()
}
