package storetest

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// exerciseAgents runs the AgentStore part of the suite, each test on a
// fresh migrated store.
func exerciseAgents(t *testing.T, migrated func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"Providers", testProviders},
		{"ProviderDeleteRules", testProviderDeleteRules},
		{"Credentials", testCredentials},
		{"Models", testModels},
		{"ModelFind", testModelFind},
		{"ModelDelete", testModelDelete},
		{"Personas", testPersonas},
		{"PersonaDeleteRules", testPersonaDeleteRules},
		{"PersonaList", testPersonaList},
		{"Agents", testAgents},
		{"AgentList", testAgentList},
		{"AgentIDsNotReused", testAgentIDsNotReused},
		{"Sessions", testSessions},
		{"SessionListOrder", testSessionListOrder},
		{"SessionLease", testSessionLease},
		{"SessionLeaseRace", testSessionLeaseRace},
		{"MessagesAppend", testMessagesAppend},
		{"MessageList", testMessageList},
		{"AgentDeleteCascades", testAgentDeleteCascades},
		{"UsageTotals", testUsageTotals},
		{"UsageTotalsBounds", testUsageTotalsBounds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { t.Parallel(); tt.test(t, migrated(t)) })
	}
}

// putProvider stores an openai-kind provider created at base, or fails the
// test.
func putProvider(t *testing.T, s store.Store, name string, builtin bool) store.Provider {
	t.Helper()
	p, err := s.ProviderPut(t.Context(), store.Provider{
		Name: name, Kind: store.KindOpenAI, BaseURL: "https://" + name + ".example/v1", IsBuiltin: builtin,
		KeyEnv: "KEY_" + name, CreatedAt: base, UpdatedAt: base,
	})
	if err != nil {
		t.Fatalf("ProviderPut(%s): %v", name, err)
	}
	return p
}

// putModel stores a model of provider, with alias, at base, or fails the
// test.
func putModel(t *testing.T, s store.Store, provider, name, alias string, builtin bool) store.Model {
	t.Helper()
	m, err := s.ModelPut(t.Context(), store.Model{
		Provider: provider, Name: name, Alias: alias, ContextWindow: 128_000, MaxOutput: 4096,
		PriceInput: 2.5, PriceOutput: 10, PriceCached: 1.25, Tools: true, Streaming: true, IsBuiltin: builtin,
		CreatedAt: base, UpdatedAt: base,
	})
	if err != nil {
		t.Fatalf("ModelPut(%s/%s): %v", provider, name, err)
	}
	return m
}

// newPersona creates a persona at base, or fails the test.
func newPersona(t *testing.T, s store.Store, name string, builtin bool) store.Persona {
	t.Helper()
	p, err := s.PersonaCreate(t.Context(), store.Persona{
		DisplayName: name, Role: "engineer", Traits: []string{"calm"}, Specializations: []string{"go"},
		Languages: []string{"en"}, BasePrompt: "You are " + name + ".", IsBuiltin: builtin, CreatedAt: base, UpdatedAt: base,
	})
	if err != nil {
		t.Fatalf("PersonaCreate(%s): %v", name, err)
	}
	return p
}

// newAgent creates an agent playing persona at base, or fails the test.
func newAgent(t *testing.T, s store.Store, name string, persona int64) store.Agent {
	t.Helper()
	a, err := s.AgentCreate(t.Context(), store.Agent{
		Name: name, PersonaID: persona, Provider: "openai", Model: "gpt-test", Temperature: 0.7, MaxTokens: 1000,
		Competencies: []string{"review"}, CreatedBy: 1, CreatedAt: base, UpdatedAt: base,
	})
	if err != nil {
		t.Fatalf("AgentCreate(%s): %v", name, err)
	}
	return a
}

// newAgentWithPersona creates a persona and an agent playing it.
func newAgentWithPersona(t *testing.T, s store.Store, name string) store.Agent {
	t.Helper()
	return newAgent(t, s, name, newPersona(t, s, "Persona of "+name, false).ID)
}

// newSession creates a session of agent by user 7, created and updated at
// minute n, or fails the test.
func newSession(t *testing.T, s store.Store, id string, agent int64, n int) store.ChatSession {
	t.Helper()
	c := store.ChatSession{ID: id, AgentID: agent, UserID: 7, Title: "About " + id, CreatedAt: minutes(n), UpdatedAt: minutes(n)}
	if err := s.SessionCreate(t.Context(), c); err != nil {
		t.Fatalf("SessionCreate(%s): %v", id, err)
	}
	return c
}

// appendMessages appends one user message per text to a session, the i-th
// at minute n+i, and returns them as stored, or fails the test.
func appendMessages(t *testing.T, s store.Store, session string, n int, texts ...string) []store.ChatMessage {
	t.Helper()
	var ms []store.ChatMessage
	for i, text := range texts {
		ms = append(ms, store.ChatMessage{Role: "user", Content: text, Tokens: len(text), CreatedAt: minutes(n + i)})
	}
	stored, err := s.MessagesAppend(t.Context(), session, ms)
	if err != nil || len(stored) != len(ms) {
		t.Fatalf("MessagesAppend(%s) = %d messages, %v; want %d", session, len(stored), err, len(ms))
	}
	return stored
}

// messageTexts lists the contents of messages, in order.
func messageTexts(ms []store.ChatMessage) []string {
	texts := []string{}
	for _, m := range ms {
		texts = append(texts, m.Content)
	}
	return texts
}

