package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotransformer/transformer/inference"
)

// fake translates s to "T(s)" and records each batch it was given; delay
// makes each batch take that long (or until ctx ends).
type fake struct {
	mu      sync.Mutex
	batches []fakeBatch
	delay   time.Duration
	release chan struct{} // if not nil, each batch waits for a value
	fail    error         // if not nil, every batch fails with it
}

type fakeBatch struct {
	sentences []string
	opt       inference.Options
}

func (f *fake) Translate(ctx context.Context, sentences []string, opt inference.Options) ([]inference.Result, error) {
	f.mu.Lock()
	f.batches = append(f.batches, fakeBatch{append([]string(nil), sentences...), opt})
	delay, fail := f.delay, f.fail
	f.mu.Unlock()
	if fail != nil {
		return nil, fail
	}
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	out := make([]inference.Result, len(sentences))
	for i, s := range sentences {
		out[i] = inference.Result{Text: "T(" + s + ")"}
		if opt.Beam > 1 {
			out[i].Score = -1
			for k := 0; k < max(opt.NBest, 1) && opt.NBest > 1; k++ {
				out[i].NBest = append(out[i].NBest, inference.Hypothesis{Text: fmt.Sprintf("T%d(%s)", k, s), Score: -float64(k + 1)})
			}
		}
	}
	return out, nil
}

func (f *fake) SourceTokens(s string) int { return len(strings.Fields(s)) }

func (f *fake) batchCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.batches)
}

func newTestServer(t *testing.T, lim Limits, f *fake, names ...string) *Server {
	t.Helper()
	s, err := New(lim, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		names = []string{"numbers"}
	}
	for _, n := range names {
		if err := s.Add(Info{Name: n, MaxTokens: 10, Beam: 1}, f); err != nil {
			t.Fatal(err)
		}
	}
	s.SetReady()
	t.Cleanup(s.Close)
	return s
}

func post(t *testing.T, h http.Handler, body string) (int, http.Header, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/translate", strings.NewReader(body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("%q: reply is not JSON: %q", body, w.Body.String())
	}
	return w.Code, w.Header(), m
}

func TestTranslateReplies(t *testing.T) {
	f := &fake{}
	h := newTestServer(t, Limits{}, f).Handler()
	code, _, m := post(t, h, `{"sentences": ["one", "two three"]}`)
	if code != 200 {
		t.Fatalf("status %d: %v", code, m)
	}
	b, _ := json.Marshal(m)
	if want := `{"model":"numbers","translations":[{"text":"T(one)"},{"text":"T(two three)"}]}`; string(b) != want {
		t.Errorf("reply %s, want %s", b, want)
	}
	code, _, m = post(t, h, `{"sentences": ["one"], "beam": 4, "nbest": 2, "length_penalty": 0}`)
	b, _ = json.Marshal(m)
	if want := `{"model":"numbers","translations":[{"nbest":[{"score":-1,"text":"T0(one)"},{"score":-2,"text":"T1(one)"}],"score":-1,"text":"T(one)"}]}`; code != 200 || string(b) != want {
		t.Errorf("beam reply %d %s, want %s", code, b, want)
	}
	last := f.batches[len(f.batches)-1].opt
	if last.Beam != 4 || last.NBest != 2 || last.LengthPenalty != -1 || last.MaxInputTokens != 10 {
		t.Errorf("decoding options %+v: want beam 4, nbest 2, α 0 (-1 for inference), max tokens 10", last)
	}
}

