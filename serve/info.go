package serve

import (
	"gopkg.in/yaml.v3"

	"github.com/gotransformer/transformer/inference"
)

// Info describes a served model at GET /info.
type Info struct {
	Name       string `json:"name"`
	Checkpoint string `json:"checkpoint"`
	// Step is the training step the weights come from.
	Step     int `json:"step"`
	SrcVocab int `json:"src_vocab"`
	TgtVocab int `json:"tgt_vocab"`
	// MaxTokens is the most tokens a sentence may have.
	MaxTokens int `json:"max_tokens"`
	// Beam is the beam the model decodes with when a request names none.
	Beam int `json:"beam"`
	// BestMetric, BestStep and Valid are the run's validation figures.
	BestMetric string             `json:"best_metric,omitempty"`
	BestStep   int                `json:"best_step,omitempty"`
	Valid      map[string]float64 `json:"valid,omitempty"`
	// Model and Decoding are the run's config sections, by YAML key.
	Model    map[string]any `json:"model"`
	Decoding map[string]any `json:"decoding"`
}

// InfoOf describes m, loaded from the run directory dir, as name.
func InfoOf(name, dir string, m *inference.Model) Info {
	ck := m.Checkpoint
	st := ck.State
	return Info{
		Name: name, Checkpoint: dir, Step: st.Step,
		SrcVocab: ck.Model.Config.SrcVocab, TgtVocab: ck.Model.Config.TgtVocab,
		MaxTokens: ck.Model.MaxSourceLen(), Beam: max(ck.Config.Decoding.Beam, 1),
		BestMetric: st.Metric, BestStep: st.BestStep, Valid: st.Valid,
		Model: yamlMap(ck.Model.Config), Decoding: yamlMap(ck.Config.Decoding),
	}
}

// yamlMap is v as the map its YAML encoding reads back into.
func yamlMap(v any) map[string]any {
	b, err := yaml.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	if yaml.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}
