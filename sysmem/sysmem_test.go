package sysmem

import (
	"runtime"
	"testing"
)

func TestAvailable(t *testing.T) {
	l := Available()
	if runtime.GOOS == "linux" && (l.Bytes < 64<<20 || l.Source == "") {
		t.Fatalf("Available() = %+v on Linux, want the RAM or a lower limit", l)
	}
	if l.Bytes > 0 && l.String() == "unknown" {
		t.Errorf("String() = %q", l.String())
	}
	if (Limit{}).String() != "unknown" {
		t.Errorf("zero Limit reads %q", Limit{}.String())
	}
}

func TestResident(t *testing.T) {
	n, ok := Resident()
	if !ok {
		t.Skip("no /proc/self/status here")
	}
	if n < 1<<20 || n > 1<<40 {
		t.Errorf("resident %d bytes", n)
	}
	big := make([]byte, 64<<20)
	for i := range big {
		big[i] = 1
	}
	m, _ := Resident()
	if m-n < 60<<20 {
		t.Errorf("touching 64 MiB raised the resident memory from %d to %d", n, m)
	}
	_ = big[len(big)-1]
}
