package rundir

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// lockFile in a run directory is held by the process training the run.
const lockFile = ".lock"

// Lock is a held lock on a run directory.
type Lock struct{ f *os.File }

// LockRun takes the run directory's lock, or says which process holds it.
// The lock is the operating system's (flock on Unix), so it is released
// when the process ends, however it ends.
func LockRun(dir string) (*Lock, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	if err := tryLock(f); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		pid := strings.TrimSpace(string(b[:n]))
		if _, perr := strconv.Atoi(pid); perr != nil {
			pid = "unknown"
		}
		return nil, fmt.Errorf("%s is in use by another transformer process (pid %s): wait for it to finish or stop it", dir, pid)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &Lock{f}, nil
}

// Release gives the lock up.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	unlock(l.f)
	l.f.Close()
	l.f = nil
}
