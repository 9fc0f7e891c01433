package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/rundir"
	"github.com/gotransformer/transformer/translate"
)

// decodeFlags are the decoding options of translate and eval.
type decodeFlags struct {
	batch, beam int
	alpha       float64
	// Sampling: samples per input (0: off), temperature, top-k, top-p, seed.
	samples, topK     int
	temperature, topP float64
	seed              uint64
}

func (d *decodeFlags) add(cmd *cobra.Command) {
	cmd.Flags().IntVar(&d.samples, "samples", 0, "sample this many translations per input from the model's distribution instead of searching (0: off)")
	cmd.Flags().Float64Var(&d.temperature, "temperature", 1, "with --samples: divide the scores by this (below 1: sharper, above: flatter)")
	cmd.Flags().IntVar(&d.topK, "top-k", 0, "with --samples: draw from the K most probable tokens only (0: all)")
	cmd.Flags().Float64Var(&d.topP, "top-p", 0, "with --samples: draw from the smallest set of tokens whose probability reaches P (nucleus; 0: all)")
	cmd.Flags().Uint64Var(&d.seed, "seed", 1, "with --samples: the seed; sample k of input i draws from a generator of (seed+k, i)")
	cmd.Flags().IntVar(&d.batch, "batch-size", 64, "sentences decoded together (beam search: sentences × beam rows)")
	cmd.Flags().IntVar(&d.beam, "beam", 0, fmt.Sprintf("beam size, at most %d and the target vocabulary; 1 decodes greedily (default: the config's decoding.beam)", model.MaxBeam))
	cmd.Flags().Float64Var(&d.alpha, "length-penalty", -1, "GNMT length penalty α for beam search (default: the config's decoding.length_penalty)")
	cmd.Flags().Lookup("length-penalty").DefValue = "0" // unset; help says where the default comes from
}

// check rejects bad flag values before anything is loaded.
func (d *decodeFlags) check(cmd *cobra.Command) error {
	switch {
	case d.batch <= 0:
		return fmt.Errorf("--batch-size must be positive, got %d", d.batch)
	case cmd.Flags().Changed("beam") && d.beam <= 0:
		return fmt.Errorf("--beam must be positive (1: greedy), got %d", d.beam)
	case d.beam > model.MaxBeam:
		return fmt.Errorf("--beam must be at most %d, got %d", model.MaxBeam, d.beam)
	case cmd.Flags().Changed("length-penalty") && (math.IsNaN(d.alpha) || math.IsInf(d.alpha, 0)):
		return fmt.Errorf("--length-penalty must be a finite number, got %g", d.alpha)
	case cmd.Flags().Changed("length-penalty") && d.alpha < 0:
		return fmt.Errorf("--length-penalty must not be negative, got %g", d.alpha)
	case d.samples < 0 || d.samples > maxSamples:
		return fmt.Errorf("--samples must be in [0, %d], got %d", maxSamples, d.samples)
	case d.samples > 0 && cmd.Flags().Changed("beam") && d.beam > 1:
		return fmt.Errorf("--samples draws translations and --beam %d searches for them: give one of them", d.beam)
	case d.samples == 0 && (cmd.Flags().Changed("temperature") || cmd.Flags().Changed("top-k") || cmd.Flags().Changed("top-p") || cmd.Flags().Changed("seed")):
		return fmt.Errorf("--temperature, --top-k, --top-p and --seed shape sampling: give --samples N too")
	}
	if s := d.sampling(0); s != nil {
		if err := s.Check(); err != nil {
			return fmt.Errorf("--%s", strings.Replace(err.Error(), "_", "-", 1))
		}
	}
	return nil
}

// maxSamples bounds --samples.
const maxSamples = 1000

// sampling is the sampling of sample k (nil when --samples is off).
func (d *decodeFlags) sampling(k int) *model.Sampling {
	if d.samples == 0 {
		return nil
	}
	return &model.Sampling{Temperature: d.temperature, TopK: d.topK, TopP: d.topP, Seed: d.seed + uint64(k)}
}

// options applies the flags to the checkpoint's decoding section and
// checks the result against the model (model.BeamOptions.Check).
func (d *decodeFlags) options(cmd *cobra.Command, c *rundir.Checkpoint) (model.BeamOptions, error) {
	opt := c.Config.Decoding.BeamOptions()
	opt.BatchSize = d.batch
	vocab := c.Model.Config.TgtVocab
	if cmd.Flags().Changed("beam") {
		if d.beam > vocab {
			return opt, fmt.Errorf("--beam must be at most the target vocabulary of %d tokens, got %d", vocab, d.beam)
		}
		opt.Beam = d.beam
	}
	if cmd.Flags().Changed("length-penalty") {
		opt.Alpha = d.alpha
	}
	if d.samples > 0 {
		opt.Beam, opt.Sample = 1, d.sampling(0) // drawing, not searching
	}
	if err := opt.Check(vocab); err != nil {
		return opt, fmt.Errorf("the checkpoint's config: decoding.%w", err)
	}
	return opt, nil
}

