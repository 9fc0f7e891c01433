package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// signalContext returns a context that ends at the first SIGINT or SIGTERM,
// and a channel that then holds the signal. A second signal ends the
// process at once with 128 plus its number: whatever was being written is
// written atomically, so the last checkpoint stays intact.
func signalContext(parent context.Context) (context.Context, <-chan os.Signal) {
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 2)
	got := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		got <- sig
		cancel()
		sig = <-sigs
		os.Exit(128 + signalNumber(sig))
	}()
	return ctx, got
}

// signalNumber is the Unix number of SIGINT (2) and SIGTERM (15).
func signalNumber(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return int(s)
	}
	return 2
}

func signalName(sig os.Signal) string {
	if sig == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}
