package main

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/inference"
	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/serve"
)

func serveCmd() *cobra.Command {
	var ckpts []string
	var addr, weights, dtype string
	lim := serve.DefaultLimits()
	cmd := &cobra.Command{
		Use:   "serve --checkpoint [NAME=]DIR [--checkpoint ...] [--addr HOST:PORT]",
		Short: "Serve trained translators over HTTP (JSON API, batched)",
		Long: `Serve one or more trained models over HTTP until SIGINT or SIGTERM, then stop
accepting, finish the requests in flight and exit 0.

  POST /translate  {"sentences": ["..."], "beam": 5, "nbest": 2, "length_penalty": 1.0,
                    "attention": false, "model": "NAME"}
                   → {"model": "NAME", "translations": [{"text": "...", "score": -0.3}]}
  GET  /health     200 {"status": "ready"} once the models are loaded, 503 before
  GET  /info       the models' configs, vocabularies, steps and validation figures
  GET  /metrics    request, batch and latency counters (Prometheus text format)

Concurrent requests are gathered into one decoding batch per model: those
that queued while the previous batch decoded, and those that arrive within
--batch-window, up to --max-batch sentences (--max-batch 1 serves one
request at a time). Each model is named by NAME=,
or by its directory's base name; a request names one with "model" unless
only one is served. Bad requests get a 4xx JSON error naming the field; a
full queue gets 503 with Retry-After. The server binds to loopback unless
--addr says otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(ckpts) == 0 {
				return fmt.Errorf("--checkpoint is required")
			}
			useDecodingGC()
			format, quant, err := parseDtype(dtype)
			if err != nil {
				return err
			}
			if err := rundir.WeightsError(weights); err != nil {
				return err
			}
			if err := positiveFlags(cmd, "max-sentences", "max-tokens", "max-beam", "max-body", "max-queue", "max-batch", "max-batch-tokens", "timeout", "shutdown-timeout"); err != nil {
				return err
			}
			if lim.BatchWindow < 0 {
				return fmt.Errorf("--batch-window must not be negative, got %v", lim.BatchWindow)
			}
			type named struct{ name, dir string }
			var runs []named
			for _, c := range ckpts {
				name, dir, ok := strings.Cut(c, "=")
				if !ok {
					name, dir = filepath.Base(filepath.Clean(c)), c
				}
				if dir == "" {
					return fmt.Errorf("--checkpoint %q names no directory", c)
				}
				if err := serve.CheckName(name); err != nil {
					return fmt.Errorf("--checkpoint %q: %w", c, err)
				}
				for _, r := range runs {
					if r.name == name {
						return fmt.Errorf("--checkpoint %q: model name %q is given twice (name them: NAME=DIR)", c, name)
					}
				}
				runs = append(runs, named{name, dir})
			}
			disp, err := display(cmd, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			s, err := serve.New(lim, disp)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("--addr %s: %w", addr, err)
			}
			ctx, got, stop := signalContext(cmd.Context())
			defer stop()
			served := make(chan error, 1)
			go func() { served <- s.Serve(ctx, ln) }()
			disp.Message("info", fmt.Sprintf("listening on http://%s (loading %d model(s))", ln.Addr(), len(runs)), progress.F("addr", ln.Addr().String()))
			for _, r := range runs {
				if ctx.Err() != nil { // a signal while loading
					break
				}
				start := time.Now()
				m, err := inference.LoadWeights(r.dir, weights) // its errors name the directory
				if err == nil {
					err = convertLoaded(m, dtype, format, quant)
				}
				if err == nil {
					if err = s.Add(serve.InfoOf(r.name, r.dir, m), m); err != nil {
						err = fmt.Errorf("--checkpoint %s: %w", r.dir, err)
					}
				}
				if err != nil {
					ln.Close()
					<-served
					return err
				}
				disp.Message("info", fmt.Sprintf("model %s: %s (step %d) loaded in %.1f s", r.name, r.dir, m.Checkpoint.State.Step, time.Since(start).Seconds()))
			}
			if ctx.Err() == nil {
				s.SetReady()
				disp.Message("info", "ready")
			}
			err = <-served
			select {
			case sig := <-got:
				disp.Message("info", fmt.Sprintf("%s: stopped", signalName(sig)))
			default:
			}
			return err
		},
	}
	cmd.Flags().StringArrayVarP(&ckpts, "checkpoint", "k", nil, "run directory written by train, as DIR or NAME=DIR (repeat to serve several models)")
	addWeightsFlag(cmd, &weights, "load")
	addDtypeFlag(cmd, &dtype)
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (port 0: any free port)")
	cmd.Flags().IntVar(&lim.MaxSentences, "max-sentences", lim.MaxSentences, "sentences per request")
	cmd.Flags().IntVar(&lim.MaxTokens, "max-tokens", lim.MaxTokens, "tokens per sentence (and at most the model's limit)")
	cmd.Flags().IntVar(&lim.MaxBeam, "max-beam", lim.MaxBeam, "largest beam and n-best a request may ask for")
	cmd.Flags().Int64Var(&lim.MaxBodyBytes, "max-body", lim.MaxBodyBytes, "request body size in bytes")
	cmd.Flags().IntVar(&lim.MaxQueue, "max-queue", lim.MaxQueue, "requests queued or decoding at once; more get 503")
	cmd.Flags().DurationVar(&lim.BatchWindow, "batch-window", lim.BatchWindow, "how long to wait for more requests before decoding a batch (0: no wait; requests queued during a batch form the next one)")
	cmd.Flags().IntVar(&lim.MaxBatchSentences, "max-batch", lim.MaxBatchSentences, "sentences per decoding batch")
	cmd.Flags().IntVar(&lim.MaxBatchTokens, "max-batch-tokens", lim.MaxBatchTokens, "source tokens per decoding batch")
	cmd.Flags().DurationVar(&lim.RequestTimeout, "timeout", lim.RequestTimeout, "deadline of each request (504 after it)")
	cmd.Flags().DurationVar(&lim.ShutdownTimeout, "shutdown-timeout", lim.ShutdownTimeout, "how long a shutdown waits for requests in flight")
	return cmd
}

// positiveFlags refuses a zero or negative value of any of the named
// numeric or duration flags, naming the flag.
func positiveFlags(cmd *cobra.Command, names ...string) error {
	for _, n := range names {
		f := cmd.Flags().Lookup(n)
		v := f.Value.String()
		if d, err := time.ParseDuration(v); err == nil && f.Value.Type() == "duration" {
			if d <= 0 {
				return fmt.Errorf("--%s must be positive, got %s", n, v)
			}
			continue
		}
		if strings.HasPrefix(v, "-") || v == "0" {
			return fmt.Errorf("--%s must be positive, got %s", n, v)
		}
	}
	return nil
}