func testProviders(t *testing.T, s store.Store) {
	ctx := t.Context()
	full := store.Provider{
		Name: "anthropic", Kind: store.KindAnthropic, BaseURL: "https://api.anthropic.com", IsBuiltin: true,
		KeyEnv: "ANTHROPIC_API_KEY", CreatedAt: minutes(1).Add(123 * time.Millisecond), UpdatedAt: minutes(2),
	}
	got, err := s.ProviderPut(ctx, full)
	if err != nil || !reflect.DeepEqual(got, full) {
		t.Fatalf("ProviderPut = %+v, %v; want %+v", got, err, full)
	}
	if got, err := s.ProviderGet(ctx, "anthropic"); err != nil || !reflect.DeepEqual(got, full) {
		t.Errorf("ProviderGet = %+v, %v; want %+v", got, err, full)
	}
	replaced := store.Provider{Name: "anthropic", Kind: store.KindOpenAI, BaseURL: "http://127.0.0.1:11434/v1",
		CreatedAt: minutes(5), UpdatedAt: minutes(6)}
	got, err = s.ProviderPut(ctx, replaced)
	replaced.CreatedAt = full.CreatedAt // a replaced provider keeps its creation time
	if err != nil || !reflect.DeepEqual(got, replaced) {
		t.Errorf("ProviderPut replacing = %+v, %v; want %+v", got, err, replaced)
	}
	for _, name := range []string{"zeta", "Ollama", "deepseek"} {
		putProvider(t, s, name, false)
	}
	list, err := s.ProviderList(ctx)
	var names []string
	for _, p := range list {
		names = append(names, p.Name)
	}
	if want := []string{"Ollama", "anthropic", "deepseek", "zeta"}; err != nil || !slices.Equal(names, want) {
		t.Errorf("ProviderList = %v, %v; want %v (byte order)", names, err, want)
	}
	_, err = s.ProviderGet(ctx, "missing")
	wantCode(t, "ProviderGet of a missing provider", err, gathering.ENOTFOUND)
}

func testProviderDeleteRules(t *testing.T, s store.Store) {
	ctx := t.Context()
	putProvider(t, s, "builtin", true)
	putProvider(t, s, "used", false)
	putProvider(t, s, "plain", false)
	putModel(t, s, "used", "m1", "", false)
	wantCode(t, "ProviderDelete of a built-in provider", s.ProviderDelete(ctx, "builtin"), gathering.ECONFLICT)
	wantCode(t, "ProviderDelete of a provider with models", s.ProviderDelete(ctx, "used"), gathering.ECONFLICT)
	wantCode(t, "ProviderDelete of a missing provider", s.ProviderDelete(ctx, "missing"), gathering.ENOTFOUND)
	if err := s.ProviderDelete(ctx, "plain"); err != nil {
		t.Fatalf("ProviderDelete: %v", err)
	}
	_, err := s.ProviderGet(ctx, "plain")
	wantCode(t, "ProviderGet after ProviderDelete", err, gathering.ENOTFOUND)
	for _, name := range []string{"builtin", "used"} {
		if _, err := s.ProviderGet(ctx, name); err != nil {
			t.Errorf("ProviderGet(%s) after a refused delete: %v", name, err)
		}
	}
}

func testCredentials(t *testing.T, s store.Store) {
	ctx := t.Context()
	putProvider(t, s, "openai", false)
	first := store.Credential{Provider: "openai", Sealed: []byte{0, 1, 2, 0xff, 0}, Hint: "abcd", UpdatedAt: minutes(1), UpdatedBy: 3}
	wantCode(t, "CredentialPut for a missing provider",
		s.CredentialPut(ctx, store.Credential{Provider: "missing", Sealed: []byte{1}, UpdatedAt: base}), gathering.ENOTFOUND)
	_, err := s.CredentialGet(ctx, "openai")
	wantCode(t, "CredentialGet before any", err, gathering.ENOTFOUND)
	for i, c := range []store.Credential{
		first,
		{Provider: "openai", Sealed: []byte("sealed-again"), Hint: "wxyz", UpdatedAt: minutes(2).Add(7 * time.Millisecond)},
	} {
		if err := s.CredentialPut(ctx, c); err != nil {
			t.Fatalf("CredentialPut %d: %v", i, err)
		}
		if got, err := s.CredentialGet(ctx, "openai"); err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("CredentialGet after put %d = %+v, %v; want %+v", i, got, err, c)
		}
	}
	if err := s.CredentialDelete(ctx, "openai"); err != nil {
		t.Fatalf("CredentialDelete: %v", err)
	}
	_, err = s.CredentialGet(ctx, "openai")
	wantCode(t, "CredentialGet after CredentialDelete", err, gathering.ENOTFOUND)
	wantCode(t, "CredentialDelete of none", s.CredentialDelete(ctx, "openai"), gathering.ENOTFOUND)
	// A credential goes with its provider.
	if err := s.CredentialPut(ctx, first); err != nil {
		t.Fatalf("CredentialPut: %v", err)
	}
	if err := s.ProviderDelete(ctx, "openai"); err != nil {
		t.Fatalf("ProviderDelete: %v", err)
	}
	putProvider(t, s, "openai", false)
	_, err = s.CredentialGet(ctx, "openai")
	wantCode(t, "CredentialGet after its provider was deleted", err, gathering.ENOTFOUND)
}

func testModels(t *testing.T, s store.Store) {
	ctx := t.Context()
	putProvider(t, s, "openai", false)
	putProvider(t, s, "anthropic", false)
	full := store.Model{
		Provider: "openai", Name: "gpt-4.1", Alias: "gpt", ContextWindow: 1_047_576, MaxOutput: 32_768,
		PriceInput: 0.1, PriceOutput: 1e-7, PriceCached: 3.0000000000000004, Tools: true, Vision: true, Streaming: true,
		IsBuiltin: true, CreatedAt: minutes(1).Add(999 * time.Millisecond), UpdatedAt: minutes(2),
	}
	got, err := s.ModelPut(ctx, full)
	full.ID = got.ID
	if err != nil || got.ID == 0 || !reflect.DeepEqual(got, full) {
		t.Fatalf("ModelPut = %+v, %v; want %+v with an id", got, err, full)
	}
	if got, err := s.ModelGet(ctx, full.ID); err != nil || !reflect.DeepEqual(got, full) {
		t.Errorf("ModelGet = %+v, %v; want %+v", got, err, full)
	}
	// An upsert by (provider, name) keeps the id and creation time.
	replaced := store.Model{Provider: "openai", Name: "gpt-4.1", ID: 999, ContextWindow: 8, PriceInput: 7,
		CreatedAt: minutes(8), UpdatedAt: minutes(9)}
	got, err = s.ModelPut(ctx, replaced)
	replaced.ID, replaced.CreatedAt = full.ID, full.CreatedAt
	if err != nil || !reflect.DeepEqual(got, replaced) {
		t.Errorf("ModelPut replacing = %+v, %v; want %+v", got, err, replaced)
	}
	if got, err := s.ModelGet(ctx, full.ID); err != nil || !reflect.DeepEqual(got, replaced) {
		t.Errorf("ModelGet after replacing = %+v, %v; want %+v", got, err, replaced)
	}
	_, err = s.ModelPut(ctx, store.Model{Provider: "missing", Name: "m", CreatedAt: base, UpdatedAt: base})
	wantCode(t, "ModelPut for a missing provider", err, gathering.ENOTFOUND)
	_, err = s.ModelGet(ctx, full.ID+100)
	wantCode(t, "ModelGet of a missing id", err, gathering.ENOTFOUND)
	putModel(t, s, "openai", "a-model", "", false)
	putModel(t, s, "anthropic", "claude", "", false)
	putModel(t, s, "openai", "Z-model", "", false)
	for provider, want := range map[string][]string{
		"":          {"anthropic/claude", "openai/Z-model", "openai/a-model", "openai/gpt-4.1"},
		"openai":    {"openai/Z-model", "openai/a-model", "openai/gpt-4.1"},
		"anthropic": {"anthropic/claude"},
		"missing":   {},
	} {
		list, err := s.ModelList(ctx, provider)
		keys := []string{}
		for _, m := range list {
			keys = append(keys, m.Provider+"/"+m.Name)
		}
		if err != nil || !slices.Equal(keys, want) {
			t.Errorf("ModelList(%q) = %v, %v; want %v", provider, keys, err, want)
		}
	}
}

