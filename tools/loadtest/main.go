// Command loadtest measures a running `transformer serve` on loopback: for
// each number of concurrent clients it sends a bounded number of requests
// (stopping by itself after -max-time at the latest) and prints throughput
// and p50/p99 latency as JSON lines and a Markdown table. With -abuse it
// instead sends hostile requests, polling /health throughout, and prints
// what each got.
//
//	go run ./tools/loadtest -url http://127.0.0.1:8080 -inputs val.en -clients 1,8,64
//	go run ./tools/loadtest -url http://127.0.0.1:8080 -abuse
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "server address")
	inputs := flag.String("inputs", "", "file of input sentences, one per line (default: a few number words)")
	clients := flag.String("clients", "1,8,64", "comma-separated numbers of concurrent clients")
	requests := flag.Int("requests", 256, "requests per level")
	perRequest := flag.Int("sentences", 1, "sentences per request")
	beam := flag.Int("beam", 1, "beam of every request")
	maxTime := flag.Duration("max-time", 3*time.Minute, "stop a level after this long")
	label := flag.String("label", "", "label of the JSON lines (for example the model and the serving mode)")
	modelName := flag.String("model", "", "model to ask for (needed when the server serves several)")
	abuse := flag.Bool("abuse", false, "send hostile requests instead")
	flag.Parse()
	if *abuse {
		os.Exit(runAbuse(*url))
	}
	sentences := []string{"four hundred twenty-one", "seventeen", "nine thousand three hundred", "eighty-eight thousand one"}
	if *inputs != "" {
		b, err := os.ReadFile(*inputs)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			os.Exit(1)
		}
		sentences = nil
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				sentences = append(sentences, l)
			}
		}
	}
	fmt.Println("| label | clients | requests | ok | errors | requests/s | sentences/s | p50 ms | p99 ms |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, f := range strings.Split(*clients, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c <= 0 {
			fmt.Fprintf(os.Stderr, "loadtest: -clients: %q is not a positive number\n", f)
			os.Exit(1)
		}
		r := level(*url, *modelName, sentences, c, *requests, *perRequest, *beam, *maxTime)
		r.Label = *label
		js, _ := json.Marshal(r)
		fmt.Fprintln(os.Stderr, string(js))
		fmt.Printf("| %s | %d | %d | %d | %d | %.1f | %.1f | %.0f | %.0f |\n", r.Label, r.Clients, r.Requests, r.OK, r.Errors, r.RequestsPerSec, r.SentencesPerSec, r.P50ms, r.P99ms)
	}
}

// result is one level's figures.
type result struct {
	Label           string  `json:"label"`
	Clients         int     `json:"clients"`
	Requests        int     `json:"requests"`
	OK              int     `json:"ok"`
	Errors          int     `json:"errors"`
	Seconds         float64 `json:"seconds"`
	RequestsPerSec  float64 `json:"requests_per_s"`
	SentencesPerSec float64 `json:"sentences_per_s"`
	P50ms           float64 `json:"p50_ms"`
	P99ms           float64 `json:"p99_ms"`
}