// Every bad request gets a 4xx JSON error naming the field at fault.
func TestBadRequests(t *testing.T) {
	h := newTestServer(t, Limits{}, &fake{}).Handler()
	many := `{"sentences": [` + strings.Repeat(`"a",`, 9999) + `"a"]}`
	cases := []struct {
		name, body string
		status     int
		field, msg string
	}{
		{"malformed JSON", `{"sentences": [`, 400, "", "malformed JSON"},
		{"not an object", `[1, 2]`, 400, "", "must be a JSON object"},
		{"wrong type", `{"sentences": "one"}`, 400, "sentences", "must be an array of strings"},
		{"wrong element type", `{"sentences": [1]}`, 400, "sentences", "must be a string"},
		{"beam as a string", `{"sentences": ["a"], "beam": "5"}`, 400, "beam", "must be an integer"},
		{"fractional beam", `{"sentences": ["a"], "beam": 2.5}`, 400, "beam", "must be an integer"},
		{"unknown field", `{"sentences": ["a"], "temperature": 1}`, 400, "temperature", "unknown field"},
		{"empty body", ``, 400, "", "the body is empty"},
		{"trailing data", `{"sentences": ["a"]} {}`, 400, "", "trailing data"},
		{"no sentences", `{"sentences": []}`, 400, "sentences", "at least one"},
		{"null sentences", `{"sentences": null}`, 400, "sentences", "at least one"},
		{"length penalty beyond float64", `{"sentences": ["a"], "length_penalty": 1e309}`, 400, "length_penalty", "must be a number"},
		{"huge length penalty", `{"sentences": ["a"], "length_penalty": 1e300}`, 400, "length_penalty", "from 0 to 10"},
		{"10,000 sentences", many, 400, "sentences", "more than the 64"},
		{"a 1 MB sentence", `{"sentences": ["` + strings.Repeat("a", 1000000) + `"]}`, 400, "sentences[0]", "more than the 4096"},
		{"3 MB body", `{"sentences": ["` + strings.Repeat("a", 3<<20) + `"]}`, 413, "", "larger than 1048576 bytes"},
		{"too many tokens", `{"sentences": ["a", "` + strings.Repeat("w ", 11) + `"]}`, 400, "sentences[1]", "11 tokens, more than the 10"},
		{"huge beam", `{"sentences": ["a"], "beam": 1000000}`, 400, "beam", "at most 16"},
		{"negative beam", `{"sentences": ["a"], "beam": -1}`, 400, "beam", "positive"},
		{"nbest above beam", `{"sentences": ["a"], "beam": 2, "nbest": 3}`, 400, "nbest", "beam of at least 3"},
		{"nbest above the default beam", `{"sentences": ["a"], "nbest": 3}`, 400, "nbest", "give beam"},
		{"negative length penalty", `{"sentences": ["a"], "length_penalty": -1}`, 400, "length_penalty", "from 0 to 10"},
		{"huge number", `{"sentences": ["a"], "beam": 1e400}`, 400, "beam", "must be an integer"},
		{"unknown model", `{"model": "nope", "sentences": ["a"]}`, 400, "model", `no model "nope"`},
		{"attention for many sentences", `{"sentences": ["a","b","c","d","e"], "attention": true}`, 400, "attention", "at most 4"},
	}
	for _, c := range cases {
		code, _, m := post(t, h, c.body)
		msg, _ := m["error"].(string)
		field, _ := m["field"].(string)
		if code != c.status || field != c.field || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: status %d, field %q, error %q; want %d, %q, containing %q", c.name, code, field, msg, c.status, c.field, c.msg)
		}
	}
	// Attention replies grow with the square of the tokens: they have a
	// token limit of their own.
	ha := newTestServer(t, Limits{MaxAttentionTokens: 2}, &fake{}).Handler()
	if code, _, m := post(t, ha, `{"sentences": ["a b c"], "attention": true}`); code != 400 || m["field"] != "sentences[0]" || !strings.Contains(m["error"].(string), "when attention is asked for") {
		t.Errorf("attention over 3 tokens with a limit of 2: %d %v", code, m)
	}
	if code, _, _ := post(t, ha, `{"sentences": ["a b c"]}`); code != 200 {
		t.Errorf("3 tokens without attention: %d", code)
	}
	// Invalid UTF-8 is read as U+FFFD, as translate reads it.
	if code, _, m := post(t, h, "{\"sentences\": [\"a\xff\"]}"); code != 200 || m["translations"].([]any)[0].(map[string]any)["text"] != "T(a\uFFFD)" {
		t.Errorf("invalid UTF-8: %d %v", code, m)
	}
	for _, c := range []struct {
		method, path, ctype string
		status              int
	}{{"GET", "/translate", "", 405}, {"POST", "/health", "", 405}, {"GET", "/nope", "", 404}} {
		r := httptest.NewRequest(c.method, c.path, strings.NewReader(`{"sentences": ["a"]}`))
		if c.ctype != "" {
			r.Header.Set("Content-Type", c.ctype)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.status || !json.Valid(w.Body.Bytes()) {
			t.Errorf("%s %s (%s): status %d, body %q; want %d and JSON", c.method, c.path, c.ctype, w.Code, w.Body.String(), c.status)
		}
	}
}

