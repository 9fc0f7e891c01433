package graph

// BLAS names the matrix-multiply implementation in use: "go-avx2" (the
// pure-Go build with package f32's AVX2/FMA kernel), "gonum" (the pure-Go
// build on processors without AVX2 and FMA, or with the purego tag) or
// "openblas" (the openblas build tag).
var BLAS = "gonum"

// SetBLASThreads sets the number of threads of OpenBLAS and returns the
// previous number; callers that run many small products from goroutines of
// their own set 1 and restore the old value after. The pure-Go build's
// products need no setting: it returns 0 and does nothing.
func SetBLASThreads(n int) (previous int) { return setBLASThreads(n) }
