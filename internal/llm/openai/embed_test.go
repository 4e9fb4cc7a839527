package openai_test

import (
	"reflect"
	"testing"

	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
)

func TestEmbed(t *testing.T) {
	t.Parallel()
	srv, p := setup(t)
	srv.SetDimension(16)
	inputs := []string{"the first text", "second", "a third, longer piece of text"}
	vecs, usage, err := p.Embed(testContext(t), "embed-small", inputs)
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range inputs {
		if want := openaitest.Embedding(in, 16); !reflect.DeepEqual(vecs[i], want) {
			t.Errorf("vector %d = %v, want %v", i, vecs[i], want)
		}
	}
	if usage != (llm.Usage{InputTokens: 10}) {
		t.Errorf("usage = %+v", usage)
	}
	req := srv.Requests()[0]
	if req.Path != "/v1/embeddings" {
		t.Errorf("path = %s", req.Path)
	}
	jsonEqual(t, "request body", req.Body, `{"model":"embed-small","input":["the first text","second","a third, longer piece of text"]}`)
}

func TestEmbedNothing(t *testing.T) {
	t.Parallel()
	srv, p := setup(t)
	vecs, _, err := p.Embed(testContext(t), "e", nil)
	if err != nil || vecs != nil || len(srv.Requests()) != 0 {
		t.Errorf("Embed(nil) = %v, %v after %d requests", vecs, err, len(srv.Requests()))
	}
}
