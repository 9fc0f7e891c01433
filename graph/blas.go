package graph

// BLAS names the matrix-multiply implementation this binary was built with:
// "gonum" (pure Go, the default) or "openblas" (the openblas build tag).
var BLAS = "gonum"
