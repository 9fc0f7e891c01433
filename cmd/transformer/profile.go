package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/gotransformer/transformer/rundir"
)

// startCPUProfile starts a CPU profile written to path and returns the
// function that stops it; with an empty path it does nothing.
func startCPUProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	if err := rundir.CheckOutputFile(path); err != nil {
		return nil, fmt.Errorf("--cpuprofile %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("writing the CPU profile %s: %w", path, err)
		}
		return nil
	}, nil
}
