package rundir

import (
	"bufio"
	"fmt"
	"os"
	"unicode/utf8"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/safeio"
	"github.com/gotransformer/transformer/sysmem"
)

// Issue is one finding of ValidateConfigFile: a problem (training would
// fail or be wrong) or a warning.
type Issue struct {
	Err     error
	Warning bool
}

// ValidateConfigFile checks a config file and the data files it names
// without training: unknown keys, wrong types, invalid values, missing
// files, misaligned corpora and invalid UTF-8 are problems; empty lines are
// warnings (such pairs are dropped). Every finding names the file and line.
func ValidateConfigFile(path string) ([]Issue, error) { return ValidateConfigFileIn(path, "") }

// ValidateConfigFileIn is ValidateConfigFile with data.dir replaced by
// dataDir when it is not empty (transformer validate --data-dir).
func ValidateConfigFileIn(path, dataDir string) ([]Issue, error) {
	return ValidateConfigFileWith(path, dataDir, nil)
}

// ValidateConfigFileWith is ValidateConfigFileIn with sets applied to the
// file first (transformer validate --set); a problem with a key a --set
// wrote names the --set.
func ValidateConfigFileWith(path, dataDir string, sets []Set) ([]Issue, error) {
	raw, err := safeio.ReadFile(path, safeio.ConfigLimit, "config")
	if err != nil {
		return nil, err
	}
	if len(sets) > 0 {
		if raw, err = ApplySets(path, raw, sets); err != nil {
			return nil, err
		}
		issues, err := validateRaw(path, raw, dataDir)
		lines := setLines(raw, sets)
		for i := range issues {
			issues[i].Err = setError(issues[i].Err, sets, lines)
		}
		return issues, err
	}
	return validateRaw(path, raw, dataDir)
}

func validateRaw(path string, raw []byte, dataDir string) ([]Issue, error) {
	// Every problem in one pass: unknown keys and wrong types first, then
	// the values of every key that was read.
	var out []Issue
	for _, e := range YAMLProblems(path, raw) {
		out = append(out, Issue{Err: e})
	}
	c, err := parseNoValidate(path, raw)
	if err != nil {
		if len(out) > 0 {
			return out, nil
		}
		return []Issue{{Err: yamlError(path, err, 0)}}, nil
	}
	if c == nil {
		return []Issue{{Err: &ConfigError{Path: path, Msg: "empty config"}}}, nil
	}
	if dataDir != "" {
		c.Data.Dir = dataDir
	}
	problems := c.Problems()
	for _, e := range problems {
		out = append(out, Issue{Err: e})
	}
	if len(problems) == 0 {
		src, tgt := guessVocab(c.Data.SrcTokenizer.Merges), guessVocab(c.Data.TgtTokenizer.Merges)
		if c.Data.JointTokenizer {
			tgt = src
		}
		for _, e := range c.MemoryProblems(src, tgt, sysmem.Available()) {
			out = append(out, Issue{Err: e})
		}
	}
	d := c.Data
	if d.Generate == nil {
		for _, pair := range []Files{d.Train, d.Valid, d.Test} {
			if pair.TSV != "" {
				if _, err := data.ReadTSV(d.File(pair.TSV)); err != nil {
					out = append(out, Issue{Err: err})
				}
				continue
			}
			out = append(out, checkParallel(Files{Src: d.File(pair.Src), Tgt: d.File(pair.Tgt)})...)
		}
	}
	return out, nil
}

// checkParallel reports unreadable or misaligned files, invalid UTF-8 and
// empty lines.
func checkParallel(f Files) []Issue {
	if f.Src == "" || f.Tgt == "" {
		return nil
	}
	var out []Issue
	counts := [2]int{}
	for i, path := range []string{f.Src, f.Tgt} {
		if _, err := os.Stat(path); err != nil {
			return out // a missing file is reported by Problems
		}
		file, err := safeio.Open(path, safeio.CorpusLimit, "corpus file")
		if err != nil {
			return append(out, Issue{Err: err})
		}
		sc := bufio.NewScanner(file)
		sc.Buffer(make([]byte, 1<<20), 1<<26)
		for sc.Scan() {
			counts[i]++
			line := sc.Bytes()
			switch {
			case !utf8.Valid(line):
				out = append(out, Issue{Err: fmt.Errorf("%s:%d: invalid UTF-8", path, counts[i])})
			case len(bytesTrim(line)) == 0:
				out = append(out, Issue{Err: fmt.Errorf("%s:%d: empty line (the pair is dropped)", path, counts[i]), Warning: true})
			}
		}
		if err := sc.Err(); err != nil {
			out = append(out, Issue{Err: fmt.Errorf("%s:%d: %v", path, counts[i]+1, err)})
		}
		file.Close()
	}
	if counts[0] != counts[1] {
		out = append(out, Issue{Err: fmt.Errorf("misaligned corpus: %s has %d lines but %s has %d", f.Src, counts[0], f.Tgt, counts[1])})
	}
	return out
}

func bytesTrim(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	for j > i && (b[j-1] == ' ' || b[j-1] == '\t' || b[j-1] == '\r') {
		j--
	}
	return b[i:j]
}
