package main

import (
	"github.com/gotransformer/transformer/dist"
)

// worldOf returns the MPI world when a launcher (mpirun, srun) started
// this process as one rank of several, nil when it runs alone, and an
// error when it was started as a rank but built without MPI.
func worldOf() (*dist.Comm, error) {
	if !dist.Launched() {
		return nil, nil
	}
	if !dist.Enabled {
		return nil, dist.ErrNoMPI
	}
	c, err := dist.World()
	if err != nil {
		return nil, err
	}
	if c.Size() < 2 {
		return nil, c.Close()
	}
	return c, nil
}