func testModelFind(t *testing.T, s store.Store) {
	ctx := t.Context()
	putProvider(t, s, "openai", false)
	putProvider(t, s, "other", false)
	mini := putModel(t, s, "openai", "gpt-4.1-mini", "mini", false)
	named := putModel(t, s, "openai", "mini", "", false) // its name is another model's alias
	putModel(t, s, "other", "other-model", "big", false)
	cases := []struct {
		provider, key string
		want          int64
	}{
		{"openai", "gpt-4.1-mini", mini.ID},
		{"openai", "mini", named.ID}, // a name wins over an alias
	}
	for _, c := range cases {
		if got, err := s.ModelFind(ctx, c.provider, c.key); err != nil || got.ID != c.want {
			t.Errorf("ModelFind(%s, %s) = %d, %v; want %d", c.provider, c.key, got.ID, err, c.want)
		}
	}
	big := putModel(t, s, "openai", "gpt-4.1", "big", false)
	if got, err := s.ModelFind(ctx, "openai", "big"); err != nil || !reflect.DeepEqual(got, big) {
		t.Errorf("ModelFind by alias = %+v, %v; want %+v", got, err, big)
	}
	for _, key := range [][2]string{{"openai", "other-model"}, {"other", "mini"}, {"openai", ""}, {"missing", "mini"}} {
		_, err := s.ModelFind(ctx, key[0], key[1])
		wantCode(t, fmt.Sprintf("ModelFind(%s, %q)", key[0], key[1]), err, gathering.ENOTFOUND)
	}
}

func testModelDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	putProvider(t, s, "openai", false)
	builtin := putModel(t, s, "openai", "builtin", "", true)
	custom := putModel(t, s, "openai", "custom", "", false)
	wantCode(t, "ModelDelete of a built-in model", s.ModelDelete(ctx, builtin.ID), gathering.ECONFLICT)
	p := newPersona(t, s, "Ada", false)
	p.DefaultModelID, p.UpdatedAt = custom.ID, minutes(1)
	if _, err := s.PersonaUpdate(ctx, p); err != nil {
		t.Fatalf("PersonaUpdate: %v", err)
	}
	if err := s.ModelDelete(ctx, custom.ID); err != nil {
		t.Fatalf("ModelDelete: %v", err)
	}
	wantCode(t, "ModelDelete again", s.ModelDelete(ctx, custom.ID), gathering.ENOTFOUND)
	_, err := s.ModelGet(ctx, custom.ID)
	wantCode(t, "ModelGet after ModelDelete", err, gathering.ENOTFOUND)
	if got, err := s.PersonaGet(ctx, p.ID); err != nil || got.DefaultModelID != 0 {
		t.Errorf("persona after its default model was deleted: %+v, %v; want no default model", got, err)
	}
	if _, err := s.ModelGet(ctx, builtin.ID); err != nil {
		t.Errorf("ModelGet of the built-in model after a refused delete: %v", err)
	}
}

func testPersonas(t *testing.T, s store.Store) {
	ctx := t.Context()
	putProvider(t, s, "openai", false)
	model := putModel(t, s, "openai", "gpt", "", false)
	full := store.Persona{
		DisplayName: "Dr. Sophia Chen", Role: "Lead architect", Traits: []string{"rigorous", "kind", "é"},
		CommunicationStyle: "concise", Specializations: []string{"distributed systems", "Go"}, Languages: []string{"en", "fr"},
		BasePrompt: "You are Sophia.\nBe precise.", Motto: "Measure twice", Description: "An architect",
		DefaultModelID: model.ID, IsBuiltin: true, CreatedAt: minutes(1).Add(5 * time.Millisecond), UpdatedAt: minutes(2),
	}
	got, err := s.PersonaCreate(ctx, full)
	full.ID = got.ID
	if err != nil || got.ID == 0 || !reflect.DeepEqual(got, full) {
		t.Fatalf("PersonaCreate = %+v, %v; want %+v with an id", got, err, full)
	}
	if got, err := s.PersonaGet(ctx, full.ID); err != nil || !reflect.DeepEqual(got, full) {
		t.Errorf("PersonaGet = %+v, %v; want %+v", got, err, full)
	}
	bare, err := s.PersonaCreate(ctx, store.Persona{DisplayName: "Bare", CreatedAt: base, UpdatedAt: base})
	if err != nil {
		t.Fatalf("PersonaCreate without lists: %v", err)
	}
	wantBare := store.Persona{ID: bare.ID, DisplayName: "Bare", Traits: []string{}, Specializations: []string{},
		Languages: []string{}, CreatedAt: base, UpdatedAt: base} // lists read back empty, not nil
	if got, err := s.PersonaGet(ctx, bare.ID); err != nil || !reflect.DeepEqual(got, wantBare) {
		t.Errorf("PersonaGet of a persona without lists = %#v, %v; want %#v", got, err, wantBare)
	}
	_, err = s.PersonaCreate(ctx, store.Persona{DisplayName: "Dr. Sophia Chen", CreatedAt: base, UpdatedAt: base})
	wantCode(t, "PersonaCreate with a taken display name", err, gathering.ECONFLICT)
	_, err = s.PersonaCreate(ctx, store.Persona{DisplayName: "Lost", DefaultModelID: model.ID + 100, CreatedAt: base, UpdatedAt: base})
	wantCode(t, "PersonaCreate with a missing default model", err, gathering.ENOTFOUND)

	changed := store.Persona{ID: full.ID, DisplayName: "Sophia", Role: "Reviewer", Traits: []string{"strict"},
		Languages: []string{"de"}, BasePrompt: "Review.", IsBuiltin: false, CreatedAt: minutes(30), UpdatedAt: minutes(31)}
	got, err = s.PersonaUpdate(ctx, changed)
	want := changed
	want.Specializations, want.IsBuiltin, want.CreatedAt = []string{}, true, full.CreatedAt
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("PersonaUpdate = %+v, %v; want %+v", got, err, want)
	}
	if got, err := s.PersonaGet(ctx, full.ID); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("PersonaGet after PersonaUpdate = %+v, %v; want %+v", got, err, want)
	}
	changed.DisplayName = "Bare"
	_, err = s.PersonaUpdate(ctx, changed)
	wantCode(t, "PersonaUpdate to a taken display name", err, gathering.ECONFLICT)
	_, err = s.PersonaUpdate(ctx, store.Persona{ID: full.ID + 100, DisplayName: "Ghost", UpdatedAt: base})
	wantCode(t, "PersonaUpdate of a missing persona", err, gathering.ENOTFOUND)
	_, err = s.PersonaGet(ctx, full.ID+100)
	wantCode(t, "PersonaGet of a missing persona", err, gathering.ENOTFOUND)
}