// commandContext is the command's context, cancelled when the command is
// to stop, or context.Background() when it has none.
func commandContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// maxInputTokens resolves --max-input-tokens against the model's limit:
// 0 (or the default, when above) means the limit; a value given above it
// is an error.
func maxInputTokens(cmd *cobra.Command, flag int, m *model.Transformer) (int, error) {
	most := m.MaxSourceLen()
	if flag > most && cmd.Flags().Changed("max-input-tokens") {
		return 0, fmt.Errorf("--max-input-tokens %d exceeds the model's limit of %d tokens", flag, most)
	}
	if flag <= 0 || flag > most {
		return most, nil
	}
	return flag, nil
}

func translateCmd() *cobra.Command {
	var ckpts []string
	var weights, dtype string
	var maxLen, nbest int
	var dec decodeFlags
	var setFlags []string
	cmd := &cobra.Command{
		Use:   "translate --checkpoint DIR [TEXT...]",
		Short: "Translate sentences with a trained model (greedy or beam search)",
		Long: `Translate each TEXT argument, or each line of standard input when no TEXT is
given, printing one output line per input line, always: an empty line gives an
empty line, unknown characters become <unk>, invalid UTF-8 is read as U+FFFD,
and inputs longer than --max-input-tokens are truncated with a warning on
stderr. Sentences are decoded in batches, greedily or with --beam N.

--nbest N prints N lines per input in Moses format: "INDEX ||| TRANSLATION
||| SCORE", INDEX counting from 0 and SCORE the log-probability divided by
the length penalty; it searches with a beam of N unless --beam (at least N)
or the config's decoding.beam is larger. At the prompt the N translations
are numbered, with their scores.

When standard input is a terminal and no TEXT is given, translate prompts
for one sentence at a time (end with Ctrl-D or an empty line). Translating
a file shows progress on stderr.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(ckpts) == 0 {
				return fmt.Errorf("--checkpoint is required")
			}
			useDecodingGC()
			if maxLen < 0 {
				return fmt.Errorf("--max-input-tokens must not be negative, got %d", maxLen)
			}
			if nbest <= 0 || nbest > model.MaxBeam {
				return fmt.Errorf("--nbest must be in [1, %d], got %d", model.MaxBeam, nbest)
			}
			if err := dec.check(cmd); err != nil {
				return err
			}
			models, err := loadDecoding(ckpts, weights, setFlags, dtype)
			if err != nil {
				return err
			}
			defer models.Close()
			c := models.Checkpoint
			opt, err := dec.options(cmd, c)
			if err != nil {
				return err
			}
			if maxLen, err = maxInputTokens(cmd, maxLen, c.Model); err != nil {
				return err
			}
			if dec.samples > 0 && cmd.Flags().Changed("nbest") {
				return fmt.Errorf("--samples N gives N translations per input already: drop --nbest")
			}
			if nbest > max(opt.Beam, 1) {
				if cmd.Flags().Changed("beam") {
					return fmt.Errorf("--nbest %d needs a beam of at least %d, got --beam %d", nbest, nbest, opt.Beam)
				}
				if nbest > c.Model.Config.TgtVocab {
					return fmt.Errorf("--nbest must be at most the target vocabulary of %d tokens, got %d", c.Model.Config.TgtVocab, nbest)
				}
				opt.Beam = nbest // --nbest N alone searches with a beam of N
			}
			opt.NBest = nbest
			if dec.samples > 0 {
				nbest, opt.NBest = dec.samples, dec.samples
			}
			ctx := commandContext(cmd)
			tr := models.Translator()
			warn := func(i int, msg string) {
				fmt.Fprintf(cmd.ErrOrStderr(), "transformer: warning: line %d: %s\n", i+1, msg)
			}
			if len(args) == 0 && progress.IsTerminal(cmd.InOrStdin()) {
				one := func(s string) (string, error) {
					out, err := decodeLines(ctx, tr, c, []string{s}, 0, opt, maxLen, func(_ int, msg string) { warn(0, msg) })
					if err != nil {
						return "", err
					}
					if nbest == 1 {
						return out[0][0].Text, nil
					}
					var b strings.Builder
					for i, h := range out[0] {
						if i > 0 {
							b.WriteByte('\n')
						}
						if opt.Sample != nil {
							fmt.Fprintf(&b, "%d. %s", i+1, h.Text)
						} else {
							fmt.Fprintf(&b, "%d. %s  (%.4f)", i+1, h.Text, h.Score)
						}
					}
					return b.String(), nil
				}
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
			// Each chunk is written as soon as it is translated; SIGINT or
			// SIGTERM stops within a decoding step, with what is done written.
			ctx, got, stopSignals := signalContext(ctx)
			defer stopSignals()
			w := bufio.NewWriter(cmd.OutOrStdout())
			written := 0
			err = translateChunks(ctx, tr, c, lines, opt, maxLen, disp, warn, func(start int, out [][]translate.Hypothesis) error {
				for i, hyps := range out {
					if nbest == 1 {
						fmt.Fprintln(w, hyps[0].Text)
						continue
					}
					for _, h := range hyps {
						if opt.Sample != nil { // samples have no score
							fmt.Fprintf(w, "%d ||| %s\n", start+i, h.Text)
							continue
						}
						fmt.Fprintf(w, "%d ||| %s ||| %.6f\n", start+i, h.Text, h.Score)
					}
				}
				written = start + len(out)
				return w.Flush()
			})
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return interrupted(got, fmt.Sprintf(": %d of %d lines translated and written", written, len(lines)))
			}
			if err != nil {
				return err
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringArrayVarP(&ckpts, "checkpoint", "k", nil, "run directory written by train (repeat for an ensemble: the models' log-probabilities are averaged)")
	addWeightsFlag(cmd, &weights, "load")
	addDtypeFlag(cmd, &dtype)
	cmd.Flags().IntVar(&maxLen, "max-input-tokens", 256, "longer inputs are truncated, with a warning (0: the model's limit, at most "+fmt.Sprint(model.MaxInputTokens)+")")
	cmd.Flags().IntVar(&nbest, "nbest", 1, "translations per input (a beam of at least N)")
	addSetFlag(cmd, &setFlags, "decoding.* keys of the run's config")
	dec.add(cmd)
	return cmd
}

// decodeLines translates lines greedily (opt.Beam ≤ 1, one translation
// each, without scores) or by beam search, until ctx is done.
// With opt.Sample set it draws opt.NBest samples of each line instead
// (sample k from the seed plus k), the lines being those from position
// first of the whole input.
func decodeLines(ctx context.Context, tr *model.Translator, c *rundir.Checkpoint, lines []string, first int, opt model.BeamOptions, maxLen int, warn func(i int, msg string)) ([][]translate.Hypothesis, error) {
	if opt.Sample != nil {
		res := make([][]translate.Hypothesis, len(lines))
		for k := 0; k < max(opt.NBest, 1); k++ {
			s := *opt.Sample
			s.Seed, s.First = s.Seed+uint64(k), first
			o := opt.DecodeOptions
			o.Sample = &s
			w := warn
			if k > 0 {
				w = nil // warned for the first sample
			}
			out, err := translate.Greedy(ctx, tr, c.SrcTok, c.TgtTok, lines, o, maxLen, w)
			if err != nil {
				return nil, err
			}
			for i, text := range out {
				res[i] = append(res[i], translate.Hypothesis{Text: text})
			}
		}
		return res, nil
	}
	if opt.Beam > 1 {
		return translate.Beam(ctx, tr, c.SrcTok, c.TgtTok, lines, opt, maxLen, warn)
	}
	out, err := translate.Greedy(ctx, tr, c.SrcTok, c.TgtTok, lines, opt.DecodeOptions, maxLen, warn)
	if err != nil {
		return nil, err
	}
	res := make([][]translate.Hypothesis, len(out))
	for i, o := range out {
		res[i] = []translate.Hypothesis{{Text: o}}
	}
	return res, nil
}

// translateAll translates lines in chunks of several batches, which keeps
// length sorting effective and lets progress be shown on disp; it stops
// with ctx.Err() when ctx is done.
func translateAll(ctx context.Context, tr *model.Translator, c *rundir.Checkpoint, lines []string, opt model.BeamOptions, maxLen int,
	disp *progress.Display, warn func(i int, msg string)) ([][]translate.Hypothesis, error) {
	out := make([][]translate.Hypothesis, 0, len(lines))
	err := translateChunks(ctx, tr, c, lines, opt, maxLen, disp, warn, func(_ int, o [][]translate.Hypothesis) error {
		out = append(out, o...)
		return nil
	})
	return out, err
}

// translateChunks is translateAll handing each chunk's translations, in
// order, to done as soon as they are ready (start is the chunk's first
// line), so that output flows and a stop loses at most one chunk.
func translateChunks(ctx context.Context, tr *model.Translator, c *rundir.Checkpoint, lines []string, opt model.BeamOptions, maxLen int,
	disp *progress.Display, warn func(i int, msg string), done func(start int, out [][]translate.Hypothesis) error) error {
	chunk := 8 * opt.BatchSize
	task := disp.Start("translate", len(lines), "sentences")
	defer task.Finish()
	for start := 0; start < len(lines); start += chunk {
		end := min(start+chunk, len(lines))
		o, err := decodeLines(ctx, tr, c, lines[start:end], start, opt, maxLen, func(i int, msg string) { warn(start+i, msg) })
		if err != nil {
			return err
		}
		if err := done(start, o); err != nil {
			return err
		}
		task.Update(end)
	}
	return nil
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

// maxStdin bounds what translate reads from standard input, which it holds
// whole to sort sentences by length.
const maxStdin = 1 << 30

// readLines reads every line of standard input r, without line endings:
// lines of at most 64 MiB, 1 GiB in all.
func readLines(r io.Reader) ([]string, error) {
	var lines []string
	var total int
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		total += len(sc.Bytes()) + 1
		if total > maxStdin {
			return nil, fmt.Errorf("standard input: more than %d MiB; translate it in parts", maxStdin>>20)
		}
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return nil, fmt.Errorf("standard input: line %d: longer than 64 MiB", len(lines)+1)
	}
	return lines, sc.Err()
}
