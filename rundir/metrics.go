package rundir

// metricSigns maps each metric training.best_metric may name to +1 where
// higher is better and −1 where lower is.
var metricSigns = map[string]float64{"bleu": 1, "chrf": 1, "exact_match": 1, "token_accuracy": 1, "accuracy": 1, "loss": -1, "perplexity": -1}

// MetricSign is +1 for a metric where higher is better, −1 where lower is,
// and false for a name that is no metric.
func MetricSign(metric string) (sign float64, ok bool) {
	sign, ok = metricSigns[metric]
	return sign, ok
}