func testPersonaDeleteRules(t *testing.T, s store.Store) {
	ctx := t.Context()
	builtin := newPersona(t, s, "Builtin", true)
	played := newPersona(t, s, "Played", false)
	free := newPersona(t, s, "Free", false)
	agent := newAgent(t, s, "agent", played.ID)
	wantCode(t, "PersonaDelete of a built-in persona", s.PersonaDelete(ctx, builtin.ID), gathering.ECONFLICT)
	wantCode(t, "PersonaDelete of a persona an agent plays", s.PersonaDelete(ctx, played.ID), gathering.ECONFLICT)
	if err := s.PersonaDelete(ctx, free.ID); err != nil {
		t.Fatalf("PersonaDelete: %v", err)
	}
	wantCode(t, "PersonaDelete again", s.PersonaDelete(ctx, free.ID), gathering.ENOTFOUND)
	if err := s.AgentDelete(ctx, agent.ID); err != nil {
		t.Fatalf("AgentDelete: %v", err)
	}
	if err := s.PersonaDelete(ctx, played.ID); err != nil {
		t.Errorf("PersonaDelete once its agent is gone: %v", err)
	}
	if _, err := s.PersonaGet(ctx, builtin.ID); err != nil {
		t.Errorf("PersonaGet of the built-in persona after a refused delete: %v", err)
	}
}

func testPersonaList(t *testing.T, s store.Store) {
	var ids []int64
	for i := range 5 {
		ids = append(ids, newPersona(t, s, fmt.Sprintf("P%d", i), false).ID)
	}
	for _, c := range []struct {
		page store.Page
		want []int64
	}{
		{store.Page{}, ids},
		{store.Page{Limit: 2, Offset: 1}, ids[1:3]},
		{store.Page{Limit: -1, Offset: -1}, ids},
		{store.Page{Offset: 5}, nil},
	} {
		list, total, err := s.PersonaList(t.Context(), c.page)
		var got []int64
		for _, p := range list {
			got = append(got, p.ID)
		}
		if err != nil || total != 5 || !slices.Equal(got, c.want) {
			t.Errorf("PersonaList(%+v) = %v, total %d, %v; want %v, total 5", c.page, got, total, err, c.want)
		}
	}
}

