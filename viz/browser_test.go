package viz

import (
	"bytes"
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
	v := View{Name: "cross-attention", Rows: d.Rows, Cols: d.Cols, Weights: [][][][]float64{{d.Weights, d.Weights}, {d.Weights, d.Weights}},
		RowAxis: "output position", ColAxis: "source token"}
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
	// The detector of script errors works: the page's own listener, then a
	// call that fails.
	listener := page[bytes.Index(page, []byte("window.addEventListener(\"error\"")):]
	listener = listener[:bytes.IndexByte(listener, '\n')]
	broken := filepath.Join(dir, "broken.html")
	os.WriteFile(broken, []byte("<html><body><script>"+string(listener)+"\nnoSuchFunction();</script></body></html>"), 0o644)
	path, good := broken, path
	if b := dump(""); !strings.Contains(b, `data-script-error="`) {
		t.Errorf("a failing script left no data-script-error: %s", b)
	}
	path = good
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
	// The overview: layers × heads thumbnails; the legend; the axis names;
	// keys move through heads and layers; no script error anywhere.
	over := dump("#view=1&layer=0&head=overview")
	if n := strings.Count(over, `class="thumb`); n != 4 {
		t.Errorf("the overview drew %d thumbnails, want 2 layers × 2 heads", n)
	}
	if !strings.Contains(over, "every layer and head") || !strings.Contains(over, `class="bar" style="background: linear-gradient`) {
		t.Error("the overview or the legend is missing")
	}
	keys := dump("#view=1&layer=0&head=0&keys=ArrowRight,ArrowDown")
	if !strings.Contains(keys, "cross-attention layer 1 head 1") || !strings.Contains(keys, "rows: output position; columns: source token") {
		t.Error("→ and ↓ did not move to layer 1, head 1, or the axes are not named")
	}
	// Hovering a cell highlights its two tokens in every map shown.
	hover := dump("#view=1&layer=0&head=all&hover=1,2")
	if n := strings.Count(hover, `class="row on"`); n != 2 {
		t.Errorf("hovering row 1 highlighted %d row labels, want one in each of the 2 maps", n)
	}
	if n := strings.Count(hover, `class="col on"`); n != 2 {
		t.Errorf("hovering column 2 highlighted %d column labels, want 2", n)
	}
	for name, page := range map[string]string{"one": one, "all": all, "overview": over, "keys": keys, "hover": hover} {
		if i := strings.Index(page, `data-script-error="`); i >= 0 {
			t.Errorf("%s: the page's script failed: %s", name, page[i:min(i+200, len(page))])
		}
	}
}
