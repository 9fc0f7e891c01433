package rundir

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gorgonia.org/tensor"

	"github.com/gotransformer/transformer/data"
	"github.com/gotransformer/transformer/graph"
	"github.com/gotransformer/transformer/half"
	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/safeio"
)

// A run directory:
//
//	config.yaml, src_tokenizer.json, tgt_tokenizer.json, train.log
//	checkpoints/step-0000500/{model.safetensors, optimizer.safetensors, state.json}
//	latest   names the newest complete checkpoint ("checkpoints/step-0000500")
//	best     names the checkpoint with the best validation metric
//
// A checkpoint is written into a temporary directory, every file synced,
// then renamed into place; only then is the pointer replaced (atomically),
// so a pointer never names an incomplete checkpoint. state.json holds the
// SHA-256 of the other two files.
const (
	ConfigFile       = "config.yaml"           // the resolved config
	SrcTokenizerFile = "src_tokenizer.json"    // source BPE
	TgtTokenizerFile = "tgt_tokenizer.json"    // target BPE
	LogFile          = "train.log"             // the log
	CheckpointsDir   = "checkpoints"           // one directory per saved step
	LatestFile       = "latest"                // pointer to the newest checkpoint
	BestFile         = "best"                  // pointer to the best checkpoint
	WeightsFile      = "model.safetensors"     // weights, in a checkpoint
	OptimizerFile    = "optimizer.safetensors" // Adam moments, in a checkpoint
	StateFile        = "state.json"            // training state, in a checkpoint
)

// State is the training state saved with a checkpoint: with the weights and
// the optimizer moments it is everything a resumed run needs to continue
// exactly where the saved one was.
type State struct {
	Step  int `json:"step"`
	Epoch int `json:"epoch"` // epochs started
	Pos   int `json:"pos"`   // batches of the current epoch already trained on
	// DropoutRNG is the dropout generator's state.
	DropoutRNG uint64 `json:"dropout_rng"`
	AdamStep   int    `json:"adam_step"`
	Seed       int64  `json:"seed"`
	Metric     string `json:"best_metric"`
	// BestValue is the best validation value of Metric, signed so that
	// higher is better; BestStep is 0 before the first validation.
	BestValue float64            `json:"best_value"`
	BestStep  int                `json:"best_step"`
	Valid     map[string]float64 `json:"valid,omitempty"`
	// ValidStep is the step Valid was measured at (checkpoints saved between
	// validations carry the previous figures).
	ValidStep int `json:"valid_step,omitempty"`
	// Stale counts validations since the best one (for training.patience).
	Stale int `json:"stale,omitempty"`
	// AveragedFrom lists the checkpoints whose weights were averaged into
	// this one (transformer average).
	AveragedFrom []string `json:"averaged_from,omitempty"`
	// WeightsFormat is "f16" or "bf16" when the weight matrices were
	// converted to 16 bits (transformer convert), and ConvertedFrom the
	// checkpoint they came from; such a run translates but cannot be
	// trained on.
	WeightsFormat string `json:"weights_format,omitempty"`
	ConvertedFrom string `json:"converted_from,omitempty"`
	Skipped       int    `json:"skipped_batches,omitempty"`
	// LossScale is float16 training's loss scale and LossScaleClean the
	// steps since it last changed (training.loss_scale); 0 before the
	// first step.
	LossScale      float64 `json:"loss_scale,omitempty"`
	LossScaleClean int     `json:"loss_scale_clean,omitempty"`
	// MicroBatches counts the micro-batches trained on, over all processes
	// (Step × training.accumulate × processes when neither changed).
	MicroBatches int `json:"micro_batches,omitempty"`
	// Processes is how many data-parallel processes trained up to this
	// checkpoint (0 or 1: one).
	Processes int `json:"processes,omitempty"`
	// TrainSeconds is the wall time spent in training (validation included)
	// up to this checkpoint, over the run and all its resumptions;
	// training.max_time counts against it.
	TrainSeconds float64 `json:"train_seconds,omitempty"`
	// Files maps the checkpoint's other files to their SHA-256.
	Files map[string]string `json:"files"`
	// ModelConfig is the SHA-256 of config.yaml's model section and
	// Tokenizers that of each tokenizer file, when the checkpoint was
	// saved: loading refuses a run whose model or vocabularies changed.
	ModelConfig string            `json:"model_config_sha256,omitempty"`
	Tokenizers  map[string]string `json:"tokenizers_sha256,omitempty"`
}