func testAgents(t *testing.T, s store.Store) {
	ctx := t.Context()
	persona, other := newPersona(t, s, "Ada", false), newPersona(t, s, "Bob", false)
	full := store.Agent{
		Name: "reviewer", PersonaID: persona.ID, Provider: "anthropic", Model: "claude-sonnet", Temperature: 0.30000000000000004,
		MaxTokens: 8192, Competencies: []string{"go", "review", "sql"}, CanReview: true, Status: store.AgentBusy,
		CreatedBy: 4, CreatedAt: minutes(1).Add(1 * time.Millisecond), UpdatedAt: minutes(2),
	}
	got, err := s.AgentCreate(ctx, full)
	full.ID = got.ID
	if err != nil || got.ID == 0 || !reflect.DeepEqual(got, full) {
		t.Fatalf("AgentCreate = %+v, %v; want %+v with an id", got, err, full)
	}
	if got, err := s.AgentGet(ctx, full.ID); err != nil || !reflect.DeepEqual(got, full) {
		t.Errorf("AgentGet = %+v, %v; want %+v", got, err, full)
	}
	bare, err := s.AgentCreate(ctx, store.Agent{Name: "bare", PersonaID: persona.ID, CreatedAt: base, UpdatedAt: base})
	wantBare := store.Agent{ID: bare.ID, Name: "bare", PersonaID: persona.ID, Competencies: []string{},
		Status: store.AgentIdle, CreatedAt: base, UpdatedAt: base} // idle by default, an empty list
	if got, _ := s.AgentGet(ctx, bare.ID); err != nil || !reflect.DeepEqual(bare, wantBare) || !reflect.DeepEqual(got, wantBare) {
		t.Errorf("AgentCreate of a bare agent = %#v, %v, then AgentGet = %#v; want %#v", bare, err, got, wantBare)
	}
	_, err = s.AgentCreate(ctx, store.Agent{Name: "reviewer", PersonaID: persona.ID, CreatedAt: base, UpdatedAt: base})
	wantCode(t, "AgentCreate with a taken name", err, gathering.ECONFLICT)
	_, err = s.AgentCreate(ctx, store.Agent{Name: "lost", PersonaID: other.ID + 100, CreatedAt: base, UpdatedAt: base})
	wantCode(t, "AgentCreate with a missing persona", err, gathering.ENOTFOUND)

	changed := store.Agent{ID: full.ID, Name: "critic", PersonaID: other.ID, Provider: "openai", Model: "gpt", Temperature: 1.5,
		MaxTokens: 10, Status: store.AgentIdle, CreatedBy: 9, CreatedAt: minutes(30), UpdatedAt: minutes(31)}
	got, err = s.AgentUpdate(ctx, changed)
	want := changed
	want.Competencies, want.Status, want.CreatedBy, want.CreatedAt = []string{}, full.Status, full.CreatedBy, full.CreatedAt
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("AgentUpdate = %+v, %v; want %+v", got, err, want)
	}
	changed.Name = "bare"
	_, err = s.AgentUpdate(ctx, changed)
	wantCode(t, "AgentUpdate to a taken name", err, gathering.ECONFLICT)
	changed.Name, changed.PersonaID = "critic", other.ID+100
	_, err = s.AgentUpdate(ctx, changed)
	wantCode(t, "AgentUpdate to a missing persona", err, gathering.ENOTFOUND)
	_, err = s.AgentUpdate(ctx, store.Agent{ID: full.ID + 100, Name: "ghost", PersonaID: persona.ID, UpdatedAt: base})
	wantCode(t, "AgentUpdate of a missing agent", err, gathering.ENOTFOUND)

	if err := s.AgentSetStatus(ctx, full.ID, store.AgentIdle, minutes(40)); err != nil {
		t.Fatalf("AgentSetStatus: %v", err)
	}
	want.Status, want.UpdatedAt = store.AgentIdle, minutes(40)
	if got, err := s.AgentGet(ctx, full.ID); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("AgentGet after AgentSetStatus = %+v, %v; want %+v", got, err, want)
	}
	wantCode(t, "AgentSetStatus to an unknown status", s.AgentSetStatus(ctx, full.ID, "asleep", minutes(41)), gathering.EINVALID)
	wantCode(t, "AgentSetStatus of a missing agent", s.AgentSetStatus(ctx, full.ID+100, store.AgentBusy, minutes(41)), gathering.ENOTFOUND)
	_, err = s.AgentGet(ctx, full.ID+100)
	wantCode(t, "AgentGet of a missing agent", err, gathering.ENOTFOUND)
	wantCode(t, "AgentDelete of a missing agent", s.AgentDelete(ctx, full.ID+100), gathering.ENOTFOUND)
}

func testAgentList(t *testing.T, s store.Store) {
	persona := newPersona(t, s, "Ada", false)
	var ids []int64
	for i := range 4 {
		ids = append(ids, newAgent(t, s, fmt.Sprintf("agent-%d", i), persona.ID).ID)
	}
	for _, c := range []struct {
		page store.Page
		want []int64
	}{
		{store.Page{}, ids},
		{store.Page{Limit: 3, Offset: 2}, ids[2:]},
		{store.Page{Limit: 1}, ids[:1]},
		{store.Page{Offset: 9}, nil},
	} {
		list, total, err := s.AgentList(t.Context(), c.page)
		var got []int64
		for _, a := range list {
			got = append(got, a.ID)
		}
		if err != nil || total != 4 || !slices.Equal(got, c.want) {
			t.Errorf("AgentList(%+v) = %v, total %d, %v; want %v, total 4", c.page, got, total, err, c.want)
		}
	}
}

// testAgentIDsNotReused checks that an agent created after the newest one
// was deleted gets a new id: the ledger keeps naming agents by id.
func testAgentIDsNotReused(t *testing.T, s store.Store) {
	persona := newPersona(t, s, "Ada", false)
	newAgent(t, s, "first", persona.ID)
	last := newAgent(t, s, "last", persona.ID)
	if err := s.AgentDelete(t.Context(), last.ID); err != nil {
		t.Fatalf("AgentDelete: %v", err)
	}
	if next := newAgent(t, s, "next", persona.ID); next.ID <= last.ID {
		t.Errorf("agent created after deleting agent %d got id %d, want a larger one", last.ID, next.ID)
	}
}

func testSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	agent := newAgentWithPersona(t, s, "agent")
	full := store.ChatSession{ID: "sess-1", AgentID: agent.ID, UserID: 7, Title: "Plans ✓",
		CreatedAt: minutes(1).Add(42 * time.Millisecond), UpdatedAt: minutes(2)}
	if err := s.SessionCreate(ctx, full); err != nil {
		t.Fatalf("SessionCreate: %v", err)
	}
	bare := store.ChatSession{ID: "sess-2", AgentID: agent.ID, CreatedAt: base, UpdatedAt: base}
	if err := s.SessionCreate(ctx, bare); err != nil {
		t.Fatalf("SessionCreate of a bare session: %v", err)
	}
	for _, want := range []store.ChatSession{full, bare} {
		if got, err := s.SessionGet(ctx, want.ID); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("SessionGet = %+v, %v; want %+v", got, err, want)
		}
	}
	wantCode(t, "SessionCreate with a taken id", s.SessionCreate(ctx, full), gathering.ECONFLICT)
	lost := store.ChatSession{ID: "sess-3", AgentID: agent.ID + 100, CreatedAt: base, UpdatedAt: base}
	wantCode(t, "SessionCreate for a missing agent", s.SessionCreate(ctx, lost), gathering.ENOTFOUND)
	_, err := s.SessionGet(ctx, "sess-3")
	wantCode(t, "SessionGet of a missing session", err, gathering.ENOTFOUND)
}

func testSessionListOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	agent, other := newAgentWithPersona(t, s, "agent"), newAgentWithPersona(t, s, "other")
	newSession(t, s, "a", agent.ID, 1)
	newSession(t, s, "b", agent.ID, 3)
	newSession(t, s, "c", agent.ID, 2)
	newSession(t, s, "d", agent.ID, 3) // ties with b: the id breaks it, descending
	newSession(t, s, "x", other.ID, 9)
	want := func(op string, page store.Page, ids ...string) {
		t.Helper()
		list, total, err := s.SessionList(ctx, agent.ID, page)
		got := []string{}
		for _, c := range list {
			got = append(got, c.ID)
		}
		if err != nil || total != 4 || !slices.Equal(got, ids) {
			t.Errorf("%s: SessionList(%+v) = %v, total %d, %v; want %v, total 4", op, page, got, total, err, ids)
		}
	}
	want("by update time", store.Page{}, "d", "b", "c", "a")
	want("a page", store.Page{Limit: 2, Offset: 1}, "b", "c")
	appendMessages(t, s, "a", 10, "hello")
	want("after a message in a", store.Page{}, "a", "d", "b", "c")
	if list, total, err := s.SessionList(ctx, agent.ID+100, store.Page{}); err != nil || total != 0 || len(list) != 0 {
		t.Errorf("SessionList of a missing agent = %v, total %d, %v; want none", list, total, err)
	}
}

// wantAcquire fails the test unless SessionAcquire of session for owner at
// now, until until, answers want without error.
func wantAcquire(t *testing.T, s store.Store, op, session, owner string, now, until time.Time, want bool) {
	t.Helper()
	if got, err := s.SessionAcquire(t.Context(), session, owner, now, until); err != nil || got != want {
		t.Errorf("%s: SessionAcquire(%s, %s, %v, %v) = %v, %v; want %v", op, session, owner, now, until, got, err, want)
	}
}

func testSessionLease(t *testing.T, s store.Store) {
	ctx := t.Context()
	agent := newAgentWithPersona(t, s, "agent")
	sess := newSession(t, s, "sess", agent.ID, 1)
	other := newSession(t, s, "other", agent.ID, 1)
	wantAcquire(t, s, "a free session", "sess", "a", minutes(10), minutes(11), true)
	wantAcquire(t, s, "another owner while the lease runs", "sess", "b", minutes(10).Add(30*time.Second), minutes(12), false)
	wantAcquire(t, s, "another session", "other", "b", minutes(10), minutes(11), true)
	// The holder extends its lease; the old end no longer frees it.
	wantAcquire(t, s, "the holder again", "sess", "a", minutes(10).Add(50*time.Second), minutes(13), true)
	wantAcquire(t, s, "another owner after the first end", "sess", "b", minutes(12), minutes(14), false)
	wantAcquire(t, s, "another owner a millisecond before the end", "sess", "b",
		minutes(13).Add(-time.Millisecond), minutes(14), false)
	// At its end the lease is expired: another owner takes it.
	wantAcquire(t, s, "another owner once the lease ended", "sess", "b", minutes(13), minutes(15), true)
	wantAcquire(t, s, "the former holder", "sess", "a", minutes(13), minutes(16), false)
	if err := s.SessionRelease(ctx, "sess", "a"); err != nil {
		t.Errorf("SessionRelease by a former holder: %v", err)
	}
	wantAcquire(t, s, "after a release by a non-owner", "sess", "c", minutes(14), minutes(16), false)
	if err := s.SessionRelease(ctx, "sess", "b"); err != nil {
		t.Fatalf("SessionRelease by the holder: %v", err)
	}
	wantAcquire(t, s, "after a release by the holder", "sess", "c", minutes(14), minutes(16), true)
	wantAcquire(t, s, "the other session is untouched", "other", "c", minutes(10).Add(59*time.Second), minutes(16), false)
	// Leases leave the session itself as it was.
	for _, want := range []store.ChatSession{sess, other} {
		if got, err := s.SessionGet(ctx, want.ID); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("SessionGet after leases = %+v, %v; want %+v", got, err, want)
		}
	}
	_, err := s.SessionAcquire(ctx, "missing", "a", minutes(10), minutes(11))
	wantCode(t, "SessionAcquire of a missing session", err, gathering.ENOTFOUND)
	if err := s.SessionRelease(ctx, "missing", "a"); err != nil {
		t.Errorf("SessionRelease of a missing session: %v", err)
	}
	if err := s.SessionRelease(ctx, "other", "nobody"); err != nil {
		t.Errorf("SessionRelease by a non-owner: %v", err)
	}
}

