package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// signalContext returns a context that ends at the first SIGINT, SIGTERM or
// SIGHUP (a closed terminal),
// and a channel that then holds the signal. A second signal ends the
// process at once with 128 plus its number: whatever was being written is
// written atomically, so the last checkpoint stays intact.
//
// stop ends the catching (the command is over).
func signalContext(parent context.Context) (ctx context.Context, got <-chan os.Signal, stop func()) {
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 2)
	first := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		select {
		case sig := <-sigs:
			first <- sig
			cancel()
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			os.Exit(128 + signalNumber(sig))
		case <-done:
		}
	}()
	return ctx, first, func() { signal.Stop(sigs); close(done); cancel() }
}

// signalNumber is the Unix number of the signal (SIGHUP 1, SIGINT 2,
// SIGTERM 15).
func signalNumber(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return int(s)
	}
	return 2
}

func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return "SIGINT"
}

// preparingInterrupted turns the error of a run that a signal stopped
// while it was being prepared (before its first step, so nothing was
// saved and the run directory it made is gone) into the signal's exit
// status; any other error is returned as it is.
func preparingInterrupted(ctx context.Context, got <-chan os.Signal, err error) error {
	if ctx.Err() == nil || !errors.Is(err, ctx.Err()) {
		return err
	}
	return interrupted(got, "while preparing the run; nothing was saved")
}

// interrupted is the exit of a command the first signal on got stopped
// (SIGINT if none arrived): status 128 + the signal's number and the
// message "interrupted by SIG" and what (after a space unless it starts
// with a colon).
func interrupted(got <-chan os.Signal, what string) *exitError {
	var sig os.Signal = os.Interrupt
	select {
	case sig = <-got:
	default:
	}
	if !strings.HasPrefix(what, ":") {
		what = " " + what
	}
	return &exitError{status: 128 + signalNumber(sig), msg: "interrupted by " + signalName(sig) + what}
}
