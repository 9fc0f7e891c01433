package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"

	"github.com/gotransformer/transformer/viz"
)

// Request is the body of POST /translate.
type Request struct {
	// Model names the model to use; it may be left out when one is served.
	Model string `json:"model,omitempty"`
	// Sentences are translated independently, in order.
	Sentences []string `json:"sentences"`
	// Beam is the beam size (1: greedy; 0 or absent: the model's config).
	Beam int `json:"beam,omitempty"`
	// LengthPenalty is GNMT's α for beam search (absent: the model's
	// config; 0: no length normalisation).
	LengthPenalty *float64 `json:"length_penalty,omitempty"`
	// NBest is how many translations to return per sentence (0: one); it
	// needs a beam at least as wide.
	NBest int `json:"nbest,omitempty"`
	// Attention asks for every attention weight of each sentence and its
	// greedy translation.
	Attention bool `json:"attention,omitempty"`
}

// Response is the reply to POST /translate.
type Response struct {
	Model        string        `json:"model"`
	Translations []Translation `json:"translations"`
}

// Translation is the reply for one sentence.
type Translation struct {
	Text string `json:"text"`
	// Score is the best translation's log-probability over the length
	// penalty (beam search), or absent for greedy decoding.
	Score *float64 `json:"score,omitempty"`
	// NBest lists the translations, best first, when more than one was
	// asked for.
	NBest []Hypothesis `json:"nbest,omitempty"`
	// Attention holds the attention maps when asked for.
	Attention *Attention `json:"attention,omitempty"`
}

// Hypothesis is one of a sentence's n-best translations.
type Hypothesis struct {
	Text  string  `json:"text"`
	Score float64 `json:"score"`
}

// Attention is a sentence's attention weights with token labels: each view
// (encoder self-attention, decoder self-attention, cross-attention) holds
// weights[layer][head][row][column].
type Attention struct {
	Translation string     `json:"translation"`
	Views       []viz.View `json:"views"`
}

// Error is the body of every reply with a 4xx or 5xx status.
type Error struct {
	Error string `json:"error"`
	// Field names the request field at fault, if one is.
	Field string `json:"field,omitempty"`
}

// requestError is a bad request: its status, the field at fault and why.
type requestError struct {
	status int
	field  string
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func badField(field, format string, a ...any) *requestError {
	return &requestError{status: http.StatusBadRequest, field: field, msg: field + ": " + fmt.Sprintf(format, a...)}
}

// decodeRequest reads one JSON object of at most limit bytes, refusing
// unknown fields, values of the wrong type and trailing data. The
// Content-Type is not checked: the body is JSON or refused (curl -d sends
// it as a form).
func decodeRequest(w http.ResponseWriter, r *http.Request, limit int64) (*Request, error) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	var req Request
	err := dec.Decode(&req)
	if err == nil {
		var extra json.RawMessage
		switch e := dec.Decode(&extra); {
		case e == io.EOF:
		case isTooBig(e):
			err = e
		default:
			err = errors.New("trailing data after the JSON object")
		}
	}
	if err == nil {
		return &req, nil
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case isTooBig(err):
		return nil, &requestError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("the body is larger than %d bytes", limit)}
	case errors.Is(err, io.EOF):
		return nil, &requestError{status: http.StatusBadRequest, msg: "the body is empty: send a JSON object such as {\"sentences\": [\"...\"]}"}
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return nil, &requestError{status: http.StatusBadRequest, msg: fmt.Sprintf("the body must be a JSON object, got %s", typeErr.Value)}
		}
		return nil, badField(field, "must be %s, got %s", jsonTypeName(typeErr.Type.String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return nil, &requestError{status: http.StatusBadRequest, msg: fmt.Sprintf("malformed JSON at byte %d: %v", syntaxErr.Offset, err)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, &requestError{status: http.StatusBadRequest, msg: "malformed JSON: the body ends inside a value"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return nil, &requestError{status: http.StatusBadRequest, field: name,
			msg: fmt.Sprintf("unknown field %q (known: model, sentences, beam, length_penalty, nbest, attention)", name)}
	}
	return nil, &requestError{status: http.StatusBadRequest, msg: "reading the body: " + err.Error()}
}

func isTooBig(err error) bool {
	var tooBig *http.MaxBytesError
	return errors.As(err, &tooBig)
}

func jsonTypeName(goType string) string {
	switch goType {
	case "int", "int64":
		return "an integer"
	case "float64", "*float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "[]string":
		return "an array of strings"
	}
	return goType
}

// check validates a decoded request against the limits; it does not
// tokenize (the model's worker does).
func (req *Request) check(l Limits) error {
	if len(req.Sentences) == 0 {
		return badField("sentences", "give at least one sentence")
	}
	if len(req.Sentences) > l.MaxSentences {
		return badField("sentences", "%d sentences, more than the %d a request may hold", len(req.Sentences), l.MaxSentences)
	}
	for i, s := range req.Sentences {
		f := fmt.Sprintf("sentences[%d]", i)
		if len(s) > l.MaxSentenceBytes {
			return badField(f, "%d bytes, more than the %d a sentence may have", len(s), l.MaxSentenceBytes)
		}
	}
	switch {
	case req.Beam < 0:
		return badField("beam", "must be positive (1: greedy), got %d", req.Beam)
	case req.Beam > l.MaxBeam:
		return badField("beam", "must be at most %d, got %d", l.MaxBeam, req.Beam)
	case req.NBest < 0:
		return badField("nbest", "must be positive, got %d", req.NBest)
	case req.NBest > l.MaxBeam:
		return badField("nbest", "must be at most %d, got %d", l.MaxBeam, req.NBest)
	case req.NBest > 1 && req.Beam != 0 && req.NBest > req.Beam:
		return badField("nbest", "%d needs a beam of at least %d, got beam %d", req.NBest, req.NBest, req.Beam)
	case req.Attention && len(req.Sentences) > l.MaxAttentionSentences:
		return badField("attention", "is given for at most %d sentences a request, got %d", l.MaxAttentionSentences, len(req.Sentences))
	}
	if p := req.LengthPenalty; p != nil && (math.IsNaN(*p) || math.IsInf(*p, 0) || *p < 0 || *p > 10) {
		return badField("length_penalty", "must be a number from 0 to 10, got %g", *p)
	}
	return nil
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(Error{Error: "encoding the reply: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// writeError writes err as an Error body: a requestError with its status
// and field, anything else as status.
func writeError(w http.ResponseWriter, status int, err error) {
	var re *requestError
	if errors.As(err, &re) {
		writeJSON(w, re.status, Error{Error: re.msg, Field: re.field})
		return
	}
	writeJSON(w, status, Error{Error: err.Error()})
}
