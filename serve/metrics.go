package serve

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
)

// latencyBounds are the upper bounds, in seconds, of the latency
// histogram's buckets; batchBounds those of the batch-size histogram.
var (
	latencyBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
	batchBounds   = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}
)

// histogram is a Prometheus histogram: cumulative bucket counts, a sum and
// a count.
type histogram struct {
	bounds []float64
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	n      uint64
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

func (h *histogram) observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v)
	h.counts[i]++
	h.sum += v
	h.n++
}

func (h *histogram) write(w io.Writer, name, labels string) {
	var c uint64
	sep := ""
	if labels != "" {
		sep = ","
	}
	for i, b := range h.bounds {
		c += h.counts[i]
		fmt.Fprintf(w, "%s_bucket{%s%sle=\"%g\"} %d\n", name, labels, sep, b, c)
	}
	c += h.counts[len(h.bounds)]
	fmt.Fprintf(w, "%s_bucket{%s%sle=\"+Inf\"} %d\n", name, labels, sep, c)
	if labels != "" {
		labels = "{" + labels + "}"
	}
	fmt.Fprintf(w, "%s_sum%s %g\n%s_count%s %d\n", name, labels, h.sum, name, labels, h.n)
}

// metrics are the server's counters, written in Prometheus's text format
// at GET /metrics.
type metrics struct {
	mu       sync.Mutex
	requests map[[2]string]uint64 // path, status → count
	latency  map[string]*histogram
	batches  map[string]*histogram // model → sentences per batch
	decode   map[string]*histogram // model → seconds per batch
}

func newMetrics() *metrics {
	return &metrics{requests: map[[2]string]uint64{}, latency: map[string]*histogram{},
		batches: map[string]*histogram{}, decode: map[string]*histogram{}}
}

func (m *metrics) request(path string, status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[2]string{path, fmt.Sprint(status)}]++
	h := m.latency[path]
	if h == nil {
		h = newHistogram(latencyBounds)
		m.latency[path] = h
	}
	h.observe(d.Seconds())
}

func (m *metrics) batch(model string, sentences int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.batches[model] == nil {
		m.batches[model], m.decode[model] = newHistogram(batchBounds), newHistogram(latencyBounds)
	}
	m.batches[model].observe(float64(sentences))
	m.decode[model].observe(d.Seconds())
}

func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintln(w, "# HELP transformer_requests_total HTTP requests by path and status.")
	fmt.Fprintln(w, "# TYPE transformer_requests_total counter")
	keys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	for _, k := range keys {
		fmt.Fprintf(w, "transformer_requests_total{path=%q,status=%q} %d\n", k[0], k[1], m.requests[k])
	}
	fmt.Fprintln(w, "# HELP transformer_request_seconds Request latency by path.")
	fmt.Fprintln(w, "# TYPE transformer_request_seconds histogram")
	for _, p := range sortedKeys(m.latency) {
		m.latency[p].write(w, "transformer_request_seconds", fmt.Sprintf("path=%q", p))
	}
	fmt.Fprintln(w, "# HELP transformer_batch_sentences Sentences per decoding batch by model.")
	fmt.Fprintln(w, "# TYPE transformer_batch_sentences histogram")
	for _, name := range sortedKeys(m.batches) {
		m.batches[name].write(w, "transformer_batch_sentences", fmt.Sprintf("model=%q", name))
	}
	fmt.Fprintln(w, "# HELP transformer_batch_seconds Decoding time per batch by model.")
	fmt.Fprintln(w, "# TYPE transformer_batch_seconds histogram")
	for _, name := range sortedKeys(m.decode) {
		m.decode[name].write(w, "transformer_batch_seconds", fmt.Sprintf("model=%q", name))
	}
}

func sortedKeys(m map[string]*histogram) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
