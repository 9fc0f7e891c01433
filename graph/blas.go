package graph

// BLAS names the matrix-multiply implementation this binary was built with:
// "gonum" (pure Go, the default) or "openblas" (the openblas build tag).
var BLAS = "gonum"

// SetBLASThreads sets the number of threads of OpenBLAS and returns the
// previous number; callers that run many small products from goroutines of
// their own set 1 and restore the old value after. The pure-Go build's
// products need no setting: it returns 0 and does nothing.
func SetBLASThreads(n int) (previous int) { return setBLASThreads(n) }
