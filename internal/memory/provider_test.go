package memory

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
)

// fakeProvider answers Embed with vectors of dim dimensions (each text's
// length in component 0, 1 in the others) and records the batch sizes.
type fakeProvider struct {
	llm.Provider // Chat and Stream are not called
	dim          int
	extra        int   // vectors to add to each answer
	err          error // returned by every call
	batches      []int
}

func (p *fakeProvider) Name() string { return "fake" }

func (p *fakeProvider) Embed(_ context.Context, model string, inputs []string) ([][]float32, llm.Usage, error) {
	p.batches = append(p.batches, len(inputs))
	if p.err != nil {
		return nil, llm.Usage{}, p.err
	}
	out := make([][]float32, len(inputs)+p.extra)
	for i := range out {
		out[i] = make([]float32, p.dim)
		for j := range out[i] {
			out[i][j] = 1
		}
		if i < len(inputs) {
			out[i][0] = float32(len(inputs[i]))
		}
	}
	return out, llm.Usage{InputTokens: len(inputs)}, nil
}

func TestProviderBatchesAndNormalises(t *testing.T) {
	t.Parallel()
	p := &fakeProvider{dim: 8}
	e, err := NewProvider(p, "embed-small", 8)
	if err != nil {
		t.Fatal(err)
	}
	if e.Name() != "provider:fake:embed-small" || e.Dimension() != 8 {
		t.Fatalf("%q %d", e.Name(), e.Dimension())
	}
	texts := make([]string, 130)
	for i := range texts {
		texts[i] = strings.Repeat("x", i)
	}
	vs, err := e.Embed(context.Background(), texts)
	if err != nil || len(vs) != 130 {
		t.Fatalf("%d vectors, %v", len(vs), err)
	}
	if len(p.batches) != 3 || p.batches[0] != 64 || p.batches[1] != 64 || p.batches[2] != 2 {
		t.Fatalf("batches %v", p.batches)
	}
	for i, v := range vs {
		if n := norm(v); math.Abs(n-1) > 1e-5 {
			t.Fatalf("vector %d: norm %v", i, n)
		}
	}
	// Order is kept: text 100's first component is the largest.
	if !(vs[100][0] > vs[10][0]) {
		t.Fatal("vectors out of order")
	}
}

func TestProviderRefusesWrongAnswers(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	for _, c := range []struct {
		name string
		p    *fakeProvider
		want string
	}{
		{"dimension", &fakeProvider{dim: 4}, "returns 4 dimensions, configured 8"},
		{"count", &fakeProvider{dim: 8, extra: 1}, "2 vectors for 1 texts"},
		{"error", &fakeProvider{dim: 8, err: boom}, "boom"},
	} {
		e, _ := NewProvider(c.p, "m", 8)
		if _, err := e.Embed(context.Background(), []string{"x"}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestNewProviderValidates(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		p     llm.Provider
		model string
		dim   int
	}{{nil, "m", 8}, {&fakeProvider{}, "", 8}, {&fakeProvider{}, "m", 0}} {
		if _, err := NewProvider(c.p, c.model, c.dim); gathering.ErrorCode(err) != gathering.EINVALID {
			t.Errorf("%v %q %d: %v", c.p, c.model, c.dim, err)
		}
	}
}

func TestLazyProviderLooksUpAtEveryCall(t *testing.T) {
	t.Parallel()
	var lookups []string
	var answer error
	p := &fakeProvider{dim: 8}
	lookup := func(_ context.Context, name string) (llm.Provider, error) {
		lookups = append(lookups, name)
		return p, answer
	}
	e, err := NewLazyProvider(lookup, "fake", "embed-small", 8)
	if err != nil || e.Name() != "provider:fake:embed-small" || e.Dimension() != 8 {
		t.Fatalf("%v %v", e, err)
	}
	for range 2 {
		if vs, err := e.Embed(context.Background(), []string{"a", "b"}); err != nil || len(vs) != 2 {
			t.Fatalf("%d vectors, %v", len(vs), err)
		}
	}
	if len(lookups) != 2 || lookups[0] != "fake" {
		t.Fatalf("lookups %v", lookups)
	}
	for _, c := range []struct {
		lookupErr, embedErr error
		want                string
	}{
		{gathering.Errorf(gathering.EUNAVAILABLE, "The provider has no API key."), nil, "no API key"},
		{gathering.Errorf(gathering.ENOTFOUND, "No provider."), nil, "is not in the catalog"},
		{nil, gathering.Errorf(gathering.EUNSUPPORTED, "Anthropic has no embeddings."), "cannot embed (Anthropic has no embeddings.)"},
	} {
		answer, p.err = c.lookupErr, c.embedErr
		_, err := e.Embed(context.Background(), []string{"a"})
		if gathering.ErrorCode(err) != gathering.EUNAVAILABLE || !strings.Contains(gathering.ErrorMessage(err), c.want) {
			t.Errorf("%v %v: %v", c.lookupErr, c.embedErr, err)
		}
	}
}

func TestNewLazyProviderValidates(t *testing.T) {
	t.Parallel()
	lookup := func(context.Context, string) (llm.Provider, error) { return nil, nil }
	for _, c := range []struct {
		lookup          ProviderLookup
		provider, model string
		dim             int
	}{{nil, "p", "m", 8}, {lookup, "", "m", 8}, {lookup, "p", "", 8}, {lookup, "p", "m", 0}} {
		if _, err := NewLazyProvider(c.lookup, c.provider, c.model, c.dim); gathering.ErrorCode(err) != gathering.EINVALID {
			t.Errorf("%q %q %d: %v", c.provider, c.model, c.dim, err)
		}
	}
}
