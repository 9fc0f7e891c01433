// Command transformer trains and runs Transformer translators from YAML
// configs. Every subcommand is a thin layer over the project's packages.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/progress"
)

func main() {
	// Every graph op allocates its result, so the heap turns over fast; a
	// GC target of 25 instead of Go's default 100 cuts peak memory by about
	// 40% for the same CPU time, since the heap is mostly float arrays that
	// the collector need not scan (docs/performance.md). GOGC still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(trainingGC)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// The collector's targets (GOGC): training's, and that of commands that only
// decode.
const trainingGC, decodingGC = 25, 100

// useDecodingGC gives a command that only decodes (translate, eval, serve,
// bench --decode) Go's default GC target unless the environment sets GOGC.
// Its live heap is the weights, small beside the encoder values and caches
// each batch allocates, so at training's target the collector ran every few
// megabytes: it took a third of int8 decoding's time and more than a quarter
// of float32's (docs/performance.md, "Garbage-collector target").
func useDecodingGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(decodingGC)
	}
}

// run executes the command line args and returns the exit status: 0 on
// success, 1 on any error, reported as one line on stderr.
//
// A command that fails to write its output (a full disk, a closed pipe,
// /dev/full) fails too, and one stopped by a signal exits with 128 plus the
// signal's number (130 for SIGINT, 143 for SIGTERM) after saving its work.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (status int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintln(stderr, "transformer: internal error:", oneLine(fmt.Sprint(r)))
			status = 2
		}
	}()
	out := &checkedWriter{w: stdout}
	root := rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(out)
	root.SetErr(stderr)
	err := root.Execute()
	if out.err != nil && (err == nil || errors.Is(err, out.err)) {
		err = fmt.Errorf("writing standard output: %w", out.err)
	}
	if err != nil {
		fmt.Fprintln(stderr, "transformer:", oneLine(err.Error()))
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.status
		}
		return 1
	}
	return 0
}

// exitError is an error that ends the command with a status other than 1.
type exitError struct {
	status int
	msg    string
}

func (e *exitError) Error() string { return e.msg }

// checkedWriter keeps the first write error, so that output lost on a full
// disk or a closed pipe ends the command with a non-zero status even where
// a write's error was not checked.
type checkedWriter struct {
	w   io.Writer
	err error
}

// Fd is the wrapped file's descriptor (^uintptr(0) if it is no file), so
// that terminal detection sees through the wrapper.
func (c *checkedWriter) Fd() uintptr {
	if f, ok := c.w.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "transformer",
		Short: "Train and run Transformer translators built on Gorgonia",
		Long: `transformer trains encoder-decoder Transformers from YAML configs and
translates with the trained models.

  transformer train --config configs/numbers-en-de.yaml
  transformer translate --checkpoint checkpoints/numbers-en-de "four hundred twenty-one"`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Flags every command shares are checked once here.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if f := cmd.Flags().Lookup("weights"); f != nil && f.Changed && f.Value.String() == "" {
				return fmt.Errorf("--weights must not be empty")
			}
			if f := cmd.Flags().Lookup("kernel"); f != nil && f.Changed {
				if err := graph.UseKernel(f.Value.String()); err != nil {
					return fmt.Errorf("--kernel: %w", err)
				}
			}
			return nil
		},
	}
	root.PersistentFlags().Bool("quiet", false, "print no progress or log lines, only results and errors")
	root.PersistentFlags().String("kernel", "", "matrix-product kernel: "+strings.Join(graph.Kernels(), ", ")+" (default: the first, the fastest this CPU runs)")
	root.PersistentFlags().String("log-format", "text", "text (a progress bar on a terminal, plain lines otherwise) or json (one object per line)")
	root.AddCommand(trainCmd(), translateCmd(), generateCmd(), exportCmd(), importCmd(), gradcheckCmd(), validateCmd(), plotCmd(), attentionCmd(), infoCmd(), scoreCmd(), evalCmd(), averageCmd(), convertCmd(), benchCmd(), classifyCmd(), benchLongCmd(), serveCmd())
	addExamples(root)
	return root
}

// oneLine keeps an error on one line, whatever wrapped it.
// Other control characters (an escape sequence in a file name) are shown
// escaped, never sent to the terminal.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\r", " ")), " ")
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// display makes the progress display for w from --quiet and --log-format.
func display(cmd *cobra.Command, w io.Writer) (*progress.Display, error) {
	quiet, _ := cmd.Flags().GetBool("quiet")
	format, _ := cmd.Flags().GetString("log-format")
	mode, err := progress.ModeFor(w, format, quiet)
	if err != nil {
		return nil, err
	}
	return progress.New(w, mode), nil
}
