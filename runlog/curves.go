package runlog

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gotransformer/transformer/viz"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	_ "gonum.org/v1/plot/vg/vgimg" // PNG
	_ "gonum.org/v1/plot/vg/vgsvg" // SVG

	"github.com/gotransformer/transformer/model"
)

// CurvesFile is the base name of a run's learning-curve pictures:
// curves.png and curves.svg, redrawn at each validation.
const CurvesFile = "curves"

// Curves is one run's metrics, labelled for a legend. Metric names the
// validation metric to draw (the run's training.best_metric); "" picks one
// from the records.
type Curves struct {
	Name    string
	Records []Record
	Metric  string
}

// panel is one chart of the learning-curve grid.
type panel struct {
	title, kind, key, yLabel string
}

var panels = []panel{
	{"training loss", "train", "loss", "loss"},
	{"validation loss", "valid", "loss", "loss"},
	{"validation metric", "valid", "", ""}, // the key is chosen from the data
	{"learning rate", "train", "lr", "learning rate"},
}

// validMetric picks the validation metric to draw: the first run's
// Metric when some run logged it, else the first of bleu, exact_match,
// accuracy and token_accuracy that one did.
func validMetric(runs []Curves) string {
	var keys []string
	if runs[0].Metric != "" {
		keys = append(keys, runs[0].Metric)
	}
	for _, k := range append(keys, "bleu", "exact_match", "accuracy", "token_accuracy") {
		for _, r := range runs {
			for _, rec := range r.Records {
				if _, ok := rec.Values[k]; ok && rec.Kind == "valid" {
					return k
				}
			}
		}
	}
	return "token_accuracy"
}

// palette is the line colours of every plot (viz.Palette).
var palette = viz.Palette

// DrawCurves draws the runs' learning curves as a 2×2 grid (training
// loss, validation loss, the headline validation metric, learning rate)
// against the optimizer step, one line per run, and encodes it in format
// "png" or "svg".
func DrawCurves(runs []Curves, format string) ([]byte, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("no runs to plot")
	}
	metric := validMetric(runs)
	plots := make([][]*plot.Plot, 2)
	for i, pn := range panels {
		if pn.key == "" {
			pn.key, pn.title, pn.yLabel = metric, "validation "+metricTitle(metric), metricTitle(metric)
		}
		p := plot.New()
		p.Title.Text = pn.title
		p.X.Label.Text = "step"
		p.X.Tick.Marker = stepTicks{}
		p.Y.Label.Text = pn.yLabel
		p.Add(plotter.NewGrid())
		for j, run := range runs {
			pts := series(run.Records, pn.kind, pn.key)
			if len(pts) == 0 {
				continue
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return nil, err
			}
			l.Color = palette[j%len(palette)]
			l.Width = vg.Points(1.5)
			p.Add(l)
			if pn.kind == "valid" {
				s, err := plotter.NewScatter(pts)
				if err != nil {
					return nil, err
				}
				s.Color, s.Shape, s.Radius = l.Color, draw.CircleGlyph{}, vg.Points(2)
				p.Add(s)
			}
			if i == 0 { // one legend, where the loss has fallen away from the corner
				p.Legend.Add(run.Name, l)
			}
		}
		p.Legend.Top = true
		plots[i/2] = append(plots[i/2], p)
	}
	return viz.RenderPlots(plots, 10*vg.Inch, 7*vg.Inch, vg.Millimeter*8, vg.Millimeter*8, format)
}

// stepTicks labels the step axis with whole steps ("250", not "250.00"),
// dropping the major ticks that fall between two steps.
type stepTicks struct{}

// Ticks implements plot.Ticker.
func (stepTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(lo, hi) {
		if t.Label != "" {
			if t.Value != math.Trunc(t.Value) {
				continue
			}
			t.Label = strconv.FormatInt(int64(t.Value), 10)
		}
		out = append(out, t)
	}
	return out
}

func metricTitle(k string) string {
	switch k {
	case "bleu":
		return "BLEU"
	case "chrf":
		return "chrF"
	}
	return strings.ReplaceAll(k, "_", " ")
}

// series is the (step, value) points of one kind and key, finite only.
func series(recs []Record, kind, key string) plotter.XYs {
	var pts plotter.XYs
	for _, r := range recs {
		v, ok := r.Values[key]
		if r.Kind == kind && ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			pts = append(pts, plotter.XY{X: float64(r.Step), Y: v})
		}
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].X < pts[j].X })
	return pts
}

// PlotRuns reads the metrics of each run directory and writes the
// overlaid learning curves, with validation metric (""; one the runs
// logged), to base.png and base.svg; runs are labelled by their directory
// names.
func PlotRuns(dirs []string, base, metric string) error {
	var runs []Curves
	for _, d := range dirs {
		recs, err := Read(d)
		if err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
		runs = append(runs, Curves{Name: filepath.Base(filepath.Clean(d)), Records: recs, Metric: metric})
	}
	return WriteCurves(runs, base)
}

// WriteCurves draws runs (DrawCurves) to base.png and base.svg.
func WriteCurves(runs []Curves, base string) error {
	for _, format := range []string{"png", "svg"} {
		b, err := DrawCurves(runs, format)
		if err != nil {
			return err
		}
		if err := model.WriteFileAtomic(base+"."+format, b); err != nil {
			return err
		}
	}
	return nil
}
