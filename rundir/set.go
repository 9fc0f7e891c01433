package rundir

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gotransformer/transformer/safeio"
	"gopkg.in/yaml.v3"
)

// A Set is one --set KEY=VALUE: the dotted key of a config ("training.steps",
// "model.encoder.attention.kind") and a YAML value ("800", "linear",
// "{kind: sliding_window, window: 8}").
type Set struct {
	Key, Value string
}

// ParseSet reads "KEY=VALUE".
func ParseSet(s string) (Set, error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return Set{}, fmt.Errorf("--set %q: want section.key=value", s)
	}
	for _, part := range strings.Split(k, ".") {
		if part == "" {
			return Set{}, fmt.Errorf("--set %q: the key %q has an empty part", s, k)
		}
	}
	return Set{k, v}, nil
}

func (s Set) String() string { return "--set " + s.Key + "=" + s.Value }

// ApplySets writes sets into the YAML document raw (adding keys and
// sections it lacks) and returns the new document, which the config's
// loader then validates exactly as a file: a key that does not exist, a
// value of the wrong type or out of range is refused, naming the --set.
func ApplySets(path string, raw []byte, sets []Set) ([]byte, error) {
	if len(sets) == 0 {
		return raw, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, yamlError(path, err, 0)
	}
	if len(doc.Content) == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	for _, s := range sets {
		var v yaml.Node
		if err := yaml.Unmarshal([]byte(s.Value), &v); err != nil {
			return nil, fmt.Errorf("%v: the value is not YAML: %v", s, err)
		}
		value := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
		if len(v.Content) > 0 {
			value = v.Content[0]
		}
		node := doc.Content[0]
		parts := strings.Split(s.Key, ".")
		for i, part := range parts {
			if node.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("%v: %s is not a section", s, strings.Join(parts[:i], "."))
			}
			var next *yaml.Node
			for j := 0; j+1 < len(node.Content); j += 2 {
				if node.Content[j].Value == part {
					next = node.Content[j+1]
					if i == len(parts)-1 {
						node.Content[j+1] = value
					}
					break
				}
			}
			if next == nil {
				next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				if i == len(parts)-1 {
					next = value
				}
				node.Content = append(node.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: part}, next)
			}
			node = next
		}
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// LoadConfigWith is LoadConfig with sets applied to the file first. An
// error about a key that a --set wrote names the --set.
func LoadConfigWith(path string, sets []Set) (*Config, error) {
	if len(sets) == 0 {
		return LoadConfig(path)
	}
	raw, err := safeio.ReadFile(path, safeio.ConfigLimit, "config")
	if err != nil {
		return nil, err
	}
	edited, err := ApplySets(path, raw, sets)
	if err != nil {
		return nil, err
	}
	c, err := ParseConfig(path, edited)
	return c, setError(err, sets, setLines(edited, sets))
}

// setLines maps the line of each set's key in the edited document to it.
func setLines(edited []byte, sets []Set) map[int]Set {
	var doc yaml.Node
	lines := map[int]Set{}
	if yaml.Unmarshal(edited, &doc) != nil || len(doc.Content) == 0 {
		return lines
	}
	for _, s := range sets {
		node := doc.Content[0]
		for _, part := range strings.Split(s.Key, ".") {
			var next *yaml.Node
			for j := 0; node.Kind == yaml.MappingNode && j+1 < len(node.Content); j += 2 {
				if node.Content[j].Value == part {
					next = node.Content[j+1]
					lines[node.Content[j].Line] = s
				}
			}
			if next == nil {
				break
			}
			node = next
		}
		// Every line of the value (a flow mapping spans one).
		lines[node.Line] = s
	}
	return lines
}

// setError rewrites a config error whose key (or unknown key) a --set
// wrote, so that it names the --set rather than a line of the edited file.
func setError(err error, sets []Set, lines map[int]Set) error {
	var ce *ConfigError
	if err == nil || !errors.As(err, &ce) {
		return err
	}
	if s, ok := lines[ce.Line]; ok && ce.Line > 0 {
		if ce.Field != "" && ce.Field != s.Key {
			return fmt.Errorf("%v: %s: %s", s, ce.Field, ce.Msg)
		}
		return fmt.Errorf("%v: %s", s, ce.Msg)
	}
	for _, s := range sets {
		last := s.Key[strings.LastIndex(s.Key, ".")+1:]
		if ce.Field == s.Key || strings.HasPrefix(ce.Field, s.Key+".") || strings.Contains(ce.Msg, fmt.Sprintf("%q", last)) {
			msg := ce.Msg
			if ce.Field != "" && ce.Field != s.Key {
				msg = ce.Field + ": " + msg
			}
			return fmt.Errorf("%v: %s", s, msg)
		}
	}
	return err
}

// WithSets applies sets to the decoding section of a loaded run (translate
// and eval --set); a trained run's other sections cannot change.
func (ck *Checkpoint) WithSets(sets []Set) error {
	if len(sets) == 0 {
		return nil
	}
	for _, s := range sets {
		if !strings.HasPrefix(s.Key, "decoding.") {
			return fmt.Errorf("%v: only decoding.* keys apply to a trained run (its model, data and training made its weights)", s)
		}
	}
	path := filepath.Join(ck.Dir, ConfigFile)
	c, err := LoadConfigWith(path, sets)
	if err != nil {
		return err
	}
	ck.Config.Decoding = c.Decoding
	return nil
}
