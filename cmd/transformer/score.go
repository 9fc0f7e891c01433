package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/progress"
	"github.com/gotransformer/transformer/rundir"
)

// metricFlags are the options of score and eval.
type metricFlags struct {
	refs      []string
	tokenize  string
	lowercase bool
}

func (m *metricFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&m.refs, "ref", "r", nil, "reference file, one line per hypothesis (repeat for several references)")
	cmd.Flags().StringVar(&m.tokenize, "tokenize", "13a", "BLEU tokenizer: 13a (sacreBLEU's default) or none")
	cmd.Flags().BoolVar(&m.lowercase, "lowercase", false, "case-insensitive BLEU and chrF")
}

// readRefs reads every reference file and checks that each has n lines.
func (m *metricFlags) readRefs(n int, what string) ([][]string, error) {
	if len(m.refs) == 0 {
		return nil, fmt.Errorf("--ref is required")
	}
	var refs [][]string
	for _, path := range m.refs {
		lines, err := data.ReadLines(path)
		if err != nil {
			return nil, err
		}
		if len(lines) != n {
			return nil, fmt.Errorf("%s has %d lines but %s has %d: the files are not aligned", path, len(lines), what, n)
		}
		refs = append(refs, lines)
	}
	return refs, nil
}

// report scores hyps and prints BLEU and chrF with their signatures, or
// one JSON object.
func (m *metricFlags) report(cmd *cobra.Command, hyps []string, refs [][]string, extra ...progress.Field) error {
	bleu, err := data.CorpusBLEU(hyps, refs, data.BLEUOptions{Tokenize: m.tokenize, Lowercase: m.lowercase})
	if err != nil {
		return fmt.Errorf("--tokenize: %w", err)
	}
	chrf, err := data.CorpusChrF(hyps, refs, data.ChrFOptions{Lowercase: m.lowercase})
	if err != nil {
		return err
	}
	exact := 0
	for i, h := range hyps {
		if strings.Join(strings.Fields(h), " ") == strings.Join(strings.Fields(refs[0][i]), " ") {
			exact++
		}
	}
	if format, _ := cmd.Flags().GetString("log-format"); format == "json" {
		f := append(extra, progress.F("bleu", bleu.Score), progress.F("bleu_defined", bleu.Defined()), progress.F("bleu_signature", bleu.Signature),
			progress.F("bleu_precisions", bleu.Precisions), progress.F("bp", bleu.BP), progress.F("hyp_len", bleu.HypLen),
			progress.F("ref_len", bleu.RefLen), progress.F("chrf", chrf.Score), progress.F("chrf_signature", chrf.Signature),
			progress.F("exact_match", float64(exact)/float64(max(len(hyps), 1))), progress.F("exact", exact), progress.F("sentences", len(hyps)))
		progress.New(cmd.OutOrStdout(), progress.JSON).Message("score", "", f...)
		return nil
	}
	w := cmd.OutOrStdout()
	if bleu.Defined() {
		fmt.Fprintf(w, "%s\n  signature: %s\n", bleu, bleu.Signature)
	} else {
		fmt.Fprintf(w, "BLEU = n/a: the hypotheses have no 4-grams (every sentence is shorter than 4 tokens), so corpus BLEU says nothing; read exact match and chrF\n  signature: %s\n", bleu.Signature)
	}
	fmt.Fprintf(w, "%s\n  signature: %s\n", chrf, chrf.Signature)
	fmt.Fprintf(w, "exact match = %.2f%% (%d/%d, against the first reference, whitespace normalised)\n", 100*float64(exact)/float64(max(len(hyps), 1)), exact, len(hyps))
	return nil
}

