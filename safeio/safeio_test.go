package safeio

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("hello"), 0o644)
	b, err := ReadFile(small, 5, "config")
	if err != nil || string(b) != "hello" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	if _, err := ReadFile(small, 4, "config"); err == nil || !strings.Contains(err.Error(), "config of 5 bytes is larger than its limit of 4 bytes") {
		t.Errorf("over the limit: %v", err)
	}
	if _, err := ReadFile(dir, 100, "config"); err == nil || !strings.Contains(err.Error(), "config is a directory") {
		t.Errorf("directory: %v", err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o644)
	if b, err := ReadFile(empty, 10, "state"); err != nil || len(b) != 0 {
		t.Errorf("empty file: %q, %v", b, err)
	}
	// A sparse file far larger than the limit is refused before any read.
	sparse := filepath.Join(dir, "sparse")
	f, _ := os.Create(sparse)
	if err := f.Truncate(50 << 30); err != nil {
		t.Skip("no sparse files here:", err)
	}
	f.Close()
	if _, err := ReadFile(sparse, ConfigLimit, "config"); err == nil || !strings.Contains(err.Error(), "config of 50.0 GiB is larger than its limit of 1.0 MiB") {
		t.Errorf("sparse file: %v", err)
	}
	if runtime.GOOS != "windows" {
		if _, err := ReadFile("/dev/zero", ConfigLimit, "config"); err == nil || !strings.Contains(err.Error(), "/dev/zero: config is not a regular file") {
			t.Errorf("/dev/zero: %v", err)
		}
	}
	if _, err := Open(filepath.Join(dir, "none"), 1, "corpus"); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 bytes", 1023: "1023 bytes", 1024: "1.0 KiB", 3 << 29: "1.5 GiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
