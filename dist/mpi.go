//go:build mpi

package dist

/*
#cgo pkg-config: ompi-c
#include <mpi.h>
#include <stdint.h>

static int tf_init(void) {
	int provided;
	return MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
}
static int tf_rank(void) { int r; MPI_Comm_rank(MPI_COMM_WORLD, &r); return r; }
static int tf_size(void) { int s; MPI_Comm_size(MPI_COMM_WORLD, &s); return s; }
static int tf_sum_f32(float *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static int tf_sum_f64(double *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
static int tf_minmax_u64(uint64_t v, uint64_t *lo, uint64_t *hi) {
	int e = MPI_Allreduce(&v, lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
	if (e != MPI_SUCCESS) return e;
	return MPI_Allreduce(&v, hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
}
static void tf_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
static int tf_finalize(void) { return MPI_Finalize(); }
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// Enabled reports whether this build has MPI.
const Enabled = true

// Comm is MPI_COMM_WORLD. MPI is initialised with MPI_THREAD_FUNNELED, so
// every call is made from the goroutine that called World, locked to its
// thread; training calls Comm from that goroutine only.
type Comm struct {
	rank, size int
	closed     bool
}

var (
	once    sync.Once
	world   *Comm
	initErr error
)

// World initialises MPI (once) and returns its world.
func World() (*Comm, error) {
	once.Do(func() {
		runtime.LockOSThread()
		if e := C.tf_init(); e != C.MPI_SUCCESS {
			initErr = fmt.Errorf("MPI_Init_thread failed with error %d", int(e))
			return
		}
		world = &Comm{rank: int(C.tf_rank()), size: int(C.tf_size())}
	})
	return world, initErr
}

// Rank is this process's rank in [0, Size).
func (c *Comm) Rank() int { return c.rank }

// Size is the number of processes.
func (c *Comm) Size() int { return c.size }

func check(what string, e C.int) error {
	if e != C.MPI_SUCCESS {
		return fmt.Errorf("%s failed with MPI error %d", what, int(e))
	}
	return nil
}

// SumFloat32 replaces buf by its element-wise sum over the processes
// (MPI_Allreduce, MPI_SUM).
func (c *Comm) SumFloat32(buf []float32) error {
	if len(buf) == 0 {
		return nil
	}
	return check("MPI_Allreduce", C.tf_sum_f32((*C.float)(unsafe.Pointer(&buf[0])), C.int(len(buf))))
}

// SumFloat64 replaces buf by its element-wise sum over the processes.
func (c *Comm) SumFloat64(buf []float64) error {
	if len(buf) == 0 {
		return nil
	}
	return check("MPI_Allreduce", C.tf_sum_f64((*C.double)(unsafe.Pointer(&buf[0])), C.int(len(buf))))
}

// MinMaxUint64 returns the least and the greatest v of all processes.
func (c *Comm) MinMaxUint64(v uint64) (uint64, uint64, error) {
	var lo, hi C.uint64_t
	err := check("MPI_Allreduce", C.tf_minmax_u64(C.uint64_t(v), &lo, &hi))
	return uint64(lo), uint64(hi), err
}

// Abort ends every process of the run with status code (MPI_Abort): a
// process that fails must not leave the others waiting in a collective.
func (c *Comm) Abort(code int) { C.tf_abort(C.int(code)) }

// Close finalises MPI; call it once, after the last collective call.
func (c *Comm) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	return check("MPI_Finalize", C.tf_finalize())
}
