// Package dist connects the processes of a data-parallel training run.
// Built with the tag mpi (and Open MPI's development files), World is
// MPI_COMM_WORLD through a thin cgo layer over MPI's C API: the
// processes mpirun or srun starts find each other, and train.Trainer sums
// gradients with MPI_Allreduce. Built without it, World reports that MPI
// is missing, and Launched tells a process started under mpirun that its
// binary cannot take part.
package dist

import (
	"errors"
	"os"
)

// ErrNoMPI is World's error in a build without the mpi tag.
var ErrNoMPI = errors.New("this transformer was built without MPI: build it with `CGO_ENABLED=1 go build -tags mpi ./cmd/transformer` (Debian: apt-get install libopenmpi-dev openmpi-bin pkg-config)")

// Launched reports whether a launcher (mpirun, mpiexec, srun) started
// this process as one of several ranks, from the environment the common
// ones set.
func Launched() bool {
	for _, v := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"} {
		if n := os.Getenv(v); n != "" && n != "1" {
			return true
		}
	}
	// A task of a Slurm job step (srun) with several tasks.
	n := os.Getenv("SLURM_NTASKS")
	return os.Getenv("SLURM_PROCID") != "" && n != "" && n != "1"
}
