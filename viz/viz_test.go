package viz

import (
	"bytes"
	"encoding/json"
	"image/png"
	"math"
	"regexp"
	"strings"
	"testing"
)

func diag(n int) Map {
	m := Map{Title: "test", Rows: make([]string, n), Cols: make([]string, n), Weights: make([][]float64, n)}
	for i := range n {
		m.Rows[i], m.Cols[i] = "▁tok"+string(rune('a'+i)), "k"+string(rune('a'+i))
		m.Weights[i] = make([]float64, n)
		m.Weights[i][i] = 1
	}
	return m
}

func TestHeatmapPNG(t *testing.T) {
	b, err := Heatmap(diag(5), "png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// The dark diagonal and the white background are both there.
	var dark, white int
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, b, a := img.At(x, y).RGBA()
			switch {
			case a>>8 == 255 && r>>8 < 20 && g>>8 < 40 && b>>8 < 80:
				dark++
			case r>>8 == 255 && g>>8 == 255 && b>>8 == 255:
				white++
			}
		}
	}
	if dark < 500 || white < bd.Dx()*bd.Dy()/3 {
		t.Errorf("%d dark and %d white pixels of %d", dark, white, bd.Dx()*bd.Dy())
	}
}

func TestHeatmapSVGLabels(t *testing.T) {
	b, err := Heatmap(diag(3), "svg")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"_toka", "_tokc", "kb", "test", "query", "key"} {
		if !strings.Contains(s, want) {
			t.Errorf("SVG lacks label %q", want)
		}
	}
	if strings.Contains(s, "▁") {
		t.Error("the ▁ mark, which the plot font lacks, was not replaced")
	}
}

func TestGrid(t *testing.T) {
	maps := []Map{diag(4), diag(4), diag(4)}
	one, err := Heatmap(maps[0], "png")
	if err != nil {
		t.Fatal(err)
	}
	grid, err := Grid(maps, 2, "png")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := png.DecodeConfig(bytes.NewReader(one))
	g, _ := png.DecodeConfig(bytes.NewReader(grid))
	bar := 106                                                                  // the colour bar: 1.1 inch at 96 dpi
	if abs(g.Width-(2*(a.Width-bar)+bar)) > 2 || abs(g.Height-2*a.Height) > 1 { // rounding to pixels
		t.Errorf("2×2 grid is %dx%d, one map %dx%d with a bar of %d", g.Width, g.Height, a.Width, a.Height, bar)
	}
	bad := diag(3)
	bad.Rows = bad.Rows[:2]
	if _, err := Grid([]Map{bad}, 1, "png"); err == nil || !strings.Contains(err.Error(), "3 rows of weights for 2 row labels") {
		t.Errorf("mismatched labels: %v", err)
	}
	if _, err := Grid(nil, 1, "png"); err == nil {
		t.Error("no error for no maps")
	}
	if _, err := Heatmap(diag(2), "gif"); err == nil {
		t.Error("no error for an unknown format")
	}
}

func TestHTML(t *testing.T) {
	d := diag(3)
	d.Cols[1] = "</script><script>alert(1)</script>"
	v := View{Name: "cross-attention", Rows: d.Rows, Cols: d.Cols, Weights: [][][][]float64{{d.Weights, d.Weights}}}
	b, err := HTML(Page{Title: "Attention: a <b>", Source: "a <b>", Translation: "x", Views: []View{v}})
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if strings.Count(s, "<script") != 2 || strings.Contains(s, "alert(1)</script>") {
		t.Error("a token closed the script element")
	}
	for _, bad := range []string{"http://", "https://", "src=", "<link"} {
		if strings.Contains(s, bad) {
			t.Errorf("page loads from the network: %q", bad)
		}
	}
	if !strings.Contains(s, "a &lt;b&gt;") {
		t.Error("title not escaped")
	}
	// The embedded data decodes back to the views.
	m := regexp.MustCompile(`(?s)<script id="data" type="application/json">(.*?)</script>`).FindStringSubmatch(s)
	if m == nil {
		t.Fatal("no data element")
	}
	var got []View
	if err := json.Unmarshal([]byte(m[1]), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Cols[1] != d.Cols[1] || len(got[0].Weights[0]) != 2 || got[0].Weights[0][1][2][2] != 1 {
		t.Errorf("data round trip: %+v", got)
	}
	v.Weights[0][0][0][0] = math.Inf(1)
	if _, err := HTML(Page{Views: []View{v}}); err == nil {
		t.Error("no error for a non-finite weight")
	}
	if _, err := HTML(Page{}); err == nil {
		t.Error("no error for no views")
	}
}

func abs(x int) int { return max(x, -x) }

// A heatmap has a colour bar from 0 to 1 and names its axes as its map
// says (issue 20: no colour scale; decoder rows called "query").
func TestHeatmapHasColourBarAndAxisNames(t *testing.T) {
	m := diag(3)
	m.RowAxis, m.ColAxis = "output position (the token it predicts)", "source token"
	svg, err := Heatmap(m, "svg")
	if err != nil {
		t.Fatal(err)
	}
	s := string(svg)
	for _, want := range []string{">weight<", ">0.00<", ">0.50<", ">1.00<", ">output position (the token it predicts)<", ">source token<"} {
		if !strings.Contains(s, want) {
			t.Errorf("the SVG lacks %q", want)
		}
	}
	d, _ := Heatmap(diag(3), "svg")
	if !strings.Contains(string(d), ">query<") || !strings.Contains(string(d), ">key<") {
		t.Error("without axis names the axes are not query and key")
	}
}
