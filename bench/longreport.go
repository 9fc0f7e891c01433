package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/gotransformer/transformer/safeio"
	"github.com/gotransformer/transformer/viz"
)

// ReadLong reads the JSON lines of `transformer bench-long` runs.
func ReadLong(path string) ([]LongResult, error) {
	f, err := safeio.Open(path, safeio.MetricsLimit, "bench-long results")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []LongResult
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r LongResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: not a bench-long result line: %v", path, line, strings.TrimPrefix(err.Error(), "json: "))
		}
		if err := r.check(); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// check reports a result line that lacks a field the table and the plot
// need, or whose figures cannot be drawn on log axes.
func (r LongResult) check() error {
	switch {
	case r.Attention == "":
		return fmt.Errorf("no attention field: not a bench-long result line")
	case r.SeqLen <= 0:
		return fmt.Errorf("seq_len must be positive, got %d (missing?)", r.SeqLen)
	case !(r.StepSeconds > 0) || math.IsInf(r.StepSeconds, 0):
		return fmt.Errorf("step_seconds must be a positive number, got %g (missing?)", r.StepSeconds)
	case !(r.PeakRSSMB > 0) || math.IsInf(r.PeakRSSMB, 0):
		return fmt.Errorf("peak_rss_mb must be a positive number, got %g (missing?)", r.PeakRSSMB)
	}
	return nil
}

// longSeries names a configuration: attention kind with or without
// checkpointing.
func longSeries(r LongResult) string {
	s := r.Attention
	if r.Attention == "sliding_window" {
		s = fmt.Sprintf("sliding window (w=%d)", r.Window)
	}
	if r.Chunk > 0 {
		s = fmt.Sprintf("full, chunk %d", r.Chunk)
	}
	if r.Checkpoint {
		s += " + checkpointing"
	}
	if r.Dtype != "" && r.Dtype != "float32" {
		s += ", " + r.Dtype
	}
	return s
}

// LongTable formats results as a Markdown table: one row per
// configuration, step time and peak RSS per sequence length, and the growth
// from the shortest to the longest length measured.
func LongTable(results []LongResult) string {
	lens := map[int]bool{}
	rows := map[string]map[int]LongResult{}
	var names []string
	for _, r := range results {
		name := longSeries(r)
		if rows[name] == nil {
			rows[name] = map[int]LongResult{}
			names = append(names, name)
		}
		rows[name][r.SeqLen] = r
		lens[r.SeqLen] = true
	}
	var ns []int
	for n := range lens {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	var b strings.Builder
	for _, what := range []string{"step time (s)", "peak RSS (MB)"} {
		fmt.Fprintf(&b, "| %s | ", what)
		for _, n := range ns {
			fmt.Fprintf(&b, "n=%d | ", n)
		}
		b.WriteString("growth 1024→4096 |\n|---|")
		for range ns {
			b.WriteString("---:|")
		}
		b.WriteString("---:|\n")
		for _, name := range names {
			fmt.Fprintf(&b, "| %s | ", name)
			val := func(r LongResult) float64 {
				if what == "peak RSS (MB)" {
					return r.PeakRSSMB
				}
				return r.StepSeconds
			}
			for _, n := range ns {
				if r, ok := rows[name][n]; ok {
					if what == "peak RSS (MB)" {
						fmt.Fprintf(&b, "%.0f | ", val(r))
					} else {
						fmt.Fprintf(&b, "%.2f | ", val(r))
					}
				} else {
					b.WriteString("— | ")
				}
			}
			a, ok1 := rows[name][1024]
			z, ok2 := rows[name][4096]
			if ok1 && ok2 {
				fmt.Fprintf(&b, "%.1f× |\n", val(z)/val(a))
			} else {
				b.WriteString("— |\n")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// DrawLong plots step time and peak RSS against sequence length on
// log–log axes, one line per configuration, in format "png" or "svg".
func DrawLong(results []LongResult, format string) (img []byte, err error) {
	if len(results) == 0 {
		return nil, fmt.Errorf("no results to plot")
	}
	for i, r := range results {
		if err := r.check(); err != nil {
			return nil, fmt.Errorf("result %d: %v", i+1, err)
		}
	}
	defer func() { // gonum/plot panics on ranges it cannot draw
		if e := recover(); e != nil {
			img, err = nil, fmt.Errorf("cannot draw the plot: %v", e)
		}
	}()
	seen, lens := map[string]bool{}, map[int]bool{}
	var names []string
	var ticks []plot.Tick
	for _, r := range results {
		if name := longSeries(r); !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
		if !lens[r.SeqLen] {
			lens[r.SeqLen] = true
			ticks = append(ticks, plot.Tick{Value: float64(r.SeqLen), Label: fmt.Sprint(r.SeqLen)})
		}
	}
	var plots [][]*plot.Plot
	row := []*plot.Plot{}
	for _, what := range []string{"training step time (s)", "peak RSS (MB)"} {
		p := plot.New()
		p.Title.Text = what + " against sequence length"
		p.X.Label.Text = "sequence length n"
		p.Y.Label.Text = what
		p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
		p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(ticks), plot.LogTicks{Prec: -1}
		p.Add(plotter.NewGrid())
		for j, name := range names {
			var pts plotter.XYs
			for _, r := range results {
				if longSeries(r) != name {
					continue
				}
				y := r.StepSeconds
				if what == "peak RSS (MB)" {
					y = r.PeakRSSMB
				}
				pts = append(pts, plotter.XY{X: float64(r.SeqLen), Y: y})
			}
			sort.Slice(pts, func(a, b int) bool { return pts[a].X < pts[b].X })
			l, s, err := plotter.NewLinePoints(pts)
			if err != nil {
				return nil, err
			}
			l.Color, s.Color = viz.Palette[j%len(viz.Palette)], viz.Palette[j%len(viz.Palette)]
			l.Width = vg.Points(1.5)
			if strings.Contains(name, "checkpointing") {
				l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			p.Add(l, s)
			if len(row) == 0 {
				p.Legend.Add(name, l, s)
			}
		}
		// One sequence length, or one value, is a range of width 0, which
		// a log axis cannot draw: widen it by a factor of two each way.
		for _, a := range []*plot.Axis{&p.X, &p.Y} {
			if a.Min == a.Max {
				a.Min, a.Max = a.Min/2, a.Max*2
			}
		}
		p.Legend.Top, p.Legend.Left = true, true
		row = append(row, p)
	}
	plots = append(plots, row)
	return viz.RenderPlots(plots, 12*vg.Inch, 5*vg.Inch, vg.Millimeter*10, 0, format)
}