func scoreCmd() *cobra.Command {
	var hypPaths []string
	var m metricFlags
	var sentence, pairedBS bool
	var samples int
	var seed uint64
	cmd := &cobra.Command{
		Use:   "score [--hyp FILE|-]... --ref FILE [--ref FILE...]",
		Short: "Corpus BLEU and chrF of detokenized hypotheses, as sacreBLEU computes them",
		Long: `Score a file of detokenized hypotheses (--hyp, or standard input) against
one or more reference files with corpus BLEU (sacreBLEU's defaults: 13a
tokenization, case-sensitive, exp smoothing) and chrF2 (character 6-grams,
β = 2), printed with sacreBLEU-style signatures, and exact match.

--sentence also prints each line's sentence BLEU (effective order, as
sacreBLEU's sentence_bleu) and chrF2.

--paired-bs compares systems: the first --hyp is the baseline, every other
--hyp is tested against it by paired bootstrap resampling as sacreBLEU's
--paired-bs does (--paired-bs-n resamples of the sentences, the same for
every system; the mean and 95% confidence interval of each system's
resampled scores; p-values from the centred differences). The resamples
are drawn from --seed, so the figures are reproducible; they differ from
sacreBLEU's only by the draw.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(hypPaths) == 0 {
				if progress.IsTerminal(cmd.InOrStdin()) {
					return fmt.Errorf("--hyp is required (or give the hypotheses on standard input)")
				}
				hypPaths = []string{"-"}
			}
			if len(hypPaths) > 1 && !pairedBS {
				return fmt.Errorf("%d --hyp files: give --paired-bs to compare systems, or one --hyp", len(hypPaths))
			}
			if pairedBS && len(hypPaths) < 2 {
				return fmt.Errorf("--paired-bs compares systems with a baseline: give at least two --hyp (the first is the baseline)")
			}
			if samples < 1 || samples > 100000 {
				return fmt.Errorf("--paired-bs-n must be in [1, 100000], got %d", samples)
			}
			var systems [][]string
			for i, p := range hypPaths {
				hyps, err := readHyps(cmd, p)
				if err != nil {
					return err
				}
				if i > 0 && len(hyps) != len(systems[0]) {
					return fmt.Errorf("%s has %d lines but %s has %d: the systems are not aligned", hypName(p), len(hyps), hypName(hypPaths[0]), len(systems[0]))
				}
				systems = append(systems, hyps)
			}
			refs, err := m.readRefs(len(systems[0]), hypName(hypPaths[0]))
			if err != nil {
				return err
			}
			if pairedBS {
				return m.pairedBootstrap(cmd, hypPaths, systems, refs, samples, seed)
			}
			if sentence {
				if err := m.sentences(cmd, systems[0], refs); err != nil {
					return err
				}
			}
			return m.report(cmd, systems[0], refs)
		},
	}
	cmd.Flags().StringArrayVar(&hypPaths, "hyp", nil, "hypotheses, one detokenized sentence per line (- or none: standard input; repeat with --paired-bs)")
	cmd.Flags().BoolVar(&sentence, "sentence", false, "also print each line's sentence BLEU and chrF")
	cmd.Flags().BoolVar(&pairedBS, "paired-bs", false, "compare every --hyp with the first by paired bootstrap resampling")
	cmd.Flags().IntVar(&samples, "paired-bs-n", 1000, "bootstrap resamples of --paired-bs")
	cmd.Flags().Uint64Var(&seed, "seed", 12345, "seed of the bootstrap resamples")
	m.add(cmd)
	return cmd
}

// readHyps reads a hypothesis file, or standard input for "-".
func readHyps(cmd *cobra.Command, path string) ([]string, error) {
	if path == "-" {
		return readLines(cmd.InOrStdin())
	}
	return data.ReadLines(path)
}

func hypName(path string) string {
	if path == "-" {
		return "standard input"
	}
	return path
}

func evalCmd() *cobra.Command {
	var ckpts []string
	var weights, srcPath, outPath, dtype string
	var dec decodeFlags
	var setFlags []string
	var m metricFlags
	cmd := &cobra.Command{
		Use:   "eval --checkpoint DIR --src FILE --ref FILE",
		Short: "Translate a test set and score it with BLEU and chrF",
		Long: `Translate each line of --src with the checkpoint (greedy, or --beam N),
optionally write the translations to --out, and score them against --ref
as 'transformer score' does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(ckpts) == 0 || srcPath == "" {
				return fmt.Errorf("--checkpoint and --src are required")
			}
			useDecodingGC()
			if outPath != "" {
				if err := rundir.CheckOutputFile(outPath, append([]string{srcPath}, m.refs...)...); err != nil {
					return fmt.Errorf("--out %w", err)
				}
			}
			if err := dec.check(cmd); err != nil {
				return err
			}
			if dec.samples > 1 {
				return fmt.Errorf("--samples %d: eval scores one translation per sentence (--samples 1 samples it)", dec.samples)
			}
			srcs, err := data.ReadLines(srcPath)
			if err != nil {
				return err
			}
			refs, err := m.readRefs(len(srcs), srcPath)
			if err != nil {
				return err
			}
			models, err := loadDecoding(ckpts, weights, setFlags, dtype)
			if err != nil {
				return err
			}
			defer models.Close()
			c := models.Checkpoint
			disp, err := display(cmd, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			opt, err := dec.options(cmd, c)
			if err != nil {
				return err
			}
			out, err := translateAll(commandContext(cmd), models.Translator(), c, srcs, opt, 0, disp, func(i int, msg string) {
				fmt.Fprintf(cmd.ErrOrStderr(), "transformer: warning: %s:%d: %s\n", srcPath, i+1, msg)
			})
			if err != nil {
				return err
			}
			hyps := make([]string, len(out))
			for i, o := range out {
				hyps[i] = o[0].Text
			}
			decoding := "greedy"
			if opt.Beam > 1 {
				decoding = fmt.Sprintf("beam %d, length penalty %g", opt.Beam, opt.Alpha)
			}
			if outPath != "" {
				if err := model.WriteFileAtomic(outPath, []byte(joinLines(hyps))); err != nil {
					return err
				}
			}
			return m.report(cmd, hyps, refs, progress.F("checkpoint", c.Path), progress.F("decoding", decoding))
		},
	}
	cmd.Flags().StringArrayVarP(&ckpts, "checkpoint", "k", nil, "run directory written by train (repeat for an ensemble: the models' log-probabilities are averaged)")
	addWeightsFlag(cmd, &weights, "load")
	addDtypeFlag(cmd, &dtype)
	addSetFlag(cmd, &setFlags, "decoding.* keys of the run's config")
	cmd.Flags().StringVar(&srcPath, "src", "", "source sentences, one per line")
	cmd.Flags().StringVarP(&outPath, "out", "o", "", "also write the translations here")
	dec.add(cmd)
	m.add(cmd)
	return cmd
}

func joinLines(lines []string) string {
	n := 0
	for _, l := range lines {
		n += len(l) + 1
	}
	b := make([]byte, 0, n)
	for _, l := range lines {
		b = append(append(b, l...), '\n')
	}
	return string(b)
}
