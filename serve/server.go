// Package serve puts trained translators behind HTTP (`transformer serve`):
// POST /translate, GET /health, /info and /metrics. Concurrent requests for
// a model are gathered into one decoding batch; every request is bounded
// (body, sentences, tokens, beam, queue, deadline) and every bad one gets a
// 4xx JSON error naming the field.
//
//	s, _ := serve.New(serve.DefaultLimits(), log)
//	m, _ := inference.Load("checkpoints/numbers-en-de")
//	s.Add(serve.InfoOf("numbers", "checkpoints/numbers-en-de", m), m)
//	s.SetReady()
//	s.Serve(ctx, listener) // until ctx ends, then a graceful shutdown
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotransformer/transformer/inference"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/progress"
)

// Limits bound what a request may ask and how the server batches. Zero
// fields take DefaultLimits' values.
type Limits struct {
	MaxBodyBytes          int64 // request body
	MaxSentences          int   // sentences per request
	MaxSentenceBytes      int   // bytes per sentence
	MaxTokens             int   // tokens per sentence (also at most the model's limit)
	MaxBeam               int   // beam and n-best
	MaxAttentionSentences int   // sentences per request that asks for attention
	MaxAttentionTokens    int   // tokens per sentence of such a request (the reply grows with their square)
	MaxAttentionRequests  int   // such requests at once, over all models; more get 503
	// MaxQueue is how many /translate requests may be queued or decoding
	// at once, over all models; more get 503 with Retry-After.
	MaxQueue int
	// BatchWindow is how long a model's worker waits for more requests
	// after the first before it decodes (0: no wait; a batch is then what
	// queued while the previous one decoded); MaxBatchSentences and
	// MaxBatchTokens end the wait early and bound a batch.
	BatchWindow       time.Duration
	MaxBatchSentences int
	MaxBatchTokens    int
	// RequestTimeout is each request's deadline (504 when passed).
	RequestTimeout time.Duration
	// ReadHeaderTimeout, ReadTimeout (header and body) and IdleTimeout
	// cut off slow and idle clients.
	ReadHeaderTimeout, ReadTimeout, IdleTimeout time.Duration
	// ShutdownTimeout is how long a shutdown waits for requests in flight.
	ShutdownTimeout time.Duration
}

// DefaultLimits are the limits `transformer serve` starts with.
func DefaultLimits() Limits {
	return Limits{
		MaxBodyBytes: 1 << 20, MaxSentences: 64, MaxSentenceBytes: 4096, MaxTokens: 256, MaxBeam: 16,
		MaxAttentionSentences: 4, MaxAttentionTokens: 64, MaxAttentionRequests: 2, MaxQueue: 256,
		BatchWindow: 0, MaxBatchSentences: 64, MaxBatchTokens: 4096,
		RequestTimeout: 30 * time.Second, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		IdleTimeout: 60 * time.Second, ShutdownTimeout: 30 * time.Second,
	}
}

// withDefaults fills zero fields from DefaultLimits and refuses negative
// ones, naming the field.
func (l Limits) withDefaults() (Limits, error) {
	d := DefaultLimits()
	errs := []error{
		bound("MaxSentences", "max-sentences", &l.MaxSentences, d.MaxSentences, 10_000),
		bound("MaxSentenceBytes", "", &l.MaxSentenceBytes, d.MaxSentenceBytes, 1<<20),
		bound("MaxTokens", "max-tokens", &l.MaxTokens, d.MaxTokens, model.MaxInputTokens),
		bound("MaxBeam", "max-beam", &l.MaxBeam, d.MaxBeam, model.MaxBeam),
		bound("MaxAttentionSentences", "", &l.MaxAttentionSentences, d.MaxAttentionSentences, 64),
		bound("MaxAttentionTokens", "", &l.MaxAttentionTokens, d.MaxAttentionTokens, model.MaxAttentionTokens),
		bound("MaxAttentionRequests", "", &l.MaxAttentionRequests, d.MaxAttentionRequests, 64),
		bound("MaxQueue", "max-queue", &l.MaxQueue, d.MaxQueue, 1<<16),
		bound("MaxBatchSentences", "max-batch", &l.MaxBatchSentences, d.MaxBatchSentences, 4096),
		bound("MaxBatchTokens", "max-batch-tokens", &l.MaxBatchTokens, d.MaxBatchTokens, 1<<20),
		bound("RequestTimeout", "timeout", &l.RequestTimeout, d.RequestTimeout, 24*time.Hour),
		bound("ReadHeaderTimeout", "", &l.ReadHeaderTimeout, d.ReadHeaderTimeout, time.Hour),
		bound("ReadTimeout", "", &l.ReadTimeout, d.ReadTimeout, time.Hour),
		bound("IdleTimeout", "", &l.IdleTimeout, d.IdleTimeout, 24*time.Hour),
		bound("ShutdownTimeout", "shutdown-timeout", &l.ShutdownTimeout, d.ShutdownTimeout, 24*time.Hour),
		bound("MaxBodyBytes", "max-body", &l.MaxBodyBytes, d.MaxBodyBytes, 64<<20),
		bound("BatchWindow", "batch-window", &l.BatchWindow, 0, 10*time.Second),
	}
	for _, err := range errs {
		if err != nil {
			return l, err
		}
	}
	return l, nil
}