// Requests that arrive within the batch window are decoded as one batch,
// and each gets its own sentences back; requests with other options are
// decoded apart.
func TestConcurrentRequestsShareABatch(t *testing.T) {
	f := &fake{}
	h := newTestServer(t, Limits{BatchWindow: 200 * time.Millisecond}, f).Handler()
	var wg sync.WaitGroup
	errs := make(chan string, 9)
	for i := 0; i < 9; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := fmt.Sprintf(`{"sentences": ["s%d", "t%d"]}`, i, i)
			if i == 8 {
				body = `{"sentences": ["b"], "beam": 3}`
			}
			code, _, m := post(t, h, body)
			tr, _ := m["translations"].([]any)
			want := fmt.Sprintf("T(s%d)", i)
			if i == 8 {
				want = "T(b)"
			}
			if code != 200 || len(tr) == 0 || tr[0].(map[string]any)["text"] != want {
				errs <- fmt.Sprintf("request %d: %d %v", i, code, m)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := f.batchCount(); n != 2 {
		t.Errorf("%d decoding batches for 8 greedy requests and one beam request in one window, want 2: %+v", n, f.batches)
	}
	for _, b := range f.batches {
		if b.opt.BatchSize != len(b.sentences) {
			t.Errorf("batch of %d sentences decoded with BatchSize %d", len(b.sentences), b.opt.BatchSize)
		}
	}
}

// A batch holds at most MaxBatchSentences sentences.
func TestBatchSentenceLimit(t *testing.T) {
	f := &fake{}
	h := newTestServer(t, Limits{BatchWindow: 100 * time.Millisecond, MaxBatchSentences: 3}, f).Handler()
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); post(t, h, `{"sentences": ["a"]}`) }()
	}
	wg.Wait()
	for _, b := range f.batches {
		if len(b.sentences) > 3 {
			t.Errorf("a batch of %d sentences, more than MaxBatchSentences 3", len(b.sentences))
		}
	}
	if f.batchCount() < 2 {
		t.Errorf("%d batches for 6 sentences at 3 a batch", f.batchCount())
	}
}