// Checkpoint is a loaded run: config, tokenizers, model, and the state of
// the checkpoint its weights came from.
type Checkpoint struct {
	Dir            string
	Config         *Config
	SrcTok, TgtTok *data.BPE
	Model          *model.Transformer
	State          State
	// Path is the checkpoint directory the weights came from.
	Path string
}

// writeFile is replaced in tests to simulate a full disk.
var writeFile = model.WriteFileSynced

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Moments is the optimizer state a checkpoint keeps: Adam's first (M)
// and second (V) moments by parameter name, and its update count.
type Moments struct {
	M, V map[string]*tensor.Dense
	Step int
}

// Save writes the weights of store, the optimizer moments and st as
// checkpoint step-N of run, then points latest at it, and returns the
// checkpoint's path relative to run. st is first stamped with the digest
// of the model section mc and of the run's tokenizer files named (none for
// a task without tokenizers), which loading verifies.
func Save(run string, store *graph.Store, opt Moments, st State, mc model.Config, tokenizers ...string) (string, error) {
	if err := stamp(&st, run, mc, tokenizers); err != nil {
		return "", err
	}
	weights, err := model.EncodeSafetensors(storeTensors(store), map[string]string{"format": "gotransformer", "step": fmt.Sprint(st.Step)})
	if err != nil {
		return "", err
	}
	moments, err := encodeOptimizer(opt)
	if err != nil {
		return "", err
	}
	st.AdamStep = opt.Step
	st.Files = map[string]string{WeightsFile: sha(weights), OptimizerFile: sha(moments)}
	state, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return "", err
	}
	parent := filepath.Join(run, CheckpointsDir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(parent, ".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for _, f := range []struct {
		name string
		data []byte
	}{{WeightsFile, weights}, {OptimizerFile, moments}, {StateFile, append(state, '\n')}} {
		if err := writeFile(filepath.Join(tmp, f.name), f.data); err != nil {
			return "", fmt.Errorf("saving checkpoint at step %d: %w (the previous checkpoint is kept)", st.Step, err)
		}
	}
	syncDir(tmp)
	rel := filepath.Join(CheckpointsDir, fmt.Sprintf("step-%07d", st.Step))
	final := filepath.Join(run, rel)
	if err := os.RemoveAll(final); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", err
	}
	syncDir(parent)
	if err := SetPointer(run, LatestFile, rel); err != nil {
		return "", err
	}
	return rel, nil
}

// SetPointer points run's pointer file name (LatestFile, BestFile) at the
// checkpoint rel, atomically.
func SetPointer(run, name, rel string) error {
	if err := model.WriteFileAtomic(filepath.Join(run, name), []byte(rel+"\n")); err != nil {
		return fmt.Errorf("saving %s pointer: %w", name, err)
	}
	return nil
}

// ReadPointer returns the checkpoint that run's pointer file name names,
// relative to run.
func ReadPointer(run, name string) (string, error) {
	b, err := safeio.ReadFile(filepath.Join(run, name), safeio.PointerLimit, name+" pointer")
	if err != nil {
		return "", err
	}
	rel := strings.TrimSpace(string(b))
	if !strings.HasPrefix(rel, CheckpointsDir+string(filepath.Separator)) || strings.Contains(rel, "..") || strings.ContainsAny(rel, "\x00\n") {
		return "", fmt.Errorf("%s: does not name a checkpoint (%q)", filepath.Join(run, name), rel)
	}
	return rel, nil
}

