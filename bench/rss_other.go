//go:build !unix

package bench

// peakRSSMB is 0 where the platform reports no peak resident set size.
func peakRSSMB() float64 { return 0 }
