//go:build !unix

package rundir

import (
	"errors"
	"os"
	"path/filepath"
)

// Without flock, a second file created exclusively beside the lock file
// marks the run as taken; it is removed on release (a crashed run leaves
// it, and the error names it).
func tryLock(f *os.File) error {
	g, err := os.OpenFile(f.Name()+"ed", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return errors.New("locked: remove " + filepath.Base(f.Name()) + "ed if no process is training")
	}
	return g.Close()
}

func unlock(f *os.File) { os.Remove(f.Name() + "ed") }