// Prune deletes all but the newest keep checkpoints of run, keeping the
// latest, the best and the keepBest best by metric.
func Prune(run string, keep, keepBest int, metric string) {
	entries, err := os.ReadDir(filepath.Join(run, CheckpointsDir))
	if err != nil {
		return
	}
	var steps []string
	for _, e := range entries {
		switch {
		case e.IsDir() && strings.HasPrefix(e.Name(), "step-"):
			// Only complete checkpoints count toward keep_checkpoints: a
			// stray or damaged step folder is left alone, and never makes a
			// good checkpoint go.
			if _, err := readState(filepath.Join(run, CheckpointsDir, e.Name())); err == nil {
				steps = append(steps, e.Name())
			}
		case strings.HasPrefix(e.Name(), ".tmp-"):
			// Left by a save that was killed midway.
			os.RemoveAll(filepath.Join(run, CheckpointsDir, e.Name()))
		}
	}
	sort.Strings(steps)
	protect := map[string]bool{}
	for _, p := range []string{LatestFile, BestFile} {
		if rel, err := ReadPointer(run, p); err == nil {
			protect[filepath.Base(rel)] = true
		}
	}
	if keepBest > 1 {
		if cks, err := listCheckpoints(run); err == nil {
			for _, c := range bestCheckpoints(cks, metric, keepBest) {
				protect[filepath.Base(c.rel)] = true
			}
		}
	}
	for i := 0; i < len(steps)-keep; i++ {
		if !protect[steps[i]] {
			os.RemoveAll(filepath.Join(run, CheckpointsDir, steps[i]))
		}
	}
}

func storeTensors(store *graph.Store) map[string]*tensor.Dense {
	vals := map[string]*tensor.Dense{}
	for _, n := range store.Names() {
		vals[n] = store.Get(n)
	}
	return vals
}

// encodeOptimizer serialises Adam's moments as "m.<param>" and "v.<param>".
func encodeOptimizer(a Moments) ([]byte, error) {
	vals := map[string]*tensor.Dense{}
	for n, t := range a.M {
		vals["m."+n] = t
	}
	for n, t := range a.V {
		vals["v."+n] = t
	}
	return model.EncodeSafetensors(vals, map[string]string{"format": "adam", "step": fmt.Sprint(a.Step)})
}

// readCheckpointFile reads one file of checkpoint dir and checks its
// SHA-256 against the state.
func readCheckpointFile(dir string, st State, name string, limit int64) ([]byte, error) {
	path := filepath.Join(dir, name)
	b, err := safeio.ReadFile(path, limit, "checkpoint file")
	if err != nil {
		return nil, err
	}
	if want, ok := st.Files[name]; !ok || sha(b) != want {
		return nil, fmt.Errorf("%s: checksum mismatch: the file is corrupted or incomplete", path)
	}
	return b, nil
}

func readState(dir string) (State, error) {
	path := filepath.Join(dir, StateFile)
	b, err := safeio.ReadFile(path, safeio.StateLimit, "training state")
	if err != nil {
		return State{}, err
	}
	st, err := parseState(path, b)
	if err != nil {
		return State{}, err
	}
	if name := fmt.Sprintf("step-%07d", st.Step); strings.HasPrefix(filepath.Base(dir), "step-") && filepath.Base(dir) != name {
		return State{}, fmt.Errorf("%s: step %d belongs in %s, not %s", path, st.Step, name, filepath.Base(dir))
	}
	return st, nil
}

// LoadCheckpoint loads a run directory written by training. which is
// "best" (the default; the latest checkpoint when no validation has run
// yet) or "last".
func LoadCheckpoint(dir, which string) (*Checkpoint, error) {
	if run, step, ok := checkpointDir(dir); ok {
		// RUN/checkpoints/step-0000750: that step of that run.
		if which != "" && which != "best" && stepName(which) != step {
			return nil, fmt.Errorf("%s is step %s of the run %s; --weights %s names other weights: give one of them", dir, step, run, which)
		}
		dir, which = run, step
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("checkpoint %s: not a directory", dir)
	}
	pointer := LatestFile
	step := ""
	switch which {
	case "", "best":
		if _, err := os.Lstat(filepath.Join(dir, BestFile)); err == nil {
			pointer = BestFile // a broken best is an error, not a fallback
		}
	case "last":
	default:
		if err := WeightsError(which); err != nil {
			return nil, err
		}
		step = stepName(which)
	}
	ck, err := LoadRun(dir)
	if err != nil {
		return nil, err
	}
	rel := filepath.Join(CheckpointsDir, step)
	if step != "" {
		if _, err := os.Stat(filepath.Join(dir, rel, StateFile)); err != nil {
			return nil, fmt.Errorf("checkpoint %s: no saved step %s (saved: %s)", dir, step, savedSteps(dir))
		}
	} else if rel, err = ReadPointer(dir, pointer); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("checkpoint %s: no saved weights yet (no %s file)", dir, pointer)
		}
		return nil, err
	}
	ck.Path = filepath.Join(dir, rel)
	if ck.State, err = readState(ck.Path); err != nil {
		return nil, err
	}
	if err := verifyRun(dir, ck.Path, ck.Config.Model, ck.State); err != nil {
		return nil, err
	}
	if ck.State.WeightsFormat != "" {
		// Drop the float32 matrices before the 16-bit ones arrive, so that
		// both are never held at once.
		f, err := half.ParseFormat(ck.State.WeightsFormat)
		if err != nil {
			return nil, fmt.Errorf("%s: weights_format: %w", filepath.Join(ck.Path, StateFile), err)
		}
		if _, err := ck.Model.ToHalf(f); err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
		}
	}
	weights, err := readCheckpointFile(ck.Path, ck.State, WeightsFile, weightsLimit(ck.Model.Store, 1))
	if err != nil {
		return nil, err
	}
	if err := loadWeights(ck.Model.Store, filepath.Join(ck.Path, WeightsFile), weights); err != nil {
		return nil, err
	}
	return ck, nil
}