// bound sets *v to def when it is 0 and refuses it outside [0, most].
func bound[T int | int64 | time.Duration](field, flagName string, v *T, def, most T) error {
	switch {
	case *v < 0:
		return fmt.Errorf("%s must not be negative, got %v", limitName(field, flagName), *v)
	case *v > most:
		return fmt.Errorf("%s must be at most %v, got %v", limitName(field, flagName), most, *v)
	case *v == 0:
		*v = def
	}
	return nil
}

// limitName names a limit as the library and the command know it.
func limitName(field, flagName string) string {
	if flagName == "" {
		return "Limits." + field
	}
	return fmt.Sprintf("Limits.%s (--%s)", field, flagName)
}

// Server serves one or more translators by name.
type Server struct {
	lim      Limits
	log      *progress.Display
	metrics  *metrics
	slots    chan struct{}
	attSlots chan struct{} // requests asking for attention
	ready    atomic.Bool
	stopping atomic.Bool

	mu     sync.Mutex
	models map[string]*served

	ctx    context.Context // the workers'
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// served is one model: its description and its worker.
type served struct {
	info   Info
	worker *worker
}

// New returns a server with no models; log (nil: nowhere) gets a line per
// request.
func New(lim Limits, logTo *progress.Display) (*Server, error) {
	lim, err := lim.withDefaults()
	if err != nil {
		return nil, err
	}
	if logTo == nil {
		logTo = progress.New(io.Discard, progress.Quiet)
	}
	s := &Server{lim: lim, log: logTo, metrics: newMetrics(), slots: make(chan struct{}, lim.MaxQueue), attSlots: make(chan struct{}, lim.MaxAttentionRequests), models: map[string]*served{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

var modelName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// CheckName refuses a model name that is not 1 to 64 letters, digits,
// '.', '_' or '-', starting with a letter or digit.
func CheckName(name string) error {
	if !modelName.MatchString(name) {
		return fmt.Errorf("model name %q: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// Add serves tr under info.Name and starts its worker. The server owns tr
// from now on: nothing else may call it.
func (s *Server) Add(info Info, tr Translator) error {
	if err := CheckName(info.Name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.models[info.Name]; dup {
		return fmt.Errorf("model name %q is given twice", info.Name)
	}
	lim := s.lim
	if info.MaxTokens > 0 && info.MaxTokens < lim.MaxTokens {
		lim.MaxTokens = info.MaxTokens
	}
	info.MaxTokens = lim.MaxTokens
	w := &worker{name: info.Name, tr: tr, lim: lim, jobs: make(chan *job, s.lim.MaxQueue), metrics: s.metrics}
	s.models[info.Name] = &served{info: info, worker: w}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); w.run(s.ctx) }()
	return nil
}

// SetReady makes /health report ready and /translate accept requests.
func (s *Server) SetReady() { s.ready.Store(true) }

// Close stops the workers; requests still waiting get no answer, so call
// it after the HTTP server has shut down (Serve does).
func (s *Server) Close() {
	s.cancel()
	s.wg.Wait()
}

// Handler routes the server's endpoints, logging each request.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/translate", s.handleTranslate)
	mux.HandleFunc("/health", s.handleHealth)
	mux.HandleFunc("/info", s.handleInfo)
	mux.HandleFunc("/metrics", s.handleMetrics)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, Error{Error: fmt.Sprintf("no endpoint %s: use POST /translate, GET /health, /info or /metrics", r.URL.Path)})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		mux.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = 499 // the client went away before an answer
		}
		d := time.Since(start)
		path := r.URL.Path
		switch path {
		case "/translate", "/health", "/info", "/metrics":
		default:
			path = "other"
		}
		s.metrics.request(path, sw.status, d)
		s.log.Message("request", fmt.Sprintf("%s %s %d %.1f ms %s%s", r.Method, r.URL.EscapedPath(), sw.status, float64(d.Microseconds())/1000, r.RemoteAddr, sw.note),
			progress.F("method", r.Method), progress.F("path", r.URL.EscapedPath()), progress.F("status", sw.status),
			progress.F("ms", float64(d.Microseconds())/1000), progress.F("remote", r.RemoteAddr), progress.F("sentences", sw.sentences))
	})
}

// statusWriter records the status and what the log line should add.
type statusWriter struct {
	http.ResponseWriter
	status    int
	sentences int
	note      string
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method || (method == http.MethodGet && r.Method == http.MethodHead) {
		return true
	}
	w.Header().Set("Allow", method)
	writeJSON(w, http.StatusMethodNotAllowed, Error{Error: fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, method)})
	return false
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	switch {
	case s.stopping.Load():
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "stopping"})
	case !s.ready.Load():
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "loading"})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "models": s.names()})
	}
}

