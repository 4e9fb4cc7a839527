package memory

import (
	"context"
	"fmt"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
)

// providerBatch is how many texts one provider call embeds at most.
const providerBatch = 64

// ProviderEmbedder embeds through a model provider's embeddings endpoint
// (llm.Provider.Embed). It sends at most 64 texts per call, checks that
// every vector has the configured dimension, and normalises them. The
// provider's token usage is not reported.
type ProviderEmbedder struct {
	p     llm.Provider
	model string
	dim   int
}

// NewProvider returns an embedder that asks p's model for vectors of dim
// dimensions. It fails with EINVALID when p is nil, model is empty or dim
// is not positive.
func NewProvider(p llm.Provider, model string, dim int) (*ProviderEmbedder, error) {
	switch {
	case p == nil:
		return nil, gathering.Errorf(gathering.EINVALID, "An embedding provider is required.")
	case model == "":
		return nil, gathering.Errorf(gathering.EINVALID, "An embedding model is required.")
	case dim <= 0:
		return nil, gathering.Errorf(gathering.EINVALID, "The embedding dimension must be positive, got %d.", dim)
	}
	return &ProviderEmbedder{p: p, model: model, dim: dim}, nil
}

// Name is "provider:<provider name>:<model>".
func (e *ProviderEmbedder) Name() string { return "provider:" + e.p.Name() + ":" + e.model }

// Dimension is the configured dimension.
func (e *ProviderEmbedder) Dimension() int { return e.dim }

// Embed returns one unit vector per text, asking the provider in batches.
// A provider that answers with a different number of vectors or another
// dimension is an error.
func (e *ProviderEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += providerBatch {
		batch := texts[start:min(start+providerBatch, len(texts))]
		vs, err := e.embedBatch(ctx, batch)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

// embedBatch makes one provider call and checks its answer.
func (e *ProviderEmbedder) embedBatch(ctx context.Context, batch []string) ([][]float32, error) {
	vs, _, err := e.p.Embed(ctx, e.model, batch)
	if err != nil {
		return nil, fmt.Errorf("embed with %s: %w", e.Name(), err)
	}
	if len(vs) != len(batch) {
		return nil, fmt.Errorf("embed with %s: %d vectors for %d texts", e.Name(), len(vs), len(batch))
	}
	for _, v := range vs {
		if len(v) != e.dim {
			return nil, fmt.Errorf("embed with %s: the model returns %d dimensions, configured %d", e.Name(), len(v), e.dim)
		}
		normalize(v)
	}
	return vs, nil
}

// ProviderLookup returns the client of the catalog provider name, its key
// resolved; agent.Providers.Get is one.
type ProviderLookup func(ctx context.Context, name string) (llm.Provider, error)

// LazyProviderEmbedder is a ProviderEmbedder whose provider is looked up
// by name at every call, not at start: a key set later is used at once, and
// a missing key, or a provider missing from the catalog, fails that call
// with EUNAVAILABLE saying what to configure. A provider without an
// embeddings endpoint (Anthropic) is EUNAVAILABLE too.
type LazyProviderEmbedder struct {
	lookup   ProviderLookup
	provider string
	model    string
	dim      int
}

// NewLazyProvider returns an embedder that asks the model of the provider
// named provider, found through lookup, for vectors of dim dimensions. It
// fails with EINVALID when lookup is nil, a name is empty or dim is not
// positive.
func NewLazyProvider(lookup ProviderLookup, provider, model string, dim int) (*LazyProviderEmbedder, error) {
	switch {
	case lookup == nil || provider == "":
		return nil, gathering.Errorf(gathering.EINVALID, "An embedding provider is required.")
	case model == "":
		return nil, gathering.Errorf(gathering.EINVALID, "An embedding model is required.")
	case dim <= 0:
		return nil, gathering.Errorf(gathering.EINVALID, "The embedding dimension must be positive, got %d.", dim)
	}
	return &LazyProviderEmbedder{lookup: lookup, provider: provider, model: model, dim: dim}, nil
}

// Name is "provider:<provider name>:<model>", as the ProviderEmbedder it
// builds.
func (e *LazyProviderEmbedder) Name() string { return "provider:" + e.provider + ":" + e.model }

// Dimension is the configured dimension.
func (e *LazyProviderEmbedder) Dimension() int { return e.dim }

// Embed looks the provider up and embeds through it as a ProviderEmbedder.
func (e *LazyProviderEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	p, err := e.lookup(ctx, e.provider)
	if gathering.ErrorCode(err) == gathering.ENOTFOUND {
		return nil, &gathering.Error{Code: gathering.EUNAVAILABLE, Err: err, Message: fmt.Sprintf(
			"The embedding provider %q (GATHERING_EMBEDDER) is not in the catalog; add it with POST /providers.", e.provider)}
	} else if err != nil {
		return nil, err
	}
	pe, err := NewProvider(p, e.model, e.dim)
	if err != nil {
		return nil, err
	}
	vs, err := pe.Embed(ctx, texts)
	if gathering.ErrorCode(err) == gathering.EUNSUPPORTED {
		return nil, &gathering.Error{Code: gathering.EUNAVAILABLE, Err: err, Message: fmt.Sprintf(
			"The provider %q cannot embed (%s); set GATHERING_EMBEDDER to another provider or to local.", e.provider, gathering.ErrorMessage(err))}
	}
	return vs, err
}
