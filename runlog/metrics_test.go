package runlog

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func writeMetrics(t *testing.T, lines ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, MetricsFile), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRecordRoundTrip(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	want := Record{Kind: "valid", Step: 250, Epoch: 3, Time: at, Values: map[string]float64{"loss": 1.25, "exact_match": 0.5}}
	if err := Append(dir, want); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, MetricsFile))
	if got := string(b); got != `{"epoch":3,"exact_match":0.5,"kind":"valid","loss":1.25,"step":250,"time":"2026-11-21T10:00:00Z"}`+"\n" {
		t.Errorf("line %s", got)
	}
	recs, err := Read(dir)
	if err != nil || len(recs) != 1 {
		t.Fatal(recs, err)
	}
	r := recs[0]
	if r.Kind != want.Kind || r.Step != want.Step || r.Epoch != want.Epoch || !r.Time.Equal(at) ||
		r.Values["loss"] != 1.25 || r.Values["exact_match"] != 0.5 || len(r.Values) != 2 {
		t.Errorf("got %+v", r)
	}
}

// A run killed after logging step 30 and resumed from its checkpoint at
// step 20 logs steps 21… again: the later records win.
func TestReadMetricsAfterResume(t *testing.T) {
	dir := writeMetrics(t,
		`{"kind":"train","step":10,"loss":3}`,
		`{"kind":"valid","step":20,"loss":2.5}`,
		`{"kind":"train","step":20,"loss":2.8}`,
		`{"kind":"train","step":30,"loss":2.6}`,
		`{"kind":"train","step":25,"loss":2.7}`, // resumed at 20
		`{"kind":"train","step":30,"loss":2.65}`,
		`{"kind":"valid","step":30,"loss":2.4}`,
		`{"kind":"train","step":40,"lo`) // torn by a kill
	recs, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Kind+":"+strconv.FormatFloat(r.Values["loss"], 'g', -1, 64))
	}
	want := "train:3 valid:2.5 train:2.8 train:2.7 train:2.65 valid:2.4"
	if strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

func TestReadMetricsBadLine(t *testing.T) {
	dir := writeMetrics(t, `{"kind":"train","step":10}`, `not json`, `{"kind":"train","step":20}`)
	_, err := Read(dir)
	if err == nil || !strings.Contains(err.Error(), MetricsFile+":2:") {
		t.Errorf("got %v, want an error naming line 2", err)
	}
	if _, err := Read(t.TempDir()); err == nil {
		t.Error("no error for a run without metrics")
	}
}

func TestDrawCurves(t *testing.T) {
	var a, b []Record
	for s := 10; s <= 200; s += 10 {
		a = append(a, Record{Kind: "train", Step: s, Values: map[string]float64{"loss": 5 / float64(s), "lr": 1e-3}})
		b = append(b, Record{Kind: "train", Step: s, Values: map[string]float64{"loss": 6 / float64(s), "lr": 2e-3}})
		if s%50 == 0 {
			a = append(a, Record{Kind: "valid", Step: s, Values: map[string]float64{"loss": 4 / float64(s), "exact_match": float64(s) / 200}})
		}
	}
	runs := []Curves{{Name: "run-a", Records: a}, {Name: "run-b", Records: b}}
	pngBytes, err := DrawCurves(runs, "png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		t.Fatal(err)
	}
	// Both runs' colours are drawn.
	seen := map[[3]uint32]int{}
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, b >> 8}]++
		}
	}
	for i := range 2 {
		r, g, b, _ := palette[i].RGBA()
		if seen[[3]uint32{r >> 8, g >> 8, b >> 8}] < 50 {
			t.Errorf("run %d's colour is (almost) absent from the picture", i)
		}
	}
	svg, err := DrawCurves(runs, "svg")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "run-a", "run-b", "validation exact match", "learning rate"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if _, err := DrawCurves(nil, "png"); err == nil {
		t.Error("no error for no runs")
	}
}
