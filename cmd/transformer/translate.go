package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/train"
)

func translateCmd() *cobra.Command {
	var ckpt, weights string
	var batch, maxLen int
	cmd := &cobra.Command{
		Use:   "translate --checkpoint DIR [TEXT...]",
		Short: "Translate sentences with a trained model (greedy decoding)",
		Long: `Translate each TEXT argument, or each line of standard input when no TEXT is
given, printing one output line per input line, always: an empty line gives an
empty line, unknown characters become <unk>, invalid UTF-8 is read as U+FFFD,
and inputs longer than --max-input-tokens are truncated with a warning on
stderr. Sentences are decoded greedily in batches.

When standard input is a terminal and no TEXT is given, translate prompts
for one sentence at a time (end with Ctrl-D or an empty line). Translating
a file shows progress on stderr.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if ckpt == "" {
				return fmt.Errorf("--checkpoint is required")
			}
			if batch <= 0 {
				return fmt.Errorf("--batch-size must be positive, got %d", batch)
			}
			if maxLen < 0 {
				return fmt.Errorf("--max-input-tokens must not be negative, got %d", maxLen)
			}
			c, err := train.LoadCheckpoint(ckpt, weights)
			if err != nil {
				return err
			}
			opt := c.Config.Decoding.Options()
			opt.BatchSize = batch
			tr := model.NewTranslator(c.Model, 0)
			defer tr.Close()
			warn := func(i int, msg string) {
				fmt.Fprintf(cmd.ErrOrStderr(), "transformer: warning: line %d: %s\n", i+1, msg)
			}
			one := func(s string) (string, error) {
				out, err := train.Translate(tr, c.SrcTok, c.TgtTok, []string{s}, opt, maxLen, func(_ int, msg string) { warn(0, msg) })
				if err != nil {
					return "", err
				}
				return out[0], nil
			}
			if len(args) == 0 && progress.IsTerminal(cmd.InOrStdin()) {
				return interactive(cmd.InOrStdin(), cmd.OutOrStdout(), one)
			}
			lines := args
			if len(lines) == 0 {
				if lines, err = readLines(cmd.InOrStdin()); err != nil {
					return err
				}
			}
			disp, err := display(cmd, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			out, err := translateAll(tr, c, lines, opt, maxLen, disp, warn)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(cmd.OutOrStdout())
			defer w.Flush()
			for _, o := range out {
				fmt.Fprintln(w, o)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&ckpt, "checkpoint", "k", "", "run directory written by train")
	cmd.Flags().StringVar(&weights, "weights", "best", "which weights to load: best or last")
	cmd.Flags().IntVar(&batch, "batch-size", 64, "sentences decoded together")
	cmd.Flags().IntVar(&maxLen, "max-input-tokens", 256, "longer inputs are truncated, with a warning (0: no limit)")
	return cmd
}

// readLines reads every line of r, without line endings.
func readLines(r io.Reader) ([]string, error) {
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	return lines, sc.Err()
}

// interactive prompts for sentences on a terminal and prints each
// translation, until end of input or an empty line.
func interactive(in io.Reader, out io.Writer, translate func(string) (string, error)) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	fmt.Fprintln(out, "Type a sentence and press Enter; an empty line or Ctrl-D ends.")
	for {
		fmt.Fprint(out, "> ")
		if !sc.Scan() {
			fmt.Fprintln(out)
			return sc.Err()
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			return nil
		}
		t, err := translate(line)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, t)
	}
}

// translateAll translates lines in chunks of several batches, which keeps
// length sorting effective and lets progress be shown on disp.
func translateAll(tr *model.Translator, c *train.Checkpoint, lines []string, opt model.DecodeOptions, maxLen int,
	disp *progress.Display, warn func(i int, msg string)) ([]string, error) {
	chunk := 8 * opt.BatchSize
	task := disp.Start("translate", len(lines), "sentences")
	defer task.Finish()
	out := make([]string, 0, len(lines))
	for start := 0; start < len(lines); start += chunk {
		end := min(start+chunk, len(lines))
		o, err := train.Translate(tr, c.SrcTok, c.TgtTok, lines[start:end], opt, maxLen,
			func(i int, msg string) { warn(start+i, msg) })
		if err != nil {
			return nil, err
		}
		out = append(out, o...)
		task.Update(end)
	}
	return out, nil
}
