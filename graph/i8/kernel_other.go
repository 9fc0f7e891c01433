//go:build !amd64 || purego

package i8

// archKernels is empty: only the scalar kernel here.
func archKernels() []kernel { return nil }