// level sends n requests from c clients and measures them.
func level(url, modelName string, sentences []string, c, n, per, beam int, maxTime time.Duration) result {
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: c}}
	var next atomic.Int64
	var mu sync.Mutex
	var lat []float64
	errs := 0
	stop := time.Now().Add(maxTime)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || time.Now().After(stop) {
					return
				}
				batch := make([]string, per)
				for k := range batch {
					batch[k] = sentences[(i*per+k)%len(sentences)]
				}
				req := map[string]any{"sentences": batch, "beam": beam}
				if modelName != "" {
					req["model"] = modelName
				}
				body, _ := json.Marshal(req)
				t0 := time.Now()
				resp, err := client.Post(url+"/translate", "application/json", bytes.NewReader(body))
				ok := err == nil && resp.StatusCode == 200
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(t0).Seconds() * 1000
				mu.Lock()
				if ok {
					lat = append(lat, d)
				} else {
					errs++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	sort.Float64s(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	return result{Clients: c, Requests: len(lat) + errs, OK: len(lat), Errors: errs, Seconds: el,
		RequestsPerSec: float64(len(lat)) / el, SentencesPerSec: float64(len(lat)*per) / el, P50ms: pct(0.5), P99ms: pct(0.99)}
}

// runAbuse sends each hostile request while a poller checks /health every
// 100 ms, and prints a table of what happened; it returns 1 if /health
// ever failed or a case did not get the answer it should.
func runAbuse(url string) int {
	host := strings.TrimPrefix(url, "http://")
	var healthOK, healthBad atomic.Int64
	var worst atomic.Int64 // slowest /health, µs
	stopPoll := make(chan struct{})
	go func() {
		c := &http.Client{Timeout: 2 * time.Second}
		for {
			select {
			case <-stopPoll:
				return
			case <-time.After(100 * time.Millisecond):
			}
			t0 := time.Now()
			resp, err := c.Get(url + "/health")
			if err == nil && resp.StatusCode == 200 {
				healthOK.Add(1)
				resp.Body.Close()
			} else {
				healthBad.Add(1)
			}
			if us := time.Since(t0).Microseconds(); us > worst.Load() {
				worst.Store(us)
			}
		}
	}()
	post := func(body []byte) (string, time.Duration) {
		t0 := time.Now()
		resp, err := (&http.Client{Timeout: 60 * time.Second}).Post(url+"/translate", "application/json", bytes.NewReader(body))
		if err != nil {
			return "error: " + err.Error(), time.Since(t0)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b))), time.Since(t0)
	}
	type abuseCase struct {
		name string
		run  func() (string, time.Duration)
		want string // the answer must start with this
	}
	many := make([]string, 10000)
	for i := range many {
		many[i] = "one"
	}
	manyBody, _ := json.Marshal(map[string]any{"sentences": many})
	cases := []abuseCase{
		{"malformed JSON", func() (string, time.Duration) { return post([]byte(`{"sentences": [`)) }, "400"},
		{"wrong types", func() (string, time.Duration) { return post([]byte(`{"sentences": "one", "beam": "5"}`)) }, "400"},
		{"empty body", func() (string, time.Duration) { return post(nil) }, "400"},
		{"3 MB body", func() (string, time.Duration) {
			return post([]byte(`{"sentences": ["` + strings.Repeat("a", 3<<20) + `"]}`))
		}, "413"},
		{"10,000 sentences", func() (string, time.Duration) { return post(manyBody) }, "400"},
		{"a 1 MB sentence", func() (string, time.Duration) {
			return post([]byte(`{"sentences": ["` + strings.Repeat("a ", 500000) + `"]}`))
		}, "400"},
		{"a huge beam", func() (string, time.Duration) { return post([]byte(`{"sentences": ["one"], "beam": 1000000000}`)) }, "400"},
		{"one byte per second", func() (string, time.Duration) { return slowClient(host) }, "cut off"},
		{"500 connections at once", func() (string, time.Duration) { return manyConnections(host, 500) }, "500 of 500"},
	}
	fmt.Println("| request | answer | time | /health meanwhile |")
	fmt.Println("|---|---|---|---|")
	failed := 0
	for _, c := range cases {
		ok0, bad0 := healthOK.Load(), healthBad.Load()
		got, d := c.run()
		if !strings.HasPrefix(got, c.want) {
			failed++
		}
		if len(got) > 160 {
			got = got[:160] + "…"
		}
		fmt.Printf("| %s | `%s` | %.2f s | %d ok, %d failed |\n", c.name, strings.ReplaceAll(got, "|", "\\|"), d.Seconds(), healthOK.Load()-ok0, healthBad.Load()-bad0)
	}
	close(stopPoll)
	fmt.Printf("\n/health: %d answers, %d failures, slowest %.1f ms\n", healthOK.Load(), healthBad.Load(), float64(worst.Load())/1000)
	if healthBad.Load() > 0 || failed > 0 {
		return 1
	}
	return 0
}

// slowClient sends a request's headers, then its body one byte a second,
// and reports when the server cut it off.
func slowClient(host string) (string, time.Duration) {
	t0 := time.Now()
	conn, err := net.Dial("tcp", host)
	if err != nil {
		return "error: " + err.Error(), time.Since(t0)
	}
	defer conn.Close()
	body := `{"sentences": ["four hundred twenty-one"]}`
	fmt.Fprintf(conn, "POST /translate HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", host, len(body))
	r := bufio.NewReader(conn)
	for i := 0; i < len(body); i++ {
		if _, err := conn.Write([]byte{body[i]}); err != nil {
			return fmt.Sprintf("cut off after %d bytes of the body (write: %v)", i, err), time.Since(t0)
		}
		conn.SetReadDeadline(time.Now().Add(time.Second))
		line, err := r.ReadString('\n')
		if line != "" {
			return fmt.Sprintf("cut off after %d bytes of the body: %s", i+1, strings.TrimSpace(line)), time.Since(t0)
		}
		if ne, ok := err.(net.Error); err != nil && !(ok && ne.Timeout()) {
			return fmt.Sprintf("cut off after %d bytes of the body (%v)", i+1, err), time.Since(t0)
		}
	}
	return "not cut off: the whole body was sent", time.Since(t0)
}

// manyConnections opens n connections at once, sends a request on each,
// and counts the answers.
func manyConnections(host string, n int) (string, time.Duration) {
	t0 := time.Now()
	var wg sync.WaitGroup
	var answered, busy, failed atomic.Int64
	body := `{"sentences": ["seventeen"]}`
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.DialTimeout("tcp", host, 10*time.Second)
			if err != nil {
				failed.Add(1)
				return
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(60 * time.Second))
			fmt.Fprintf(conn, "POST /translate HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", host, len(body), body)
			line, err := bufio.NewReader(conn).ReadString('\n')
			switch {
			case err != nil:
				failed.Add(1)
			case strings.Contains(line, " 200 "):
				answered.Add(1)
			case strings.Contains(line, " 503 "):
				busy.Add(1)
			default:
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	return fmt.Sprintf("%d of %d answered: %d translated (200), %d refused as busy (503), %d failed",
		answered.Load()+busy.Load(), n, answered.Load(), busy.Load(), failed.Load()), time.Since(t0)
}