// LoadRun reads a run's config and tokenizers and builds its model.
func LoadRun(dir string) (*Checkpoint, error) {
	cfg, err := LoadConfig(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	src, err := data.LoadBPE(filepath.Join(dir, SrcTokenizerFile))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	tgt, err := data.LoadBPE(filepath.Join(dir, TgtTokenizerFile))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	mc := cfg.Model
	mc.SrcVocab, mc.TgtVocab = src.Size(), tgt.Size()
	m, err := model.New(mc, DtypeOf(cfg.Training.Dtype), cfg.Training.Seed)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	return &Checkpoint{Dir: dir, Config: cfg, SrcTok: src, TgtTok: tgt, Model: m}, nil
}

func loadWeights(store *graph.Store, path string, b []byte) error {
	vals, _, err := model.DecodeSafetensors(b)
	if err != nil {
		return fmt.Errorf("%s: not a valid safetensors file: %w", path, err)
	}
	if err := store.Load(vals); err != nil {
		return fmt.Errorf("%s: %w (was it written for another config?)", path, err)
	}
	return nil
}

// loadMoments decodes Adam's moments for the parameters of store.
func loadMoments(store *graph.Store, path string, b []byte, step int) (Moments, error) {
	vals, _, err := model.DecodeSafetensors(b)
	if err != nil {
		return Moments{}, fmt.Errorf("%s: not a valid safetensors file: %w", path, err)
	}
	a := Moments{M: map[string]*tensor.Dense{}, V: map[string]*tensor.Dense{}, Step: step}
	for _, n := range store.Names() {
		p := store.Get(n)
		for _, k := range []string{"m.", "v."} {
			t, ok := vals[k+n]
			if !ok {
				return Moments{}, fmt.Errorf("%s: missing tensor %q", path, k+n)
			}
			if !t.Shape().Eq(p.Shape()) || t.Dtype() != p.Dtype() {
				return Moments{}, fmt.Errorf("%s: tensor %q is %v %v, want %v %v", path, k+n, t.Dtype(), t.Shape(), p.Dtype(), p.Shape())
			}
		}
		a.M[n], a.V[n] = vals["m."+n], vals["v."+n]
	}
	return a, nil
}

// weightsLimit is the largest size a safetensors file of copies tensors of
// store's parameters can have: eight bytes a value and the largest header.
func weightsLimit(store *graph.Store, copies int) int64 {
	return model.WeightsLimit(copies*store.NumElements(), 8)
}

// DtypeOf is the tensor type a config's training.dtype names (float32
// unless it is "float64").
func DtypeOf(name string) tensor.Dtype {
	if name == "float64" {
		return tensor.Float64
	}
	return tensor.Float32
}

// Resume reads the latest checkpoint of run for continuing it: it checks
// the checkpoint against the run's model section mc and tokenizer files,
// loads its weights into store and returns its state and optimizer
// moments.
func Resume(run string, mc model.Config, store *graph.Store) (State, Moments, error) {
	rel, err := ReadPointer(run, LatestFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if cks, lerr := listCheckpoints(run); lerr == nil && len(cks) > 0 {
				last := cks[len(cks)-1].rel
				return State{}, Moments{}, fmt.Errorf("cannot resume %s: its %s pointer is missing; the newest complete checkpoint is %s (write that line into %s to resume from it)",
					run, LatestFile, last, filepath.Join(run, LatestFile))
			}
			return State{}, Moments{}, fmt.Errorf("cannot resume %s: it has no checkpoint yet", run)
		}
		return State{}, Moments{}, err
	}
	dir := filepath.Join(run, rel)
	st, err := readState(dir)
	if err != nil {
		return State{}, Moments{}, err
	}
	if st.WeightsFormat != "" {
		return State{}, Moments{}, fmt.Errorf("cannot resume %s: its weights were converted to %s for translation (transformer convert); resume the run it came from (%s)", run, st.WeightsFormat, st.ConvertedFrom)
	}
	if err := verifyRun(run, dir, mc, st); err != nil {
		return State{}, Moments{}, err
	}
	weights, err := readCheckpointFile(dir, st, WeightsFile, weightsLimit(store, 1))
	if err != nil {
		return State{}, Moments{}, err
	}
	moments, err := readCheckpointFile(dir, st, OptimizerFile, weightsLimit(store, 2))
	if err != nil {
		return State{}, Moments{}, err
	}
	if err := loadWeights(store, filepath.Join(dir, WeightsFile), weights); err != nil {
		return State{}, Moments{}, err
	}
	if f := store.Half(); f != 0 {
		return State{}, Moments{}, fmt.Errorf("cannot resume %s: %s holds %v weight matrices, and training keeps float32 weights", run, filepath.Join(dir, WeightsFile), f)
	}
	m, err := loadMoments(store, filepath.Join(dir, OptimizerFile), moments, st.AdamStep)
	if err != nil {
		return State{}, Moments{}, err
	}
	return st, m, nil
}

