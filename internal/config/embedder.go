package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// MaxEmbeddingDimension is the largest dimension GATHERING_EMBEDDER may
// name (the largest common embedding models make 3,072 or 4,096).
const MaxEmbeddingDimension = 8192

// EmbedderSpec is GATHERING_EMBEDDER, parsed.
type EmbedderSpec struct {
	// Provider is the catalog provider whose embeddings endpoint embeds;
	// empty for the local embedder.
	Provider  string
	Model     string
	Dimension int
}

// embedderProvider is the syntax of a catalog provider's name.
var embedderProvider = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// ParseEmbedder reads "local" or "provider:<provider>:<model>:<dimension>".
// The model may itself contain colons ("nomic-embed-text:latest"): it is
// everything between the provider and the last colon.
func ParseEmbedder(spec string) (EmbedderSpec, error) {
	if spec == "local" {
		return EmbedderSpec{}, nil
	}
	rest, isProvider := strings.CutPrefix(spec, "provider:")
	name, rest, hasModel := strings.Cut(rest, ":")
	cut := strings.LastIndex(rest, ":")
	if !isProvider || !hasModel || cut < 0 {
		return EmbedderSpec{}, fmt.Errorf("%q is not local or provider:<provider>:<model>:<dimension>", spec)
	}
	model := rest[:cut]
	dim, err := strconv.Atoi(rest[cut+1:])
	switch {
	case !embedderProvider.MatchString(name):
		return EmbedderSpec{}, fmt.Errorf("the provider %q is not 1 to 64 of a-z, 0-9, _ and -", name)
	case strings.TrimSpace(model) == "":
		return EmbedderSpec{}, fmt.Errorf("%q names no model", spec)
	case err != nil || dim < 1 || dim > MaxEmbeddingDimension:
		return EmbedderSpec{}, fmt.Errorf("the dimension %q is not a whole number from 1 to %d", rest[cut+1:], MaxEmbeddingDimension)
	}
	return EmbedderSpec{Provider: name, Model: model, Dimension: dim}, nil
}