func (s *Server) handleInfo(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	s.mu.Lock()
	infos := make([]Info, 0, len(s.models))
	for _, name := range s.namesLocked() {
		infos = append(infos, s.models[name].info)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"models": infos, "limits": limitsJSON(s.lim)})
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	s.metrics.write(w)
}

func (s *Server) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.namesLocked()
}

func (s *Server) namesLocked() []string {
	names := make([]string, 0, len(s.models))
	for n := range s.models {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// model returns the model a request names, or the only one.
func (s *Server) model(name string) (*served, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == "" {
		if len(s.models) == 1 {
			for _, m := range s.models {
				return m, nil
			}
		}
		return nil, badField("model", "several models are served: name one of %s", strings.Join(s.namesLocked(), ", "))
	}
	m, ok := s.models[name]
	if !ok {
		return nil, badField("model", "no model %q is served (served: %s)", name, strings.Join(s.namesLocked(), ", "))
	}
	return m, nil
}

func (s *Server) handleTranslate(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	if s.stopping.Load() || !s.ready.Load() {
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, Error{Error: "the server is not ready (loading models or stopping)"})
		return
	}
	req, err := decodeRequest(w, r, s.lim.MaxBodyBytes)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	m, err := s.model(req.Model)
	if err == nil {
		err = req.check(s.lim)
	}
	if err == nil && m.info.TgtVocab > 0 && req.Beam > m.info.TgtVocab {
		err = badField("beam", "must be at most the target vocabulary of %d tokens, got %d", m.info.TgtVocab, req.Beam)
	}
	if err == nil && req.NBest > 1 && req.Beam == 0 && req.NBest > m.info.Beam {
		err = badField("nbest", "%d needs a beam of at least %d; the model decodes with beam %d: give beam", req.NBest, req.NBest, m.info.Beam)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if sw, ok := w.(*statusWriter); ok {
		sw.sentences = len(req.Sentences)
	}
	release, ok := acquire(s.slots)
	if !ok {
		busy(w, fmt.Sprintf("%d requests are queued or decoding", s.lim.MaxQueue))
		return
	}
	defer release()
	if req.Attention {
		release, ok := acquire(s.attSlots)
		if !ok {
			busy(w, fmt.Sprintf("%d requests for attention are being answered", s.lim.MaxAttentionRequests))
			return
		}
		defer release()
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.lim.RequestTimeout)
	defer cancel()
	opt := inference.Options{Beam: req.Beam, NBest: req.NBest, Attention: req.Attention, MaxInputTokens: m.worker.lim.MaxTokens}
	if p := req.LengthPenalty; p != nil {
		opt.LengthPenalty = *p
		if *p == 0 {
			opt.LengthPenalty = -1 // inference: negative is α = 0
		}
	}
	j := &job{ctx: ctx, sentences: req.Sentences, opt: opt, done: make(chan jobResult, 1)}
	select {
	case m.worker.jobs <- j:
	default: // jobs of requests that timed out may still hold places
		busy(w, fmt.Sprintf("model %s has %d requests queued", m.info.Name, cap(m.worker.jobs)))
		return
	}
	var res jobResult
	select {
	case res = <-j.done:
	case <-ctx.Done():
	}
	if ctx.Err() != nil && res.err == nil && res.res == nil {
		res.err = ctx.Err()
	}
	var re *requestError
	switch {
	case res.err == nil:
	case errors.As(res.err, &re):
		writeError(w, re.status, re)
		return
	case r.Context().Err() != nil:
		return // the client is gone
	case errors.Is(res.err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded:
		writeJSON(w, http.StatusGatewayTimeout, Error{Error: fmt.Sprintf("not translated within the request deadline of %v", s.lim.RequestTimeout)})
		return
	case errors.Is(res.err, context.Canceled):
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, Error{Error: "the server stopped before the translation was done"})
		return
	default:
		s.log.Message("error", fmt.Sprintf("model %s: %v", m.info.Name, res.err))
		writeJSON(w, http.StatusInternalServerError, Error{Error: "translating failed: " + res.err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, response(m.info.Name, res.res))
}

// acquire takes a place in slots if one is free, and returns the function
// that gives it back.
func acquire(slots chan struct{}) (release func(), ok bool) {
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, true
	default:
		return nil, false
	}
}

// busy answers 503 with Retry-After: what is full, and to retry.
func busy(w http.ResponseWriter, what string) {
	w.Header().Set("Retry-After", "1")
	writeJSON(w, http.StatusServiceUnavailable, Error{Error: "the server is busy: " + what + "; retry later"})
}

func response(name string, res []inference.Result) Response {
	out := Response{Model: name, Translations: make([]Translation, len(res))}
	for i, r := range res {
		t := Translation{Text: r.Text}
		if r.Score != 0 || len(r.NBest) > 0 {
			sc := r.Score
			t.Score = &sc
		}
		for _, h := range r.NBest {
			t.NBest = append(t.NBest, Hypothesis{Text: h.Text, Score: h.Score})
		}
		if v := r.Attention; v != nil {
			if p, err := v.Page(); err == nil {
				t.Attention = &Attention{Translation: v.Translation, Views: p.Views}
			}
		}
		out.Translations[i] = t
	}
	return out
}

// Serve answers on ln until ctx ends, then shuts down gracefully: it stops
// accepting, lets the requests in flight finish within ShutdownTimeout,
// and stops the workers.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.lim.ReadHeaderTimeout,
		ReadTimeout:       s.lim.ReadTimeout,
		WriteTimeout:      s.lim.RequestTimeout + s.lim.ReadTimeout + 5*time.Second,
		IdleTimeout:       s.lim.IdleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          log.New(logWriter{s.log}, "", 0),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
	}
	s.stopping.Store(true)
	s.log.Message("info", fmt.Sprintf("stopping: finishing the requests in flight (at most %v)", s.lim.ShutdownTimeout))
	sctx, cancel := context.WithTimeout(context.Background(), s.lim.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc
	s.Close()
	if err != nil {
		return fmt.Errorf("shutdown: requests still running after %v: %w", s.lim.ShutdownTimeout, err)
	}
	return nil
}

// logWriter sends net/http's own messages (bad TLS, accept errors) to the
// server's log.
type logWriter struct{ d *progress.Display }

func (w logWriter) Write(b []byte) (int, error) {
	w.d.Message("http", strings.TrimSpace(string(b)))
	return len(b), nil
}

func limitsJSON(l Limits) map[string]any {
	return map[string]any{
		"max_body_bytes": l.MaxBodyBytes, "max_sentences": l.MaxSentences, "max_sentence_bytes": l.MaxSentenceBytes,
		"max_tokens": l.MaxTokens, "max_beam": l.MaxBeam, "max_attention_sentences": l.MaxAttentionSentences, "max_attention_tokens": l.MaxAttentionTokens, "max_attention_requests": l.MaxAttentionRequests,
		"max_queue": l.MaxQueue, "batch_window_ms": l.BatchWindow.Milliseconds(), "max_batch_sentences": l.MaxBatchSentences,
		"max_batch_tokens": l.MaxBatchTokens, "request_timeout_s": l.RequestTimeout.Seconds(),
	}
}
