package viz

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
)

// View is one kind of attention (for example cross-attention) across all
// layers and heads: Weights[layer][head][q][k].
type View struct {
	Name    string          `json:"name"`
	Rows    []string        `json:"rows"`
	Cols    []string        `json:"cols"`
	Weights [][][][]float64 `json:"weights"`
}

// Page is everything the HTML explorer shows for one sentence.
type Page struct {
	Title       string
	Source      string
	Translation string
	Views       []View
}

func (v View) check() error {
	for l, heads := range v.Weights {
		for h, rows := range heads {
			m := Map{Title: fmt.Sprintf("%s layer %d head %d", v.Name, l, h), Rows: v.Rows, Cols: v.Cols, Weights: rows}
			if err := m.check(); err != nil {
				return err
			}
			for _, r := range rows {
				for _, w := range r {
					if math.IsNaN(w) || math.IsInf(w, 0) {
						return fmt.Errorf("%s: weight %v is not finite", m.Title, w)
					}
				}
			}
		}
	}
	return nil
}

// HTML renders a self-contained page (no network access: styles, script
// and data are inline) to explore every layer and head of every view: a
// single head with labelled cells, or all heads of a layer side by side.
// The address fragment (#view=2&layer=1&head=all) selects what is shown
// first, so that a view can be linked to.
func HTML(p Page) ([]byte, error) {
	if len(p.Views) == 0 {
		return nil, fmt.Errorf("no attention views for the page")
	}
	for _, v := range p.Views {
		if err := v.check(); err != nil {
			return nil, err
		}
	}
	// Four decimals are plenty for colour and hover text, and keep pages small.
	round := make([]View, len(p.Views))
	for i, v := range p.Views {
		round[i] = v
		round[i].Weights = make([][][][]float64, len(v.Weights))
		for l, heads := range v.Weights {
			round[i].Weights[l] = make([][][]float64, len(heads))
			for h, rows := range heads {
				round[i].Weights[l][h] = make([][]float64, len(rows))
				for q, r := range rows {
					out := make([]float64, len(r))
					for k, w := range r {
						out[k] = math.Round(w*1e4) / 1e4
					}
					round[i].Weights[l][h][q] = out
				}
			}
		}
	}
	data, err := json.Marshal(round) // escapes <, > and & for the script context
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = pageTemplate.Execute(&buf, map[string]any{"Title": p.Title, "Source": p.Source,
		"Translation": p.Translation, "Data": template.JS(data)})
	return buf.Bytes(), err
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1b1f24; }
h1 { font-size: 20px; margin: 0 0 8px; }
.sent { margin: 2px 0; } .sent b { display: inline-block; width: 90px; color: #57606a; font-weight: 600; }
.controls { margin: 16px 0; display: flex; gap: 16px; flex-wrap: wrap; align-items: center; }
.controls label { color: #57606a; }
select, button { font: inherit; padding: 2px 6px; }
#maps { display: flex; flex-wrap: wrap; gap: 24px; }
table.att { border-collapse: collapse; }
table.att td { width: 26px; height: 26px; padding: 0; border: 1px solid #f0f0f0; }
table.att.small td { width: 12px; height: 12px; }
table.att th { font-weight: normal; font-family: ui-monospace, monospace; font-size: 12px; white-space: nowrap; }
table.att th.col { writing-mode: vertical-rl; transform: rotate(180deg); text-align: left; padding: 4px 0; }
table.att th.row { text-align: right; padding-right: 6px; }
table.att.small th { font-size: 9px; }
.cap { font-weight: 600; margin-bottom: 4px; }
#hover { min-height: 20px; margin-top: 12px; font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="sent"><b>source</b>{{.Source}}</p>
<p class="sent"><b>translation</b>{{.Translation}}</p>
<div class="controls">
  <label>attention <select id="view"></select></label>
  <label>layer <select id="layer"></select></label>
  <label>head <select id="head"></select></label>
</div>
<div id="maps"></div>
<div id="hover">hover over a cell to see its weight</div>
<script id="data" type="application/json">{{.Data}}</script>
<script>
"use strict";
const views = JSON.parse(document.getElementById("data").textContent);
const $ = id => document.getElementById(id);
function fill(sel, items) {
  const keep = sel.value;
  sel.innerHTML = "";
  items.forEach(([value, text]) => { const o = document.createElement("option"); o.value = value; o.textContent = text; sel.appendChild(o); });
  if ([...sel.options].some(o => o.value === keep)) sel.value = keep;
}
function colour(w) {
  // white to deep blue
  const a = [[255,255,255],[198,219,239],[107,174,214],[33,113,181],[8,48,107]];
  const t = Math.min(Math.max(w, 0), 1) * (a.length - 1), j = Math.min(Math.floor(t), a.length - 2), f = t - j;
  const c = a[j].map((x, i) => Math.round(x + (a[j+1][i] - x) * f));
  return "rgb(" + c.join(",") + ")";
}
function table(v, rows, caption, small) {
  const box = document.createElement("div");
  const cap = document.createElement("div"); cap.className = "cap"; cap.textContent = caption; box.appendChild(cap);
  const t = document.createElement("table"); t.className = "att" + (small ? " small" : "");
  rows.forEach((r, q) => {
    const tr = t.insertRow();
    const th = document.createElement("th"); th.className = "row"; th.textContent = v.rows[q]; tr.appendChild(th);
    r.forEach((w, k) => {
      const td = tr.insertCell(); td.style.background = colour(w);
      td.title = v.rows[q] + " \u2192 " + v.cols[k] + ": " + w.toFixed(4);
      td.onmouseenter = () => { $("hover").textContent = caption + " | " + td.title; };
    });
  });
  const foot = t.insertRow(); foot.appendChild(document.createElement("th"));
  v.cols.forEach(c => { const th = document.createElement("th"); th.className = "col"; th.textContent = c; foot.appendChild(th); });
  box.appendChild(t);
  return box;
}
function draw() {
  const v = views[+$("view").value];
  fill($("layer"), v.weights.map((_, i) => [String(i), String(i)]));
  fill($("head"), [["all", "all heads"]].concat(v.weights[0].map((_, i) => [String(i), String(i)])));
  const l = +$("layer").value, h = $("head").value, maps = $("maps");
  maps.innerHTML = "";
  if (h === "all") v.weights[l].forEach((rows, i) => maps.appendChild(table(v, rows, v.name + " layer " + l + " head " + i, true)));
  else maps.appendChild(table(v, v.weights[l][+h], v.name + " layer " + l + " head " + h, false));
}
fill($("view"), views.map((v, i) => [String(i), v.name]));
// The address may choose what to show first: index.html#view=2&layer=1&head=all
const want = new URLSearchParams(location.hash.slice(1));
if (want.has("view")) $("view").value = want.get("view");
draw();
["layer", "head"].forEach(id => { if (want.has(id)) { $(id).value = want.get(id); } });
draw();
["view", "layer", "head"].forEach(id => $(id).addEventListener("change", () => {
  draw();
  location.hash = "view=" + $("view").value + "&layer=" + $("layer").value + "&head=" + $("head").value;
}));
</script>
</body>
</html>
`))
