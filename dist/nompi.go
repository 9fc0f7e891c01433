//go:build !mpi

package dist

// Enabled reports whether this build has MPI.
const Enabled = false

// World is the MPI world of a build with the mpi tag; here it fails with
// ErrNoMPI.
func World() (*Comm, error) { return nil, ErrNoMPI }

// Comm is the MPI world; a build without MPI has none.
type Comm struct{}

// Rank is this process's rank.
func (*Comm) Rank() int { return 0 }

// Size is the number of processes.
func (*Comm) Size() int { return 1 }

// SumFloat32 sums buf over the processes.
func (*Comm) SumFloat32([]float32) error { return ErrNoMPI }

// SumFloat64 sums buf over the processes.
func (*Comm) SumFloat64([]float64) error { return ErrNoMPI }

// MinMaxUint64 returns the least and the greatest v of all processes.
func (*Comm) MinMaxUint64(v uint64) (uint64, uint64, error) { return v, v, ErrNoMPI }

// Abort ends every process of the run with status code.
func (*Comm) Abort(int) {}

// Close ends this process's part in the run.
func (*Comm) Close() error { return nil }
