package graph

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SoftMax is softmax over the last axis of x:
//
//	softmax(x)_j = exp(x_j − m) / Σ_k exp(x_k − m),  m = max_k x_k
//
// computed row by row with a hand-written gradient
// dx = y ⊙ (dy − Σ dy⊙y). It replaces Gorgonia's SoftMax, which in
// gorgonia.org/tensor v0.9.24 subtracts the first element of the whole
// tensor instead of each row's maximum and so returns NaN for a row whose
// entries all lie far below it (a fully masked attention row).
func SoftMax(x *G.Node) *G.Node { return G.Must(apply(softmaxOp{}, x)) }

// LogSoftMax is log softmax over the last axis, x_j − m − log Σ_k exp(x_k − m),
// with gradient dx = dy − softmax(x)·Σ dy. It replaces Gorgonia's
// LogSoftMax, which shares SoftMax's defect.
func LogSoftMax(x *G.Node) *G.Node { return G.Must(apply(softmaxOp{log: true}, x)) }

type softmaxOp struct {
	log bool
}

func (op softmaxOp) Arity() int    { return 1 }
func (op softmaxOp) Type() hm.Type { return sameType(1) }
func (op softmaxOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return firstShape(in)
}
func (op softmaxOp) String() string {
	if op.log {
		return "LogSoftMaxRows"
	}
	return "SoftMaxRows"
}

func (op softmaxOp) Do(in ...G.Value) (G.Value, error) {
	x, ok := in[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%v: want a dense tensor, got %T", op, in[0])
	}
	out := tensor.New(tensor.WithShape(x.Shape().Clone()...), tensor.Of(x.Dtype()))
	n := lastDim(x)
	switch d := x.Data().(type) {
	case []float32:
		parallelRows(len(d)/n, func(lo, hi int) { softmaxRows(d, out.Data().([]float32), n, lo, hi, op.log) })
	case []float64:
		parallelRows(len(d)/n, func(lo, hi int) { softmaxRows(d, out.Data().([]float64), n, lo, hi, op.log) })
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, x.Dtype())
	}
	return out, nil
}

func (op softmaxOp) DiffWRT(inputs int) []bool { return []bool{true} }

func (op softmaxOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(softmaxGradOp(op), output, grad)
	return G.Nodes{dx}, err
}

// softmaxGradOp maps (y, dy) to dx for softmaxOp.
type softmaxGradOp struct {
	log bool
}

func (op softmaxGradOp) Arity() int    { return 2 }
func (op softmaxGradOp) Type() hm.Type { return sameType(2) }
func (op softmaxGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return firstShape(in)
}
func (op softmaxGradOp) String() string { return softmaxOp(op).String() + "Grad" }

func (op softmaxGradOp) Do(in ...G.Value) (G.Value, error) {
	y, ok1 := in[0].(*tensor.Dense)
	dy, ok2 := in[1].(*tensor.Dense)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%v: want dense tensors, got %T and %T", op, in[0], in[1])
	}
	out := tensor.New(tensor.WithShape(y.Shape().Clone()...), tensor.Of(y.Dtype()))
	n := lastDim(y)
	switch d := y.Data().(type) {
	case []float32:
		parallelRows(len(d)/n, func(lo, hi int) {
			softmaxGradRows(d, dy.Data().([]float32), out.Data().([]float32), n, lo, hi, op.log)
		})
	case []float64:
		parallelRows(len(d)/n, func(lo, hi int) {
			softmaxGradRows(d, dy.Data().([]float64), out.Data().([]float64), n, lo, hi, op.log)
		})
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, y.Dtype())
	}
	return out, nil
}

func lastDim(t *tensor.Dense) int {
	s := t.Shape()
	if len(s) == 0 {
		return 1
	}
	return s[len(s)-1]
}

// parallelRows splits rows into one chunk per CPU when there is enough work.
func parallelRows(rows int, f func(lo, hi int)) { parallelSplit(rows, 256, f) }

// parallelSplit runs f on one range of [0, n) per GOMAXPROCS in parallel
// when n is at least least, else on all of it at once.
func parallelSplit(n, least int, f func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || n < least {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, min(lo+chunk, n))
	}
	wg.Wait()
}

func softmaxRows[T float32 | float64](x, y []T, n, lo, hi int, log bool) {
	for r := lo; r < hi; r++ {
		xr, yr := x[r*n:(r+1)*n], y[r*n:(r+1)*n]
		m := xr[0]
		for _, v := range xr[1:] {
			if v > m {
				m = v
			}
		}
		sum := expShift(yr, xr, m)
		if log {
			ls := math.Log(sum)
			for j, v := range xr {
				yr[j] = T(float64(v-m) - ls)
			}
			continue
		}
		inv := 1 / sum
		for j := range yr {
			yr[j] = T(float64(yr[j]) * inv)
		}
	}
}

func softmaxGradRows[T float32 | float64](y, dy, dx []T, n, lo, hi int, log bool) {
	for r := lo; r < hi; r++ {
		yr, dyr, dxr := y[r*n:(r+1)*n], dy[r*n:(r+1)*n], dx[r*n:(r+1)*n]
		var s float64
		if log {
			for _, g := range dyr {
				s += float64(g)
			}
			expShift(dxr, yr, 0) // the softmax, from the log-softmax
			for j, p := range dxr {
				dxr[j] = T(float64(dyr[j]) - float64(p)*s)
			}
			continue
		}
		for j := range yr {
			s += float64(dyr[j]) * float64(yr[j])
		}
		for j := range dxr {
			dxr[j] = T(float64(yr[j]) * (float64(dyr[j]) - s))
		}
	}
}