// With the queue full, a request gets 503 with Retry-After at once, and
// /health still answers.
func TestFullQueueIsRefused(t *testing.T) {
	f := &fake{release: make(chan struct{})}
	h := newTestServer(t, Limits{MaxQueue: 1}, f).Handler()
	done := make(chan int)
	go func() { code, _, _ := post(t, h, `{"sentences": ["a"]}`); done <- code }()
	for f.batchCount() == 0 {
		time.Sleep(time.Millisecond)
	}
	code, hdr, m := post(t, h, `{"sentences": ["b"]}`)
	if code != 503 || hdr.Get("Retry-After") == "" || !strings.Contains(m["error"].(string), "busy") {
		t.Errorf("second request with a queue of 1: %d %v %v", code, hdr, m)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/health", nil))
	if w.Code != 200 {
		t.Errorf("/health while busy: %d", w.Code)
	}
	f.release <- struct{}{}
	if code := <-done; code != 200 {
		t.Errorf("first request: %d", code)
	}
}

// A request not answered within RequestTimeout gets 504, and the batch it
// was alone in is stopped.
func TestRequestDeadline(t *testing.T) {
	f := &fake{delay: 10 * time.Second}
	h := newTestServer(t, Limits{RequestTimeout: 100 * time.Millisecond}, f).Handler()
	start := time.Now()
	code, _, m := post(t, h, `{"sentences": ["a"]}`)
	if code != 504 || !strings.Contains(m["error"].(string), "deadline") || time.Since(start) > 2*time.Second {
		t.Errorf("slow decoding: %d %v after %v", code, m, time.Since(start))
	}
}

func TestHealthInfoMetrics(t *testing.T) {
	s, err := New(Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	get := func(path string) (int, string) {
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w.Code, w.Body.String()
	}
	if code, body := get("/health"); code != 503 || !strings.Contains(body, `"loading"`) {
		t.Errorf("/health before the models are loaded: %d %s", code, body)
	}
	if code, _, _ := post(t, s.Handler(), `{"sentences": ["a"]}`); code != 503 {
		t.Errorf("/translate before the models are loaded: %d", code)
	}
	f := &fake{}
	for _, n := range []string{"numbers", "m30k"} {
		if err := s.Add(Info{Name: n, Step: 7, MaxTokens: 300, Valid: map[string]float64{"bleu": 12.5}}, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Add(Info{Name: "numbers"}, f); err == nil {
		t.Error("a model name given twice was accepted")
	}
	if err := s.Add(Info{Name: "bad name"}, f); err == nil {
		t.Error("a model name with a space was accepted")
	}
	s.SetReady()
	if code, body := get("/health"); code != 200 || !strings.Contains(body, `"models":["m30k","numbers"]`) {
		t.Errorf("/health: %d %s", code, body)
	}
	code, body := get("/info")
	var info struct {
		Models []Info
		Limits map[string]any
	}
	if err := json.Unmarshal([]byte(body), &info); code != 200 || err != nil || len(info.Models) != 2 || info.Models[1].Step != 7 ||
		info.Models[1].Valid["bleu"] != 12.5 || info.Models[1].MaxTokens != 256 {
		t.Errorf("/info: %d %s (max tokens: the smaller of the model's 300 and the limit's 256)", code, body)
	}
	if code, _, m := post(t, s.Handler(), `{"sentences": ["a"]}`); code != 400 || m["field"] != "model" {
		t.Errorf("no model named with two served: %d %v", code, m)
	}
	if code, _, _ := post(t, s.Handler(), `{"model": "m30k", "sentences": ["a"]}`); code != 200 {
		t.Errorf("model m30k: %d", code)
	}
	code, body = get("/metrics")
	for _, want := range []string{`transformer_requests_total{path="/translate",status="200"} 1`, `transformer_requests_total{path="/translate",status="400"} 1`,
		`transformer_batch_sentences_bucket{model="m30k",le="1"} 1`, `transformer_request_seconds_count{path="/health"} 2`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}

func TestLimitsRefuseNegatives(t *testing.T) {
	if _, err := New(Limits{MaxBeam: -1}, nil); err == nil || !strings.Contains(err.Error(), "Limits.MaxBeam") {
		t.Errorf("MaxBeam -1: %v", err)
	}
	if _, err := New(Limits{ReadTimeout: -time.Second}, nil); err == nil || !strings.Contains(err.Error(), "Limits.ReadTimeout") {
		t.Errorf("ReadTimeout -1s: %v", err)
	}
	// Huge values are refused before anything is allocated.
	for _, c := range []struct {
		lim  Limits
		want string
	}{
		{Limits{MaxQueue: 1 << 40}, "Limits.MaxQueue (--max-queue) must be at most 65536"},
		{Limits{MaxBeam: 100000}, "Limits.MaxBeam (--max-beam) must be at most 256"},
		{Limits{MaxBodyBytes: 1 << 40}, "Limits.MaxBodyBytes (--max-body) must be at most 67108864"},
		{Limits{MaxBatchSentences: 1 << 40}, "Limits.MaxBatchSentences (--max-batch) must be at most 4096"},
		{Limits{RequestTimeout: 1000000 * time.Hour}, "Limits.RequestTimeout (--timeout) must be at most 24h0m0s"},
		{Limits{BatchWindow: time.Hour}, "Limits.BatchWindow (--batch-window) must be at most 10s"},
	} {
		if _, err := New(c.lim, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.lim, err, c.want)
		}
	}
}

// serveOn starts s on a loopback port and returns its address and a
// function that shuts it down and returns Serve's error.
func serveOn(t *testing.T, s *Server) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln) }()
	return ln.Addr().String(), func() error { cancel(); return <-errc }
}

// A client that sends its body one byte at a time is cut off after
// ReadTimeout, and others are served meanwhile.
func TestSlowClientIsCutOff(t *testing.T) {
	s := newTestServer(t, Limits{ReadTimeout: 300 * time.Millisecond, ReadHeaderTimeout: 300 * time.Millisecond}, &fake{})
	addr, stop := serveOn(t, s)
	defer stop()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /translate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
	start := time.Now()
	cut := false
	for i := 0; i < 50 && !cut; i++ {
		if _, err := conn.Write([]byte("{")); err != nil {
			cut = true
			break
		}
		if i == 2 {
			resp, err := http.Get("http://" + addr + "/health")
			if err != nil || resp.StatusCode != 200 {
				t.Errorf("/health during a slow client: %v %v", err, resp)
			} else {
				resp.Body.Close()
			}
		}
		conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		buf := make([]byte, 512)
		if n, err := conn.Read(buf); n > 0 || (err != nil && !isTimeout(err)) {
			cut = true // answered (400) or closed
		}
	}
	if !cut || time.Since(start) > 3*time.Second {
		t.Errorf("a client sending a byte per 100 ms was not cut off (after %v)", time.Since(start))
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// Shutting down lets a request in flight finish with its answer.
func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	f := &fake{delay: 500 * time.Millisecond}
	s := newTestServer(t, Limits{}, f)
	addr, stop := serveOn(t, s)
	type reply struct {
		code int
		body string
		err  error
	}
	done := make(chan reply, 1)
	go func() {
		resp, err := http.Post("http://"+addr+"/translate", "application/json", strings.NewReader(`{"sentences": ["a"]}`))
		if err != nil {
			done <- reply{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- reply{code: resp.StatusCode, body: string(b)}
	}()
	for f.batchCount() == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Errorf("Serve: %v", err)
	}
	r := <-done
	if r.err != nil || r.code != 200 || !strings.Contains(r.body, "T(a)") {
		t.Errorf("request in flight at shutdown: %+v", r)
	}
	if _, err := http.Get("http://" + addr + "/health"); err == nil {
		t.Error("the server still accepts connections after shutdown")
	}
}

// A client that goes away before its answer leaves the server serving.
func TestClientGoneMidRequest(t *testing.T) {
	f := &fake{delay: 5 * time.Second}
	h := newTestServer(t, Limits{}, f).Handler()
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequest(http.MethodPost, "/translate", strings.NewReader(`{"sentences": ["a"]}`)).WithContext(ctx)
	w := httptest.NewRecorder()
	go func() {
		for f.batchCount() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	h.ServeHTTP(w, r)
	if time.Since(start) > 2*time.Second {
		t.Errorf("the handler ran %v after its client left", time.Since(start))
	}
	f.mu.Lock()
	f.delay = 0
	f.mu.Unlock()
	if code, _, _ := post(t, h, `{"sentences": ["b"]}`); code != 200 {
		t.Errorf("next request: %d", code)
	}
}

func TestManyConnectionsAtOnce(t *testing.T) {
	s := newTestServer(t, Limits{}, &fake{})
	addr, stop := serveOn(t, s)
	defer stop()
	var conns []net.Conn
	for i := 0; i < 500; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	resp, err := http.Get("http://" + addr + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/health with 500 idle connections open: %v %v", err, resp)
	}
	resp.Body.Close()
	var wg sync.WaitGroup
	fails := make(chan string, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(c net.Conn) {
			defer wg.Done()
			body := `{"sentences":["a"]}`
			fmt.Fprintf(c, "POST /translate HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
			st, err := bufio.NewReader(c).ReadString('\n')
			if err != nil || !strings.Contains(st, "200") {
				fails <- fmt.Sprintf("%q %v", st, err)
			}
		}(conns[i])
	}
	wg.Wait()
	close(fails)
	for f := range fails {
		t.Error(f)
	}
}

// Without a window, the requests that queue while a batch decodes are
// decoded together next.
func TestRequestsQueuedDuringABatchShareTheNext(t *testing.T) {
	f := &fake{release: make(chan struct{}, 2)}
	h := newTestServer(t, Limits{}, f).Handler()
	var wg sync.WaitGroup
	send := func() { defer wg.Done(); post(t, h, `{"sentences": ["a"]}`) }
	wg.Add(1)
	go send()
	for f.batchCount() == 0 {
		time.Sleep(time.Millisecond)
	}
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go send()
	}
	time.Sleep(100 * time.Millisecond) // let them queue
	f.release <- struct{}{}
	f.release <- struct{}{}
	wg.Wait()
	if n := f.batchCount(); n != 2 || len(f.batches[1].sentences) != 5 {
		t.Errorf("%d batches (%+v), want the first request alone and the 5 queued behind it together", n, f.batches)
	}
}

// A request is never answered with an empty 200: a batch stopped by the
// server gets 503, a failing model 500; an empty sentence cannot join an
// attention request, a beam wider than the vocabulary is refused, and
// attention requests beyond MaxAttentionRequests get 503.
func TestFailuresGetTheirStatus(t *testing.T) {
	f := &fake{delay: 10 * time.Second}
	s, err := New(Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(Info{Name: "m", TgtVocab: 20, Beam: 1}, f); err != nil {
		t.Fatal(err)
	}
	s.SetReady()
	h := s.Handler()
	go func() {
		for f.batchCount() == 0 {
			time.Sleep(time.Millisecond)
		}
		s.Close()
	}()
	if code, _, m := post(t, h, `{"sentences": ["a"]}`); code != 503 || !strings.Contains(m["error"].(string), "stopped") {
		t.Errorf("a batch stopped by Close: %d %v", code, m)
	}

	f2 := &fake{fail: fmt.Errorf("out of memory")}
	h2 := newTestServer(t, Limits{}, f2).Handler()
	if code, _, m := post(t, h2, `{"sentences": ["a"]}`); code != 500 || !strings.Contains(m["error"].(string), "out of memory") {
		t.Errorf("a failing model: %d %v", code, m)
	}
	if code, _, m := post(t, h2, `{"sentences": ["a", " "], "attention": true}`); code != 400 || m["field"] != "sentences[1]" {
		t.Errorf("an empty sentence with attention: %d %v", code, m)
	}

	s3, _ := New(Limits{}, nil)
	defer s3.Close()
	s3.Add(Info{Name: "m", TgtVocab: 5, Beam: 1}, &fake{})
	s3.SetReady()
	if code, _, m := post(t, s3.Handler(), `{"sentences": ["a"], "beam": 8}`); code != 400 || m["field"] != "beam" || !strings.Contains(m["error"].(string), "target vocabulary of 5") {
		t.Errorf("beam 8 over a vocabulary of 5: %d %v", code, m)
	}

	f4 := &fake{release: make(chan struct{})}
	h4 := newTestServer(t, Limits{MaxAttentionRequests: 1}, f4).Handler()
	done := make(chan int)
	go func() { code, _, _ := post(t, h4, `{"sentences": ["a"], "attention": true}`); done <- code }()
	for f4.batchCount() == 0 {
		time.Sleep(time.Millisecond)
	}
	if code, hdr, _ := post(t, h4, `{"sentences": ["b"], "attention": true}`); code != 503 || hdr.Get("Retry-After") == "" {
		t.Errorf("a second attention request with a limit of 1: %d", code)
	}
	f4.release <- struct{}{}
	if code := <-done; code != 200 {
		t.Errorf("the first attention request: %d", code)
	}
}
