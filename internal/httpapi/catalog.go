package httpapi

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// catalogRoutes are the providers, models, personas and provider keys.
func (a *API) catalogRoutes() []Route {
	if a.agents == nil {
		return nil
	}
	return []Route{
		{Method: "GET", Pattern: "/providers", Access: Viewer, Handler: HandlerFunc(a.listProviders), Response: List[ProviderResponse]{}, Tag: "catalog", Summary: "Model providers, and whether each has an API key"},
		{Method: "POST", Pattern: "/providers", Access: Admin, Handler: HandlerFunc(a.createProvider), Request: ProviderRequest{}, Response: ProviderResponse{}, Status: http.StatusCreated, Tag: "catalog", Summary: "Add a custom provider endpoint (OpenAI-compatible or Anthropic)"},
		{Method: "GET", Pattern: "/providers/{name}", Access: Viewer, Handler: HandlerFunc(a.getProvider), Response: ProviderResponse{}, Tag: "catalog", Summary: "One provider"},
		{Method: "PATCH", Pattern: "/providers/{name}", Access: Admin, Handler: HandlerFunc(a.patchProvider), Request: ProviderPatch{}, Response: ProviderResponse{}, Tag: "catalog", Summary: "Change a provider's base URL or key variable"},
		{Method: "DELETE", Pattern: "/providers/{name}", Access: Admin, Handler: HandlerFunc(a.deleteProvider), Status: http.StatusNoContent, Tag: "catalog", Summary: "Delete a custom provider without models (built-in ones: 409)"},
		{Method: "PUT", Pattern: "/settings/providers/{name}", Access: Admin, Handler: HandlerFunc(a.putProviderKey), Request: ProviderKeyRequest{}, Response: ProviderResponse{}, Tag: "catalog", Summary: "Set a provider's API key (stored encrypted, never shown again)"},
		{Method: "DELETE", Pattern: "/settings/providers/{name}", Access: Admin, Handler: HandlerFunc(a.deleteProviderKey), Status: http.StatusNoContent, Tag: "catalog", Summary: "Forget a provider's stored API key"},
		{Method: "GET", Pattern: "/models", Access: Viewer, Handler: HandlerFunc(a.listModels), Response: List[ModelResponse]{}, Tag: "catalog", Summary: "Models with limits, prices and capabilities (?provider=)"},
		{Method: "POST", Pattern: "/models", Access: Admin, Handler: HandlerFunc(a.putModel), Request: ModelRequest{}, Response: ModelResponse{}, Status: http.StatusCreated, Tag: "catalog", Summary: "Add a model, or replace one of the same provider and name"},
		{Method: "GET", Pattern: "/models/{id}", Access: Viewer, Handler: HandlerFunc(a.getModel), Response: ModelResponse{}, Tag: "catalog", Summary: "One model"},
		{Method: "DELETE", Pattern: "/models/{id}", Access: Admin, Handler: HandlerFunc(a.deleteModel), Status: http.StatusNoContent, Tag: "catalog", Summary: "Delete a custom model (built-in ones: 409)"},
	}
}

// ProviderResponse is a provider as the API shows it: never its key.
type ProviderResponse struct {
	Name       string             `json:"name"`
	Kind       store.ProviderKind `json:"kind" enum:"openai,anthropic"`
	BaseURL    string             `json:"base_url"`
	KeyEnv     string             `json:"key_env,omitempty"`
	IsBuiltin  bool               `json:"is_builtin"`
	Configured bool               `json:"configured" doc:"An API key is stored for it (see key_hint), or it needs none."`
	KeyHint    string             `json:"key_hint,omitempty" doc:"The stored key's last four characters."`
}

func (a *API) providerResponse(r *http.Request, p store.Provider) (ProviderResponse, error) {
	out := ProviderResponse{Name: p.Name, Kind: p.Kind, BaseURL: p.BaseURL, KeyEnv: p.KeyEnv, IsBuiltin: p.IsBuiltin}
	cred, err := a.store.CredentialGet(r.Context(), p.Name)
	switch {
	case err == nil:
		out.Configured, out.KeyHint = true, "…"+cred.Hint
	case gathering.ErrorCode(err) != gathering.ENOTFOUND:
		return out, err
	default:
		out.Configured = p.KeyEnv == "" && p.Kind != store.KindAnthropic
	}
	return out, nil
}

func (a *API) writeProvider(w http.ResponseWriter, r *http.Request, status int, p store.Provider) error {
	resp, err := a.providerResponse(r, p)
	if err != nil {
		return err
	}
	writeJSON(w, status, resp)
	return nil
}

