package viz

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHTMLInChromium loads the page in headless Chromium with the network
// off and checks that its script drew the chosen maps. It skips when
// Chromium is not installed (.ci/run installs it).
func TestHTMLInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (apt-get install chromium); the page's script is not exercised")
	}
	d := diag(3)
	v := View{Name: "cross-attention", Rows: d.Rows, Cols: d.Cols, Weights: [][][][]float64{{d.Weights, d.Weights}, {d.Weights, d.Weights}}}
	page, err := HTML(Page{Title: "t", Source: "s", Translation: "x", Views: []View{v, v}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "index.html")
	if err := os.WriteFile(path, page, 0o644); err != nil {
		t.Fatal(err)
	}
	dump := func(fragment string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir="+filepath.Join(dir, "profile"), "--dump-dom", "file://"+path+fragment)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium: %v", err)
		}
		return string(out)
	}
	// One head: 3×3 cells; all heads of a layer: 2 tables of 3×3.
	one := dump("#view=1&layer=1&head=0")
	if n := strings.Count(one, "<td "); n != 9 {
		t.Errorf("one head drew %d cells, want 9", n)
	}
	if !strings.Contains(one, "cross-attention layer 1 head 0") {
		t.Error("the fragment did not choose layer 1, head 0")
	}
	all := dump("#head=all")
	if n := strings.Count(all, "<td "); n != 18 {
		t.Errorf("all heads drew %d cells, want 18", n)
	}
	if !strings.Contains(all, `title="▁toka → ka: 1.0000"`) {
		t.Error("cells lack their hover text")
	}
}
