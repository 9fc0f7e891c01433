package rundir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gotransformer/transformer/safeio"
	"gopkg.in/yaml.v3"
)

// metricSigns maps each metric training.best_metric may name to +1 where
// higher is better and −1 where lower is.
var metricSigns = map[string]float64{"bleu": 1, "chrf": 1, "exact_match": 1, "token_accuracy": 1, "accuracy": 1, "loss": -1, "perplexity": -1}

// MetricSign is +1 for a metric where higher is better, −1 where lower is,
// and false for a name that is no metric.
func MetricSign(metric string) (sign float64, ok bool) {
	sign, ok = metricSigns[metric]
	return sign, ok
}

// BestMetric is the validation metric the run in dir keeps its best
// checkpoint by: its config's training.best_metric (accuracy for a
// classify run), for plotting that run's curves; "" when dir has no
// config.
func BestMetric(dir string) (string, error) {
	path := filepath.Join(dir, ConfigFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	raw, err := safeio.ReadFile(path, safeio.ConfigLimit, "config")
	if err != nil {
		return "", err
	}
	var c struct {
		Data struct {
			LongRange *yaml.Node `yaml:"longrange"`
		} `yaml:"data"`
		Training struct {
			BestMetric string `yaml:"best_metric"`
		} `yaml:"training"`
	}
	if err := yaml.Unmarshal(raw, &c); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case c.Data.LongRange != nil:
		return "accuracy", nil
	case c.Training.BestMetric == "":
		return DefaultConfig().Training.BestMetric, nil
	}
	if _, ok := MetricSign(c.Training.BestMetric); !ok {
		return "", fmt.Errorf("%s: unknown training.best_metric %q", path, c.Training.BestMetric)
	}
	return c.Training.BestMetric, nil
}
