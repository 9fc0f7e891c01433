//go:build !openblas

package graph

func setBLASThreads(int) int { return 0 }
