//go:build linux

package sysmem

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

func limits() []Limit {
	var out []Limit
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) == nil {
		out = append(out, Limit{int64(si.Totalram) * int64(si.Unit), "RAM"})
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_AS, &rl) == nil && rl.Cur != ^uint64(0) && rl.Cur < 1<<62 {
		out = append(out, Limit{int64(rl.Cur), "ulimit -v"})
	}
	if n, ok := cgroupMax(); ok {
		out = append(out, Limit{n, "cgroup memory.max"})
	}
	return out
}

// cgroupMax reads the cgroup v2 memory.max of this process's cgroup.
func cgroupMax() (int64, bool) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		path, ok := strings.CutPrefix(sc.Text(), "0::")
		if !ok {
			continue
		}
		b, err := os.ReadFile("/sys/fs/cgroup" + path + "/memory.max")
		if err != nil {
			return 0, false
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return n, err == nil && n > 0
	}
	return 0, false
}

// Resident is the memory this process holds in RAM now (VmRSS of
// /proc/self/status), in bytes; ok is false where it cannot be read.
func Resident() (bytes int64, ok bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, found := strings.CutPrefix(s.Text(), "VmRSS:"); found {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}
