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
