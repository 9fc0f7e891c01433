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
	// RowAxis and ColAxis name what the rows and columns are ("": query
	// and key).
	RowAxis string `json:"row_axis,omitempty"`
	ColAxis string `json:"col_axis,omitempty"`
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
// and data are inline) to explore every layer and head of every view: an
// overview of all layers × heads, a single head with labelled cells, or all
// heads of a layer side by side, with cells sized to the window, a colour
// legend, the hovered tokens highlighted in every map shown, and keys (←/→
// head, ↑/↓ layer, v view, o overview). The address fragment
// (#view=2&layer=1&head=all, head=overview) selects what is shown first, so
// that a view can be linked to; keys=ArrowRight,ArrowDown replays keys and
// hover=Q,K hovers a cell after loading (for tests). A script error is recorded on the body as
// data-script-error.
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
.controls label, .keys { color: #57606a; }
select, button { font: inherit; padding: 2px 6px; }
#maps { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
table.att { border-collapse: collapse; }
table.att td { padding: 0; border: 1px solid #f0f0f0; }
table.att th { font-weight: normal; font-family: ui-monospace, monospace; white-space: nowrap; }
table.att th.col { writing-mode: vertical-rl; transform: rotate(180deg); text-align: left; padding: 4px 0; }
table.att th.row { text-align: right; padding-right: 6px; }
table.att th.on { background: #fff3b0; font-weight: 700; }
table.att td.on { outline: 2px solid #d4a000; outline-offset: -2px; }
.cap { font-weight: 600; margin-bottom: 4px; }
.axis { color: #57606a; font-size: 12px; margin-bottom: 8px; }
.overview { display: grid; gap: 6px; }
.overview .thumb { cursor: pointer; border: 2px solid #eef1f4; }
.overview .thumb:hover, .overview .thumb.sel { border-color: #d4a000; }
.overview .lab { color: #57606a; font-size: 12px; align-self: center; }
#legend { display: flex; align-items: center; gap: 8px; margin-top: 12px; font-size: 12px; color: #57606a; }
#legend .bar { width: 200px; height: 12px; border: 1px solid #d0d7de; }
#hover { min-height: 20px; margin-top: 8px; font-family: ui-monospace, monospace; }
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
  <span class="keys">keys: ←/→ head, ↑/↓ layer, v attention, o overview</span>
</div>
<div id="axes" class="axis"></div>
<div id="maps"></div>
<div id="legend"><span>weight 0</span><span class="bar"></span><span>1</span></div>
<div id="hover">hover over a cell to see its weight and its tokens in every map</div>
<script id="data" type="application/json">{{.Data}}</script>
<script>
"use strict";
window.addEventListener("error", e => document.body.setAttribute("data-script-error", String(e.message)));
const views = JSON.parse(document.getElementById("data").textContent);
const $ = id => document.getElementById(id);
const ramp = [[255,255,255],[198,219,239],[107,174,214],[33,113,181],[8,48,107],[4,20,50]];
function colour(w) {
  const t = Math.min(Math.max(w, 0), 1) * (ramp.length - 1), j = Math.min(Math.floor(t), ramp.length - 2), f = t - j;
  return "rgb(" + ramp[j].map((x, i) => Math.round(x + (ramp[j+1][i] - x) * f)).join(",") + ")";
}
document.querySelector("#legend .bar").style.background = "linear-gradient(to right, " + ramp.map(c => "rgb(" + c.join(",") + ")").join(", ") + ")";
function fill(sel, items) {
  const keep = sel.value;
  sel.innerHTML = "";
  items.forEach(([value, text]) => { const o = document.createElement("option"); o.value = value; o.textContent = text; sel.appendChild(o); });
  if ([...sel.options].some(o => o.value === keep)) sel.value = keep;
}
// cell is the side of a cell so that n maps of cols columns fit the window.
function cell(v, n) {
  const label = 8 * Math.max(...v.rows.map(r => r.length), 4) + 16;
  const room = (Math.max(window.innerWidth, 480) - 48 - 24 * (n - 1)) / n - label;
  return Math.max(6, Math.min(32, Math.floor(room / v.cols.length)));
}
function highlight(q, k) {
  document.querySelectorAll(".on").forEach(e => e.classList.remove("on"));
  if (q < 0) return;
  document.querySelectorAll('th.row[data-q="' + q + '"], th.col[data-k="' + k + '"], td[data-q="' + q + '"][data-k="' + k + '"]').forEach(e => e.classList.add("on"));
}
function table(v, rows, caption, size) {
  const box = document.createElement("div");
  const cap = document.createElement("div"); cap.className = "cap"; cap.textContent = caption; box.appendChild(cap);
  const t = document.createElement("table"); t.className = "att";
  const font = Math.max(8, Math.min(12, size * 0.75)) + "px";
  rows.forEach((r, q) => {
    const tr = t.insertRow();
    const th = document.createElement("th"); th.className = "row"; th.dataset.q = q; th.textContent = v.rows[q]; th.style.fontSize = font; tr.appendChild(th);
    r.forEach((w, k) => {
      const td = tr.insertCell(); td.style.background = colour(w); td.style.width = td.style.height = size + "px";
      td.dataset.q = q; td.dataset.k = k;
      td.title = v.rows[q] + " \u2192 " + v.cols[k] + ": " + w.toFixed(4);
      td.onmouseenter = () => { $("hover").textContent = caption + " | " + td.title; highlight(q, k); };
    });
  });
  const foot = t.insertRow(); foot.appendChild(document.createElement("th"));
  v.cols.forEach((c, k) => { const th = document.createElement("th"); th.className = "col"; th.dataset.k = k; th.textContent = c; th.style.fontSize = font; foot.appendChild(th); });
  t.onmouseleave = () => highlight(-1, -1);
  box.appendChild(t);
  return box;
}
// thumb draws one head as a small canvas for the overview.
function thumb(w, px) {
  const c = document.createElement("canvas"), n = w.length, m = w[0].length;
  const s = Math.max(1, Math.floor(px / Math.max(n, m)));
  c.width = m * s; c.height = n * s; c.className = "thumb";
  const g = c.getContext("2d");
  w.forEach((r, q) => r.forEach((x, k) => { g.fillStyle = colour(x); g.fillRect(k * s, q * s, s, s); }));
  return c;
}
function overview(v, l0) {
  const heads = v.weights[0].length, g = document.createElement("div"); g.className = "overview";
  g.style.gridTemplateColumns = "auto repeat(" + heads + ", auto)";
  const px = Math.max(24, Math.min(120, Math.floor((Math.max(window.innerWidth, 480) - 140) / heads) - 12));
  g.appendChild(document.createElement("span"));
  for (let h = 0; h < heads; h++) { const s = document.createElement("span"); s.className = "lab"; s.textContent = "head " + h; g.appendChild(s); }
  v.weights.forEach((layer, l) => {
    const s = document.createElement("span"); s.className = "lab"; s.textContent = "layer " + l; g.appendChild(s);
    layer.forEach((w, h) => {
      const c = thumb(w, px); c.title = v.name + " layer " + l + " head " + h + " (click to open)";
      if (l === l0) c.classList.add("sel");
      c.onclick = () => { $("layer").value = String(l); $("head").value = String(h); update(); };
      g.appendChild(c);
    });
  });
  const box = document.createElement("div");
  const cap = document.createElement("div"); cap.className = "cap"; cap.textContent = v.name + ": every layer and head"; box.appendChild(cap);
  box.appendChild(g);
  return box;
}
function draw() {
  const v = views[+$("view").value];
  fill($("layer"), v.weights.map((_, i) => [String(i), String(i)]));
  fill($("head"), [["overview", "overview"], ["all", "all heads"]].concat(v.weights[0].map((_, i) => [String(i), String(i)])));
  const l = +$("layer").value, h = $("head").value, maps = $("maps");
  $("axes").textContent = "rows: " + (v.row_axis || "query") + "; columns: " + (v.col_axis || "key");
  maps.innerHTML = "";
  if (h === "overview") maps.appendChild(overview(v, l));
  else if (h === "all") { const size = cell(v, v.weights[l].length); v.weights[l].forEach((rows, i) => maps.appendChild(table(v, rows, v.name + " layer " + l + " head " + i, size))); }
  else maps.appendChild(table(v, v.weights[l][+h], v.name + " layer " + l + " head " + h, cell(v, 1)));
}
function update() {
  draw();
  history.replaceState(null, "", "#view=" + $("view").value + "&layer=" + $("layer").value + "&head=" + $("head").value);
}
// step moves a select by d options (wrapping).
function step(id, d) {
  const s = $(id), n = s.options.length;
  s.selectedIndex = (s.selectedIndex + d + n) % n;
}
function key(e) {
  const heads = () => { const s = $("head"); if (s.selectedIndex < 2) s.selectedIndex = 2; };
  switch (e.key) {
  case "ArrowRight": heads(); step("head", 1); if ($("head").selectedIndex < 2) $("head").selectedIndex = 2; break;
  case "ArrowLeft": heads(); step("head", -1); if ($("head").selectedIndex < 2) $("head").selectedIndex = $("head").options.length - 1; break;
  case "ArrowDown": step("layer", 1); break;
  case "ArrowUp": step("layer", -1); break;
  case "v": step("view", 1); break;
  case "o": $("head").value = "overview"; break;
  default: return;
  }
  e.preventDefault();
  update();
}
document.addEventListener("keydown", key);
window.addEventListener("resize", draw);
fill($("view"), views.map((v, i) => [String(i), v.name]));
// The address may choose what to show first: index.html#view=2&layer=1&head=all
const want = new URLSearchParams(location.hash.slice(1));
if (want.has("view")) $("view").value = want.get("view");
draw();
["layer", "head"].forEach(id => { if (want.has(id)) { $(id).value = want.get(id); } });
draw();
["view", "layer", "head"].forEach(id => $(id).addEventListener("change", update));
(want.get("keys") || "").split(",").filter(k => k).forEach(k => document.dispatchEvent(new KeyboardEvent("keydown", {key: k})));
if (want.has("hover")) { // hover=Q,K: as if the pointer were on that cell of the first map
  const [q, k] = want.get("hover").split(",").map(Number);
  const td = document.querySelector('td[data-q="' + q + '"][data-k="' + k + '"]');
  if (td) td.onmouseenter();
}
</script>
</body>
</html>
`))
