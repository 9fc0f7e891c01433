// Package viz draws what a model does: attention heatmaps with token
// labels (PNG or SVG, one head or a grid of heads) and a self-contained HTML
// page to explore every layer and head offline.
package viz

import (
	"bytes"
	"fmt"
	"image/color"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	_ "gonum.org/v1/plot/vg/vgimg" // PNG
	_ "gonum.org/v1/plot/vg/vgsvg" // SVG
)

// Map is one attention matrix with its labels: Weights[q][k] is how much
// query Rows[q] attends to key Cols[k]. RowAxis and ColAxis name what the
// rows and columns are ("" : "query" and "key").
type Map struct {
	Title            string
	Rows             []string
	Cols             []string
	Weights          [][]float64
	RowAxis, ColAxis string
}

// check reports a map whose labels and weights disagree.
func (m Map) check() error {
	if len(m.Weights) == 0 || len(m.Weights) != len(m.Rows) {
		return fmt.Errorf("%s: %d rows of weights for %d row labels", m.Title, len(m.Weights), len(m.Rows))
	}
	for i, r := range m.Weights {
		if len(r) != len(m.Cols) {
			return fmt.Errorf("%s: row %d has %d weights for %d column labels", m.Title, i, len(r), len(m.Cols))
		}
	}
	return nil
}

// grid adapts a Map to plotter.GridXYZ: column c is key c, and row 0 is
// drawn at the top.
type grid struct{ m Map }

func (g grid) Dims() (c, r int)   { return len(g.m.Cols), len(g.m.Rows) }
func (g grid) Z(c, r int) float64 { return g.m.Weights[len(g.m.Rows)-1-r][c] }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }
func (g grid) Min() float64       { return 0 }
func (g grid) Max() float64       { return 1 }

// ramp is a perceptually ordered white → blue → near-black palette, so
// that weight 0 is blank paper.
type ramp []color.Color

func (r ramp) Colors() []color.Color { return r }

var blues = func() ramp {
	anchors := [][3]float64{{255, 255, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}, {4, 20, 50}}
	out := make(ramp, 256)
	for i := range out {
		t := float64(i) / 255 * float64(len(anchors)-1)
		j := min(int(t), len(anchors)-2)
		f := t - float64(j)
		a, b := anchors[j], anchors[j+1]
		mix := func(k int) uint8 { return uint8(a[k] + (b[k]-a[k])*f + 0.5) }
		out[i] = color.RGBA{mix(0), mix(1), mix(2), 255}
	}
	return out
}()

// Label makes a token printable in the plot font, which lacks the
// SentencePiece word mark ▁: it becomes "_".
func Label(tok string) string { return strings.ReplaceAll(tok, "▁", "_") }

// labels returns constant ticks for the tokens; rows count from the top.
func ticks(toks []string, reverse bool) plot.ConstantTicks {
	t := make(plot.ConstantTicks, len(toks))
	for i, s := range toks {
		v := float64(i)
		if reverse {
			v = float64(len(toks) - 1 - i)
		}
		t[i] = plot.Tick{Value: v, Label: Label(s)}
	}
	return t
}

// newPlot draws one map as a plot with token labels on both axes.
func newPlot(m Map) *plot.Plot {
	p := plot.New()
	p.Title.Text = m.Title
	h := plotter.NewHeatMap(grid{m}, blues)
	h.Rasterized = false
	p.Add(h)
	p.X.Tick.Marker = ticks(m.Cols, false)
	p.Y.Tick.Marker = ticks(m.Rows, true)
	p.X.Tick.Label.Rotation = 1.5708 // 90°: long tokens do not overlap
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	// The labels name cells, not points: no tick marks through them.
	p.X.Tick.Length, p.Y.Tick.Length = 0, 0
	p.X.Label.Text, p.Y.Label.Text = "key", "query"
	if m.ColAxis != "" {
		p.X.Label.Text = m.ColAxis
	}
	if m.RowAxis != "" {
		p.Y.Label.Text = m.RowAxis
	}
	return p
}

// colourBar draws the palette from weight 0 to 1 as a labelled strip.
func colourBar() *plot.Plot {
	const steps = 64
	bar := Map{Rows: make([]string, steps), Cols: []string{""}, Weights: make([][]float64, steps)}
	for i := range bar.Weights {
		bar.Weights[i] = []float64{1 - float64(i)/(steps-1)}
	}
	p := plot.New()
	p.Title.Text = "weight"
	h := plotter.NewHeatMap(grid{bar}, blues)
	h.Rasterized = true // one image: no seams between the strips
	p.Add(h)
	p.HideX()
	var t plot.ConstantTicks
	for _, v := range []float64{0, 0.25, 0.5, 0.75, 1} {
		t = append(t, plot.Tick{Value: v * (steps - 1), Label: fmt.Sprintf("%.2f", v)})
	}
	p.Y.Tick.Marker = t
	p.Y.Padding = 0
	return p
}

// size is the side of one cell, so that labels stay readable.
func size(m Map) (w, h vg.Length) {
	cell := 0.32 * vg.Inch
	w = max(3*vg.Inch, vg.Length(len(m.Cols))*cell+1.6*vg.Inch)
	h = max(3*vg.Inch, vg.Length(len(m.Rows))*cell+1.8*vg.Inch)
	return w, h
}

// Heatmap draws one attention map and encodes it as "png" or "svg".
func Heatmap(m Map, format string) ([]byte, error) {
	return Grid([]Map{m}, 1, format)
}

// Grid draws maps (for example all heads of a layer) in a grid of cols
// columns and encodes it as "png" or "svg".
func Grid(maps []Map, cols int, format string) ([]byte, error) {
	if len(maps) == 0 {
		return nil, fmt.Errorf("no attention maps to draw")
	}
	if cols <= 0 {
		cols = 1
	}
	for _, m := range maps {
		if err := m.check(); err != nil {
			return nil, err
		}
	}
	rows := (len(maps) + cols - 1) / cols
	w, h := size(maps[0])
	barW := 1.1 * vg.Inch // the colour bar, right of the maps
	c, err := draw.NewFormattedCanvas(w*vg.Length(cols)+barW, h*vg.Length(rows), format)
	if err != nil {
		return nil, err
	}
	full := draw.New(c)
	// White background: PNG would otherwise be transparent.
	full.SetColor(color.White)
	full.Fill(full.Rectangle.Path())
	dc := draw.Crop(full, 0, -barW, 0, 0)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 3}
	for i, m := range maps {
		newPlot(m).Draw(tiles.At(dc, i%cols, i/cols))
	}
	// The bar is as tall as one map, level with the first row.
	top := full.Max.Y - vg.Millimeter*3
	bar := draw.Canvas{Canvas: full.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: full.Max.X - barW + vg.Millimeter*2, Y: max(full.Min.Y, top-min(h, 3.5*vg.Inch))},
		Max: vg.Point{X: full.Max.X - vg.Millimeter*2, Y: top}}}
	colourBar().Draw(bar)
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
