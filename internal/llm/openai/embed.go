package openai

import (
	"context"

	"github.com/gathering/gathering/internal/llm"
)

// embedRequest is the body of POST /embeddings.
type embedRequest struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
}

// embedResponse is its answer; Data may come in any order.
type embedResponse struct {
	Data []struct {
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
	Usage *wireUsage `json:"usage"`
}

// Embed implements llm.Provider.
func (c *client) Embed(ctx context.Context, model string, inputs []string) ([][]float32, llm.Usage, error) {
	if len(inputs) == 0 {
		return nil, llm.Usage{}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.post(ctx, "/embeddings", embedRequest{Model: model, Input: inputs})
	if err != nil {
		return nil, llm.Usage{}, err
	}
	defer resp.Body.Close()
	var out embedResponse
	if err := c.decode(ctx, resp, &out); err != nil {
		return nil, llm.Usage{}, err
	}
	vecs, err := c.order(out, len(inputs))
	if err != nil {
		return nil, llm.Usage{}, err
	}
	return vecs, out.Usage.usage(), nil
}

// order places each vector at its index, checking there is exactly one per
// input.
func (c *client) order(out embedResponse, n int) ([][]float32, error) {
	if len(out.Data) != n {
		return nil, c.malformed("the response does not have one embedding per input", nil)
	}
	vecs := make([][]float32, n)
	for _, d := range out.Data {
		if d.Index < 0 || d.Index >= n || vecs[d.Index] != nil || len(d.Embedding) == 0 {
			return nil, c.malformed("the response has a missing or repeated embedding index", nil)
		}
		vecs[d.Index] = d.Embedding
	}
	return vecs, nil
}