// LoadWeights loads the weights of run's checkpoint which ("best" or
// "last", as LoadCheckpoint) into store, after the checks LoadCheckpoint
// makes, and returns the checkpoint's state.
func LoadWeights(run, which string, mc model.Config, store *graph.Store) (State, error) {
	pointer := LatestFile
	if which != "last" {
		if _, err := os.Lstat(filepath.Join(run, BestFile)); err == nil {
			pointer = BestFile
		}
	}
	rel, err := ReadPointer(run, pointer)
	if err != nil {
		return State{}, err
	}
	dir := filepath.Join(run, rel)
	st, err := readState(dir)
	if err != nil {
		return State{}, err
	}
	if err := verifyRun(run, dir, mc, st); err != nil {
		return State{}, err
	}
	weights, err := readCheckpointFile(dir, st, WeightsFile, weightsLimit(store, 1))
	if err != nil {
		return State{}, err
	}
	return st, loadWeights(store, filepath.Join(dir, WeightsFile), weights)
}

// stepName is the checkpoint folder which names ("step-0000750" or "750"),
// or "" when it names none.
func stepName(which string) string {
	var n int
	if _, err := fmt.Sscanf(which, "step-%d", &n); err != nil {
		if _, err := fmt.Sscanf(which, "%d", &n); err != nil {
			return ""
		}
	}
	name := fmt.Sprintf("step-%07d", n)
	if n < 0 || n > MaxSteps || (which != name && which != fmt.Sprint(n)) {
		return ""
	}
	return name
}

// checkpointDir reports whether dir is a checkpoint folder of a run
// (RUN/checkpoints/step-N), and which.
func checkpointDir(dir string) (run, step string, ok bool) {
	step = filepath.Base(filepath.Clean(dir))
	parent := filepath.Dir(filepath.Clean(dir))
	if stepName(step) != step || filepath.Base(parent) != CheckpointsDir || !IsRun(filepath.Dir(parent)) {
		return "", "", false
	}
	return filepath.Dir(parent), step, true
}

// savedSteps lists the complete checkpoints of run, for error messages.
func savedSteps(run string) string {
	cks, err := listCheckpoints(run)
	if err != nil || len(cks) == 0 {
		return "none"
	}
	names := make([]string, len(cks))
	for i, c := range cks {
		names[i] = filepath.Base(c.rel)
	}
	return strings.Join(names, ", ")
}

// WeightsError reports a --weights value that names no weights: best,
// last and a saved step (step-0000750 or 750) do.
func WeightsError(which string) error {
	if which == "" || which == "best" || which == "last" || stepName(which) != "" {
		return nil
	}
	return fmt.Errorf("unknown weights %q (want best or last, or a saved step such as step-0000750 or 750)", which)
}
