package main

import (
	"fmt"
	"slices"

	"github.com/gotransformer/transformer/model"
	"github.com/gotransformer/transformer/rundir"
)

// loaded is what translate and eval decode with: the first checkpoint
// (its config and tokenizers) and a translator of one model or an
// ensemble of several.
type loaded struct {
	ck      *rundir.Checkpoint
	tr      *model.Translator
	members []*model.Translator
}

// loadModels loads each checkpoint (-k, repeated for an ensemble) with
// the same --weights and --set, and checks that they share the
// tokenizers.
func loadModels(paths []string, weights string, sets []rundir.Set) (*loaded, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("--checkpoint is required")
	}
	l := &loaded{}
	for i, p := range paths {
		c, err := rundir.LoadCheckpoint(p, weights)
		if err != nil {
			l.Close()
			return nil, err
		}
		if i == 0 {
			if err := c.WithSets(sets); err != nil {
				return nil, err
			}
			l.ck = c
		} else if !slices.Equal(c.SrcTok.Vocab, l.ck.SrcTok.Vocab) || !slices.Equal(c.TgtTok.Vocab, l.ck.TgtTok.Vocab) {
			l.Close()
			return nil, fmt.Errorf("%s: its tokenizers are not those of %s: an ensemble needs models of the same vocabularies", p, paths[0])
		}
		l.members = append(l.members, model.NewTranslator(c.Model, 0))
	}
	tr, err := model.NewEnsemble(l.members...)
	if err != nil {
		l.Close()
		return nil, err
	}
	l.tr = tr
	return l, nil
}

// Close releases the models' compiled graphs.
func (l *loaded) Close() {
	for _, m := range l.members {
		m.Close()
	}
}
