package openaitest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"strings"
)

// embeddings answers POST /v1/embeddings with [Embedding] of each input, the
// data in reverse order (clients must place them by index), and one token
// per word as usage.
func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	var req embedBody
	err := json.NewDecoder(r.Body).Decode(&req)
	inputs, err := req.inputs(err)
	if err != nil {
		writeError(w, Reply{Status: http.StatusBadRequest, Error: "openaitest: " + err.Error()})
		return
	}
	s.mu.Lock()
	dim := s.dim
	s.mu.Unlock()
	data := make([]any, 0, len(inputs))
	tokens := 0
	for i := len(inputs) - 1; i >= 0; i-- {
		data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": Embedding(inputs[i], dim)})
		tokens += len(strings.Fields(inputs[i]))
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(mustJSON(map[string]any{
		"object": "list", "data": data, "model": req.Model,
		"usage": map[string]any{"prompt_tokens": tokens, "total_tokens": tokens},
	}))
}

// embedBody is an embeddings request.
type embedBody struct {
	Model string          `json:"model"`
	Input json.RawMessage `json:"input"`
}

// inputs returns the input, a string or a list of strings, unless the body
// failed to decode with err.
func (b embedBody) inputs(err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	var one string
	if json.Unmarshal(b.Input, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	err = json.Unmarshal(b.Input, &many)
	return many, err
}

// Embedding returns the vector the server answers for text: dim numbers
// derived from SHA-256 hashes of text, scaled to unit length. The same text
// always gets the same vector.
func Embedding(text string, dim int) []float32 {
	v := make([]float32, dim)
	var sum [sha256.Size]byte
	norm := 0.0
	for i := range v {
		if i%8 == 0 {
			sum = sha256.Sum256(binary.BigEndian.AppendUint32([]byte(text), uint32(i/8)))
		}
		x := float64(binary.BigEndian.Uint32(sum[i%8*4:]))/math.MaxUint32*2 - 1
		v[i] = float32(x)
		norm += x * x
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(norm))
	}
	return v
}