// testSessionLeaseRace checks that of several owners taking the same free
// lease at once, exactly one gets it.
func testSessionLeaseRace(t *testing.T, s store.Store) {
	agent := newAgentWithPersona(t, s, "agent")
	newSession(t, s, "sess", agent.ID, 1)
	const owners = 8
	won := make([]bool, owners)
	errs := make([]error, owners)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range owners {
		wg.Go(func() {
			<-start
			won[i], errs[i] = s.SessionAcquire(t.Context(), "sess", fmt.Sprintf("owner-%d", i), minutes(10), minutes(11))
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i := range owners {
		if errs[i] != nil {
			t.Errorf("owner %d: SessionAcquire: %v", i, errs[i])
		}
		if won[i] {
			if winner >= 0 {
				t.Errorf("owners %d and %d both took the lease", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("no owner took the free lease")
	}
	wantAcquire(t, s, "another owner after the race", "sess", "late", minutes(10), minutes(11), false)
	wantAcquire(t, s, "the winner again", "sess", fmt.Sprintf("owner-%d", winner), minutes(10), minutes(12), true)
}

func testMessagesAppend(t *testing.T, s store.Store) {
	ctx := t.Context()
	agent := newAgentWithPersona(t, s, "agent")
	newSession(t, s, "sess", agent.ID, 1)
	in := []store.ChatMessage{
		{Role: "user", Content: "What is the weather?", Tokens: 6, CreatedAt: minutes(2).Add(1 * time.Millisecond), AgentID: 999},
		{Role: "assistant", ToolCalls: json.RawMessage(`[ {"id": "call-1", "name": "weather", "arguments": {"city": "Zürich"}} ]`),
			Tokens: 20, CreatedAt: minutes(3)},
		{Role: "tool", Content: `{"error":"no network"}`, ToolCallID: "call-1", IsError: true, Tokens: 5, CreatedAt: minutes(4)},
	}
	stored, err := s.MessagesAppend(ctx, "sess", in)
	if err != nil || len(stored) != len(in) {
		t.Fatalf("MessagesAppend = %d messages, %v; want %d", len(stored), err, len(in))
	}
	for i, got := range stored {
		want := in[i]
		want.ID, want.SessionID, want.AgentID = got.ID, "sess", agent.ID
		if !reflect.DeepEqual(got, want) || (i > 0 && got.ID <= stored[i-1].ID) {
			t.Errorf("message %d = %+v (tool calls %q);\nwant %+v (tool calls %q) with an increasing id", i, got, got.ToolCalls, want, want.ToolCalls)
		}
	}
	if got, err := s.MessagesRecent(ctx, "sess", 10); err != nil || !reflect.DeepEqual(got, stored) {
		t.Errorf("MessagesRecent = %+v, %v; want %+v", got, err, stored)
	}
	if got, err := s.SessionGet(ctx, "sess"); err != nil || !got.UpdatedAt.Equal(minutes(4)) {
		t.Errorf("session after MessagesAppend: %+v, %v; want updated at %v", got, err, minutes(4))
	}
	appendMessages(t, s, "sess", 0, "late", "arrivals") // older than the session's last update
	if got, err := s.SessionGet(ctx, "sess"); err != nil || !got.UpdatedAt.Equal(minutes(4)) {
		t.Errorf("session after appending older messages: %+v, %v; want still updated at %v", got, err, minutes(4))
	}
	appendMessages(t, s, "sess", 5, "five", "six")
	for limit, want := range map[int][]string{
		2:  {"five", "six"},
		4:  {"late", "arrivals", "five", "six"},
		0:  {},
		-1: {},
	} {
		got, err := s.MessagesRecent(ctx, "sess", limit)
		if texts := messageTexts(got); err != nil || !slices.Equal(texts, want) {
			t.Errorf("MessagesRecent(%d) = %q, %v; want %q", limit, texts, err, want)
		}
	}
	if got, err := s.MessagesRecent(ctx, "missing", 5); err != nil || len(got) != 0 {
		t.Errorf("MessagesRecent of a missing session = %v, %v; want none", got, err)
	}
	_, err = s.MessagesAppend(ctx, "missing", in[:1])
	wantCode(t, "MessagesAppend to a missing session", err, gathering.ENOTFOUND)
	bad := []store.ChatMessage{{Role: "user", Content: "ok", CreatedAt: minutes(9)}, {Role: "assistant", ToolCalls: json.RawMessage(`[{`), CreatedAt: minutes(9)}}
	_, err = s.MessagesAppend(ctx, "sess", bad)
	wantCode(t, "MessagesAppend with invalid tool calls", err, gathering.EINVALID)
	if _, total, err := s.MessageList(ctx, agent.ID, "sess", store.Page{}); err != nil || total != 7 {
		t.Errorf("after refused appends: %d messages, %v; want 7", total, err)
	}
}

func testMessageList(t *testing.T, s store.Store) {
	ctx := t.Context()
	agent, other := newAgentWithPersona(t, s, "agent"), newAgentWithPersona(t, s, "other")
	newSession(t, s, "s1", agent.ID, 1)
	newSession(t, s, "s2", agent.ID, 1)
	newSession(t, s, "o1", other.ID, 1)
	appendMessages(t, s, "s1", 1, "a1", "a2")
	appendMessages(t, s, "s2", 2, "b1")
	appendMessages(t, s, "o1", 2, "o1")
	appendMessages(t, s, "s1", 3, "a3")
	cases := []struct {
		session string
		page    store.Page
		want    []string
		total   int
	}{
		{"", store.Page{}, []string{"a1", "a2", "b1", "a3"}, 4},
		{"", store.Page{Limit: 2, Offset: 1}, []string{"a2", "b1"}, 4},
		{"s1", store.Page{}, []string{"a1", "a2", "a3"}, 3},
		{"s1", store.Page{Limit: 1, Offset: 2}, []string{"a3"}, 3},
		{"s2", store.Page{}, []string{"b1"}, 1},
		{"o1", store.Page{}, []string{}, 0}, // another agent's session
		{"", store.Page{Offset: 10}, []string{}, 4},
	}
	for _, c := range cases {
		list, total, err := s.MessageList(ctx, agent.ID, c.session, c.page)
		if got := messageTexts(list); err != nil || total != c.total || !slices.Equal(got, c.want) {
			t.Errorf("MessageList(%q, %+v) = %q, total %d, %v; want %q, total %d", c.session, c.page, got, total, err, c.want, c.total)
		}
	}
}

func testAgentDeleteCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	doomed, kept := newAgentWithPersona(t, s, "doomed"), newAgentWithPersona(t, s, "kept")
	for _, a := range []store.Agent{doomed, kept} {
		session := fmt.Sprintf("sess-%d", a.ID)
		newSession(t, s, session, a.ID, 1)
		appendMessages(t, s, session, 2, "hello", "again")
		if err := s.AgentSkillsEnable(ctx, a.ID, []string{"web", "code"}, base); err != nil {
			t.Fatalf("AgentSkillsEnable: %v", err)
		}
		recordUsage(t, s, store.UsageRecord{At: minutes(3), AgentID: a.ID, Provider: "openai", Model: "gpt", Cost: 1, Outcome: "ok"})
	}
	if err := s.AgentDelete(ctx, doomed.ID); err != nil {
		t.Fatalf("AgentDelete: %v", err)
	}
	_, err := s.AgentGet(ctx, doomed.ID)
	wantCode(t, "AgentGet after AgentDelete", err, gathering.ENOTFOUND)
	_, err = s.SessionGet(ctx, fmt.Sprintf("sess-%d", doomed.ID))
	wantCode(t, "SessionGet of a deleted agent's session", err, gathering.ENOTFOUND)
	for agent, want := range map[int64]int{doomed.ID: 0, kept.ID: 2} {
		if _, total, err := s.MessageList(ctx, agent, "", store.Page{}); err != nil || total != want {
			t.Errorf("MessageList(%d) total %d, %v; want %d", agent, total, err, want)
		}
		if skills, err := s.AgentSkills(ctx, agent); err != nil || len(skills) != want {
			t.Errorf("AgentSkills(%d) = %v, %v; want %d skills", agent, skills, err, want)
		}
	}
	if got, err := s.MessagesRecent(ctx, fmt.Sprintf("sess-%d", doomed.ID), 10); err != nil || len(got) != 0 {
		t.Errorf("MessagesRecent of a deleted session = %v, %v; want none", got, err)
	}
	totals, err := s.UsageTotals(ctx, store.UsageByAgent, time.Time{}, time.Time{})
	if err != nil || len(totals) != 2 {
		t.Errorf("UsageTotals by agent after AgentDelete = %+v, %v; want both agents' usage kept", totals, err)
	}
	wantCode(t, "AgentDelete again", s.AgentDelete(ctx, doomed.ID), gathering.ENOTFOUND)
}

// recordUsage appends to the ledger or fails the test.
func recordUsage(t *testing.T, s store.Store, u store.UsageRecord) {
	t.Helper()
	if err := s.UsageRecord(t.Context(), u); err != nil {
		t.Fatalf("UsageRecord(%+v): %v", u, err)
	}
}

// wantTotals fails the test unless UsageTotals answers want, in order, with
// costs equal to within 1e-9.
func wantTotals(t *testing.T, s store.Store, by store.UsageGroup, since, until time.Time, want ...store.UsageTotal) {
	t.Helper()
	got, err := s.UsageTotals(t.Context(), by, since, until)
	same := err == nil && len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		g, w := got[i], want[i]
		same = math.Abs(g.Cost-w.Cost) < 1e-9
		g.Cost, w.Cost = 0, 0
		same = same && g == w
	}
	if !same {
		t.Errorf("UsageTotals(%s, %v, %v) = %+v, %v;\nwant %+v", by, since, until, got, err, want)
	}
}

// usageDay is 2026-03-01 (UTC), the day of base; the ledger below spans it
// and the next day.
var usageDay = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// recordLedger appends five calls: three on 2026-03-01 (one failed), two on
// 2026-03-02, by agents 1 and 2 and by no agent.
func recordLedger(t *testing.T, s store.Store) {
	t.Helper()
	day1, day2 := usageDay.Add(23*time.Hour+59*time.Minute), usageDay.Add(24*time.Hour+time.Minute)
	for _, u := range []store.UsageRecord{
		{At: usageDay.Add(time.Hour), AgentID: 1, SessionID: "s", UserID: 7, Provider: "openai", Model: "gpt", InputTokens: 100,
			OutputTokens: 10, CachedTokens: 5, Cost: 0.1, LatencyMS: 800, Outcome: "ok"},
		{At: day1, AgentID: 1, Provider: "openai", Model: "gpt", InputTokens: 200, OutputTokens: 20, Cost: 0.2, Outcome: "ok"},
		{At: day1.Add(999 * time.Millisecond), AgentID: 2, Provider: "anthropic", Model: "claude", InputTokens: 50,
			Cost: 0, Outcome: gathering.ETIMEOUT},
		{At: day2, AgentID: 2, PipelineRunID: "run-1", NodeID: "n1", Provider: "anthropic", Model: "claude", InputTokens: 1000,
			OutputTokens: 300, CachedTokens: 700, Cost: 1.5, Outcome: "ok"},
		{At: day2.Add(time.Hour), Provider: "openai", Model: "gpt", InputTokens: 1, OutputTokens: 1, Cost: 0.7, Outcome: "ok"},
	} {
		recordUsage(t, s, u)
	}
}

func testUsageTotals(t *testing.T, s store.Store) {
	wantTotals(t, s, store.UsageByAgent, time.Time{}, time.Time{})
	recordLedger(t, s)
	none := time.Time{}
	wantTotals(t, s, store.UsageByAgent, none, none,
		store.UsageTotal{Key: "2", Calls: 2, Failed: 1, InputTokens: 1050, OutputTokens: 300, CachedTokens: 700, Cost: 1.5},
		store.UsageTotal{Key: "0", Calls: 1, InputTokens: 1, OutputTokens: 1, Cost: 0.7},
		store.UsageTotal{Key: "1", Calls: 2, InputTokens: 300, OutputTokens: 30, CachedTokens: 5, Cost: 0.3})
	wantTotals(t, s, store.UsageByModel, none, none,
		store.UsageTotal{Key: "anthropic/claude", Calls: 2, Failed: 1, InputTokens: 1050, OutputTokens: 300, CachedTokens: 700, Cost: 1.5},
		store.UsageTotal{Key: "openai/gpt", Calls: 3, InputTokens: 301, OutputTokens: 31, CachedTokens: 5, Cost: 1.0})
	wantTotals(t, s, store.UsageByDay, none, none,
		store.UsageTotal{Key: "2026-03-01", Calls: 3, Failed: 1, InputTokens: 350, OutputTokens: 30, CachedTokens: 5, Cost: 0.3},
		store.UsageTotal{Key: "2026-03-02", Calls: 2, InputTokens: 1001, OutputTokens: 301, CachedTokens: 700, Cost: 2.2})
	_, err := s.UsageTotals(t.Context(), "week", none, none)
	wantCode(t, "UsageTotals by an unknown grouping", err, gathering.EINVALID)
}

func testUsageTotalsBounds(t *testing.T, s store.Store) {
	recordLedger(t, s)
	midnight := usageDay.Add(24 * time.Hour)
	lastOfDay1 := usageDay.Add(23*time.Hour + 59*time.Minute + 999*time.Millisecond) // the third call
	wantTotals(t, s, store.UsageByDay, midnight, time.Time{},
		store.UsageTotal{Key: "2026-03-02", Calls: 2, InputTokens: 1001, OutputTokens: 301, CachedTokens: 700, Cost: 2.2})
	wantTotals(t, s, store.UsageByDay, time.Time{}, midnight,
		store.UsageTotal{Key: "2026-03-01", Calls: 3, Failed: 1, InputTokens: 350, OutputTokens: 30, CachedTokens: 5, Cost: 0.3})
	// since is inclusive, until exclusive.
	wantTotals(t, s, store.UsageByAgent, lastOfDay1, midnight.Add(time.Minute),
		store.UsageTotal{Key: "2", Calls: 1, Failed: 1, InputTokens: 50})
	wantTotals(t, s, store.UsageByModel, lastOfDay1, midnight.Add(time.Minute+time.Millisecond),
		store.UsageTotal{Key: "anthropic/claude", Calls: 2, Failed: 1, InputTokens: 1050, OutputTokens: 300, CachedTokens: 700, Cost: 1.5})
	wantTotals(t, s, store.UsageByDay, midnight.Add(48*time.Hour), time.Time{})
}
