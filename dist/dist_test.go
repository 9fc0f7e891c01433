package dist

import "testing"

// A process started by mpirun (or srun, or Intel MPI's launcher) as one of
// several ranks knows it; a single rank or no launcher is alone.
func TestLaunched(t *testing.T) {
	for _, v := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS", "SLURM_PROCID", "SLURM_NTASKS"} {
		t.Setenv(v, "")
	}
	if Launched() {
		t.Error("launched with no launcher's variables")
	}
	for _, c := range []struct {
		key, value string
		want       bool
	}{{"OMPI_COMM_WORLD_SIZE", "2", true}, {"OMPI_COMM_WORLD_SIZE", "1", false}, {"PMI_SIZE", "4", true}, {"PMIX_SIZE", "8", true}, {"SLURM_NTASKS", "4", false}} {
		t.Run(c.key+"="+c.value, func(t *testing.T) {
			t.Setenv(c.key, c.value)
			if got := Launched(); got != c.want {
				t.Errorf("Launched() = %v, want %v", got, c.want)
			}
		})
	}
	t.Setenv("SLURM_PROCID", "0")
	t.Setenv("SLURM_NTASKS", "4")
	if !Launched() {
		t.Error("a task of a 4-task srun step is not launched")
	}
}

// Without the mpi tag World fails with ErrNoMPI, which says how to build
// with MPI; with it, a process not started by a launcher is a world of one.
func TestWorld(t *testing.T) {
	c, err := World()
	if !Enabled {
		if err != ErrNoMPI {
			t.Fatalf("World() error %v, want ErrNoMPI", err)
		}
		return
	}
	if err != nil || c.Size() != 1 || c.Rank() != 0 {
		t.Fatalf("World() = %+v, %v; want a world of one", c, err)
	}
	buf := []float64{1.5, -2}
	if err := c.SumFloat64(buf); err != nil || buf[0] != 1.5 || buf[1] != -2 {
		t.Errorf("sum over one process: %v, %v", buf, err)
	}
	if lo, hi, err := c.MinMaxUint64(7); lo != 7 || hi != 7 || err != nil {
		t.Errorf("min/max over one process: %d %d %v", lo, hi, err)
	}
}