func (a *API) listProviders(w http.ResponseWriter, r *http.Request) error {
	ps, err := a.store.ProviderList(r.Context())
	if err != nil {
		return err
	}
	out := List[ProviderResponse]{Items: make([]ProviderResponse, 0, len(ps)), Total: len(ps)}
	for _, p := range ps {
		resp, err := a.providerResponse(r, p)
		if err != nil {
			return err
		}
		out.Items = append(out.Items, resp)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getProvider(w http.ResponseWriter, r *http.Request) error {
	p, err := a.store.ProviderGet(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return a.writeProvider(w, r, http.StatusOK, p)
}

// ProviderRequest is the body of POST /providers.
type ProviderRequest struct {
	Name    string             `json:"name" doc:"1 to 64 of a-z, 0-9, _ and -."`
	Kind    store.ProviderKind `json:"kind" enum:"openai,anthropic"`
	BaseURL string             `json:"base_url" format:"uri"`
	KeyEnv  string             `json:"key_env,omitempty" doc:"An environment variable that may hold its key."`
}

var (
	providerNameRE = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)
	envNameRE      = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)
)

// Validate implements validator.
func (p ProviderRequest) Validate() error {
	var fields []gathering.FieldError
	add := func(f, m string) { fields = append(fields, gathering.FieldError{Field: f, Message: m}) }
	if !providerNameRE.MatchString(p.Name) {
		add("name", "must be 1 to 64 of a-z, 0-9, _ and -")
	}
	if p.Kind != store.KindOpenAI && p.Kind != store.KindAnthropic {
		add("kind", "must be openai or anthropic")
	}
	if u, err := url.Parse(p.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(p.BaseURL) > 2048 {
		add("base_url", "must be an http or https URL")
	}
	if p.KeyEnv != "" && !envNameRE.MatchString(p.KeyEnv) {
		add("key_env", "must be an environment variable name like MY_API_KEY")
	}
	if len(fields) > 0 {
		return gathering.Invalid("The provider is invalid.", fields...)
	}
	return nil
}

func (a *API) createProvider(w http.ResponseWriter, r *http.Request) error {
	var req ProviderRequest
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	if _, err := a.store.ProviderGet(r.Context(), req.Name); err == nil {
		return gathering.Errorf(gathering.ECONFLICT, "A provider %q exists already.", req.Name)
	}
	now := time.Now()
	p, err := a.store.ProviderPut(r.Context(), store.Provider{Name: req.Name, Kind: req.Kind, BaseURL: strings.TrimRight(req.BaseURL, "/"), KeyEnv: req.KeyEnv, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/providers/"+p.Name)
	return a.writeProvider(w, r, http.StatusCreated, p)
}

// ProviderPatch is the body of PATCH /providers/{name}; absent fields stay.
type ProviderPatch struct {
	BaseURL *string `json:"base_url,omitempty" format:"uri"`
	KeyEnv  *string `json:"key_env,omitempty"`
}

func (a *API) patchProvider(w http.ResponseWriter, r *http.Request) error {
	var req ProviderPatch
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	p, err := a.store.ProviderGet(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	if req.BaseURL != nil {
		p.BaseURL = strings.TrimRight(*req.BaseURL, "/")
	}
	if req.KeyEnv != nil {
		p.KeyEnv = *req.KeyEnv
	}
	check := ProviderRequest{Name: p.Name, Kind: p.Kind, BaseURL: p.BaseURL, KeyEnv: p.KeyEnv}
	if err := check.Validate(); err != nil {
		return err
	}
	p.UpdatedAt = time.Now()
	if p, err = a.store.ProviderPut(r.Context(), p); err != nil {
		return err
	}
	return a.writeProvider(w, r, http.StatusOK, p)
}

func (a *API) deleteProvider(w http.ResponseWriter, r *http.Request) error {
	if err := a.store.ProviderDelete(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ProviderKeyRequest is the body of PUT /settings/providers/{name}.
type ProviderKeyRequest struct {
	APIKey string `json:"api_key" doc:"The provider's API key; stored encrypted and never shown again."`
}

// Validate implements validator.
func (p ProviderKeyRequest) Validate() error {
	if len(p.APIKey) < 8 || len(p.APIKey) > 1024 || strings.ContainsAny(p.APIKey, " \t\r\n") {
		return gathering.Invalid("The API key is invalid.", gathering.FieldError{Field: "api_key", Message: "must be 8 to 1024 characters without spaces"})
	}
	return nil
}

func (a *API) putProviderKey(w http.ResponseWriter, r *http.Request) error {
	var req ProviderKeyRequest
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	p, err := a.store.ProviderGet(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	cred := store.Credential{Provider: p.Name, Sealed: a.sealer.Seal([]byte(req.APIKey), p.Name), Hint: req.APIKey[len(req.APIKey)-4:], UpdatedAt: time.Now(), UpdatedBy: principalID(r)}
	if err := a.store.CredentialPut(r.Context(), cred); err != nil {
		return err
	}
	a.audit(r, gathering.AuditProviderKeySet, map[string]any{"provider": p.Name})
	return a.writeProvider(w, r, http.StatusOK, p)
}

func (a *API) deleteProviderKey(w http.ResponseWriter, r *http.Request) error {
	if err := a.store.CredentialDelete(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	a.audit(r, gathering.AuditProviderKeyDeleted, map[string]any{"provider": r.PathValue("name")})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ModelResponse is a model of the catalog.
type ModelResponse struct {
	ID            int64   `json:"id"`
	Provider      string  `json:"provider"`
	Name          string  `json:"name"`
	Alias         string  `json:"alias,omitempty"`
	ContextWindow int     `json:"context_window"`
	MaxOutput     int     `json:"max_output"`
	PriceInput    float64 `json:"price_input" doc:"US dollars per million input tokens."`
	PriceOutput   float64 `json:"price_output" doc:"US dollars per million output tokens."`
	PriceCached   float64 `json:"price_cached" doc:"US dollars per million cached input tokens."`
	Tools         bool    `json:"tools"`
	Vision        bool    `json:"vision"`
	Streaming     bool    `json:"streaming"`
	IsBuiltin     bool    `json:"is_builtin"`
}

func modelResponse(m store.Model) ModelResponse {
	return ModelResponse{ID: m.ID, Provider: m.Provider, Name: m.Name, Alias: m.Alias, ContextWindow: m.ContextWindow, MaxOutput: m.MaxOutput,
		PriceInput: m.PriceInput, PriceOutput: m.PriceOutput, PriceCached: m.PriceCached, Tools: m.Tools, Vision: m.Vision, Streaming: m.Streaming, IsBuiltin: m.IsBuiltin}
}

func (a *API) listModels(w http.ResponseWriter, r *http.Request) error {
	ms, err := a.store.ModelList(r.Context(), r.URL.Query().Get("provider"))
	if err != nil {
		return err
	}
	out := List[ModelResponse]{Items: make([]ModelResponse, 0, len(ms)), Total: len(ms)}
	for _, m := range ms {
		out.Items = append(out.Items, modelResponse(m))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getModel(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	m, err := a.store.ModelGet(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, modelResponse(m))
	return nil
}

// ModelRequest is the body of POST /models.
type ModelRequest struct {
	Provider      string  `json:"provider"`
	Name          string  `json:"name"`
	Alias         string  `json:"alias,omitempty"`
	ContextWindow int     `json:"context_window"`
	MaxOutput     int     `json:"max_output"`
	PriceInput    float64 `json:"price_input"`
	PriceOutput   float64 `json:"price_output"`
	PriceCached   float64 `json:"price_cached"`
	Tools         bool    `json:"tools"`
	Vision        bool    `json:"vision"`
	Streaming     bool    `json:"streaming"`
}

// Validate implements validator.
func (m ModelRequest) Validate() error {
	var fields []gathering.FieldError
	add := func(f, msg string) { fields = append(fields, gathering.FieldError{Field: f, Message: msg}) }
	if m.Provider == "" {
		add("provider", "is required")
	}
	if m.Name == "" || len(m.Name) > 200 || len(m.Alias) > 100 {
		add("name", "must be 1 to 200 characters (alias at most 100)")
	}
	if m.ContextWindow < 1 || m.ContextWindow > 100_000_000 || m.MaxOutput < 0 || m.MaxOutput > m.ContextWindow {
		add("context_window", "must be 1 to 100000000 tokens, and max_output at most that")
	}
	if m.PriceInput < 0 || m.PriceOutput < 0 || m.PriceCached < 0 || m.PriceInput > 10_000 || m.PriceOutput > 10_000 || m.PriceCached > 10_000 {
		add("price_input", "prices must be 0 to 10000 dollars per million tokens")
	}
	if len(fields) > 0 {
		return gathering.Invalid("The model is invalid.", fields...)
	}
	return nil
}

func (a *API) putModel(w http.ResponseWriter, r *http.Request) error {
	var req ModelRequest
	if err := DecodeJSON(r, &req); err != nil {
		return err
	}
	now := time.Now()
	m, err := a.store.ModelPut(r.Context(), store.Model{Provider: req.Provider, Name: req.Name, Alias: req.Alias, ContextWindow: req.ContextWindow, MaxOutput: req.MaxOutput,
		PriceInput: req.PriceInput, PriceOutput: req.PriceOutput, PriceCached: req.PriceCached, Tools: req.Tools, Vision: req.Vision, Streaming: req.Streaming, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/models/"+strconv.FormatInt(m.ID, 10))
	writeJSON(w, http.StatusCreated, modelResponse(m))
	return nil
}

func (a *API) deleteModel(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.store.ModelDelete(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
