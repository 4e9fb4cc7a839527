package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// providerColumns are the columns scanProvider reads, in order.
const providerColumns = `name, kind, base_url, is_builtin, key_env, created_at, updated_at`

// modelColumns are the columns scanModel reads, in order.
const modelColumns = `id, provider, name, alias, context_window, max_output, price_input, price_output,
	price_cached, tools, vision, streaming, is_builtin, created_at, updated_at`

// personaColumns are the columns scanPersona reads, in order.
const personaColumns = `id, display_name, role, traits, communication_style, specializations, languages,
	base_prompt, motto, description, default_model_id, is_builtin, created_at, updated_at`

// scanProvider reads one providers row, converting its times to UTC.
func scanProvider(row scanner) (store.Provider, error) {
	var p store.Provider
	var created, updated int64
	err := row.Scan(&p.Name, &p.Kind, &p.BaseURL, &p.IsBuiltin, &p.KeyEnv, &created, &updated)
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return p, err
}

// scanModel reads one models row, converting its times to UTC.
func scanModel(row scanner) (store.Model, error) {
	var m store.Model
	var created, updated int64
	err := row.Scan(&m.ID, &m.Provider, &m.Name, &m.Alias, &m.ContextWindow, &m.MaxOutput, &m.PriceInput,
		&m.PriceOutput, &m.PriceCached, &m.Tools, &m.Vision, &m.Streaming, &m.IsBuiltin, &created, &updated)
	m.CreatedAt, m.UpdatedAt = fromMS(created), fromMS(updated)
	return m, err
}

// scanPersona reads one personas row, converting its times to UTC and
// decoding its lists.
func scanPersona(row scanner) (store.Persona, error) {
	var p store.Persona
	var traits, specializations, languages string
	var model sql.NullInt64
	var created, updated int64
	err := row.Scan(&p.ID, &p.DisplayName, &p.Role, &traits, &p.CommunicationStyle, &specializations, &languages,
		&p.BasePrompt, &p.Motto, &p.Description, &model, &p.IsBuiltin, &created, &updated)
	if err != nil {
		return p, err
	}
	p.DefaultModelID, p.CreatedAt, p.UpdatedAt = model.Int64, fromMS(created), fromMS(updated)
	p.Traits, err = parseList(traits)
	if err == nil {
		p.Specializations, err = parseList(specializations)
	}
	if err == nil {
		p.Languages, err = parseList(languages)
	}
	return p, err
}

// ProviderPut creates or replaces a provider by name in one upsert; a
// replaced provider keeps its CreatedAt.
func (s *Store) ProviderPut(ctx context.Context, p store.Provider) (store.Provider, error) {
	got, err := scanProvider(s.write.QueryRowContext(ctx,
		`INSERT INTO providers (`+providerColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, base_url = excluded.base_url,
		     is_builtin = excluded.is_builtin, key_env = excluded.key_env, updated_at = excluded.updated_at
		 RETURNING `+providerColumns,
		p.Name, p.Kind, p.BaseURL, p.IsBuiltin, p.KeyEnv, p.CreatedAt.UnixMilli(), p.UpdatedAt.UnixMilli()))
	return got, translate(err, "put provider %q", p.Name)
}

// ProviderGet returns a provider by name, or ENOTFOUND.
func (s *Store) ProviderGet(ctx context.Context, name string) (store.Provider, error) {
	p, err := scanProvider(s.read.QueryRowContext(ctx, `SELECT `+providerColumns+` FROM providers WHERE name = ?`, name))
	return p, translate(err, "get provider %q", name)
}

// ProviderList returns every provider, by name in byte order.
func (s *Store) ProviderList(ctx context.Context) ([]store.Provider, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+providerColumns+` FROM providers ORDER BY name`)
	if err != nil {
		return nil, translate(err, "list providers")
	}
	list, err := collect(rows, scanProvider)
	return list, translate(err, "list providers")
}

// ProviderDelete deletes a provider that is not built in and has no
// models, with its credential.
func (s *Store) ProviderDelete(ctx context.Context, name string) error {
	return s.deleteUnlessBuiltin(ctx, `SELECT is_builtin FROM providers WHERE name = ?`,
		`DELETE FROM providers WHERE name = ?`, name, "provider "+name)
}

// deleteUnlessBuiltin runs, in one write transaction, lookup (which reads
// the is_builtin of the row with key) and, unless it is built in, del. It
// answers ENOTFOUND when there is no such row, and ECONFLICT when it is
// built in or still referenced; what names the row in messages.
func (s *Store) deleteUnlessBuiltin(ctx context.Context, lookup, del string, key any, what string) error {
	tx, err := s.write.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the one writer
	if err != nil {
		return translate(err, "delete %s", what)
	}
	defer tx.Rollback()
	var builtin bool
	// sqlcheck: lookup is a constant SELECT of this file
	if err := tx.QueryRowContext(ctx, lookup, key).Scan(&builtin); err != nil {
		return translate(err, "delete %s", what)
	}
	if builtin {
		return gathering.Errorf(gathering.ECONFLICT, "%s is built in", what)
	}
	// sqlcheck: del is a constant DELETE of this file
	if _, err := tx.ExecContext(ctx, del, key); err != nil {
		return refError(err, gathering.ECONFLICT, "in use", "delete %s", what)
	}
	return translate(tx.Commit(), "delete %s", what)
}

// CredentialPut stores the sealed API key of a provider, replacing any;
// ENOTFOUND when the provider does not exist.
func (s *Store) CredentialPut(ctx context.Context, c store.Credential) error {
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO provider_credentials (provider, sealed, hint, updated_at, updated_by)
		 VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (provider) DO UPDATE SET sealed = excluded.sealed, hint = excluded.hint,
		     updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		c.Provider, c.Sealed, c.Hint, c.UpdatedAt.UnixMilli(), nullID(c.UpdatedBy))
	return refError(err, gathering.ENOTFOUND, "provider not found", "put credential of provider %q", c.Provider)
}

// CredentialGet returns the sealed key of a provider, or ENOTFOUND.
func (s *Store) CredentialGet(ctx context.Context, provider string) (store.Credential, error) {
	var c store.Credential
	var updated int64
	var by sql.NullInt64
	err := s.read.QueryRowContext(ctx,
		`SELECT provider, sealed, hint, updated_at, updated_by FROM provider_credentials WHERE provider = ?`,
		provider).Scan(&c.Provider, &c.Sealed, &c.Hint, &updated, &by)
	c.UpdatedAt, c.UpdatedBy = fromMS(updated), by.Int64
	return c, translate(err, "get credential of provider %q", provider)
}

// CredentialDelete removes a provider's key; ENOTFOUND when none.
func (s *Store) CredentialDelete(ctx context.Context, provider string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM provider_credentials WHERE provider = ?`, provider)
	return affectedOne(res, err, "delete credential of provider %q", provider)
}

// ModelPut creates or replaces a model by (provider, name) in one upsert,
// ignoring m.ID; a replaced model keeps its id and CreatedAt. ENOTFOUND
// when the provider does not exist.
func (s *Store) ModelPut(ctx context.Context, m store.Model) (store.Model, error) {
	got, err := scanModel(s.write.QueryRowContext(ctx,
		`INSERT INTO models (provider, name, alias, context_window, max_output, price_input, price_output,
		     price_cached, tools, vision, streaming, is_builtin, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (provider, name) DO UPDATE SET alias = excluded.alias,
		     context_window = excluded.context_window, max_output = excluded.max_output,
		     price_input = excluded.price_input, price_output = excluded.price_output,
		     price_cached = excluded.price_cached, tools = excluded.tools, vision = excluded.vision,
		     streaming = excluded.streaming, is_builtin = excluded.is_builtin, updated_at = excluded.updated_at
		 RETURNING `+modelColumns,
		m.Provider, m.Name, m.Alias, m.ContextWindow, m.MaxOutput, m.PriceInput, m.PriceOutput, m.PriceCached,
		m.Tools, m.Vision, m.Streaming, m.IsBuiltin, m.CreatedAt.UnixMilli(), m.UpdatedAt.UnixMilli()))
	return got, refError(err, gathering.ENOTFOUND, "provider not found", "put model %s/%s", m.Provider, m.Name)
}

// ModelGet returns a model by id, or ENOTFOUND.
func (s *Store) ModelGet(ctx context.Context, id int64) (store.Model, error) {
	m, err := scanModel(s.read.QueryRowContext(ctx, `SELECT `+modelColumns+` FROM models WHERE id = ?`, id))
	return m, translate(err, "get model %d", id)
}

// ModelFind returns the model of a provider by name or, failing that, by
// alias (the oldest one when several share it), or ENOTFOUND.
func (s *Store) ModelFind(ctx context.Context, provider, nameOrAlias string) (store.Model, error) {
	m, err := scanModel(s.read.QueryRowContext(ctx,
		`SELECT `+modelColumns+` FROM models
		 WHERE provider = ?1 AND (name = ?2 OR (alias = ?2 AND alias <> ''))
		 ORDER BY name = ?2 DESC, id LIMIT 1`, provider, nameOrAlias))
	return m, translate(err, "find model %s/%s", provider, nameOrAlias)
}

// ModelList returns the models of a provider ("" for all), by provider and
// name in byte order.
func (s *Store) ModelList(ctx context.Context, provider string) ([]store.Model, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+modelColumns+` FROM models WHERE ?1 = '' OR provider = ?1 ORDER BY provider, name`, provider)
	if err != nil {
		return nil, translate(err, "list models")
	}
	list, err := collect(rows, scanModel)
	return list, translate(err, "list models")
}

// ModelDelete deletes a model that is not built in; the personas that
// defaulted to it are left without a default model.
func (s *Store) ModelDelete(ctx context.Context, id int64) error {
	return s.deleteUnlessBuiltin(ctx, `SELECT is_builtin FROM models WHERE id = ?`,
		`DELETE FROM models WHERE id = ?`, id, fmt.Sprintf("model %d", id))
}

// PersonaCreate inserts a persona and returns it with its id; ECONFLICT
// when its display name is taken, ENOTFOUND when its default model does not
// exist.
func (s *Store) PersonaCreate(ctx context.Context, p store.Persona) (store.Persona, error) {
	got, err := scanPersona(s.write.QueryRowContext(ctx,
		`INSERT INTO personas (display_name, role, traits, communication_style, specializations, languages,
		     base_prompt, motto, description, default_model_id, is_builtin, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+personaColumns,
		p.DisplayName, p.Role, listJSON(p.Traits), p.CommunicationStyle, listJSON(p.Specializations),
		listJSON(p.Languages), p.BasePrompt, p.Motto, p.Description, nullID(p.DefaultModelID), p.IsBuiltin,
		p.CreatedAt.UnixMilli(), p.UpdatedAt.UnixMilli()))
	return got, refError(err, gathering.ENOTFOUND, "default model not found", "create persona %q", p.DisplayName)
}

// PersonaGet returns a persona or ENOTFOUND.
func (s *Store) PersonaGet(ctx context.Context, id int64) (store.Persona, error) {
	p, err := scanPersona(s.read.QueryRowContext(ctx, `SELECT `+personaColumns+` FROM personas WHERE id = ?`, id))
	return p, translate(err, "get persona %d", id)
}

// PersonaList returns a page of personas by id, and the total.
func (s *Store) PersonaList(ctx context.Context, p store.Page) ([]store.Persona, int, error) {
	var total int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM personas`).Scan(&total); err != nil {
		return nil, 0, translate(err, "count personas")
	}
	limit, offset := p.ListBounds()
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+personaColumns+` FROM personas ORDER BY id LIMIT ? OFFSET ?`, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list personas")
	}
	list, err := collect(rows, scanPersona)
	return list, total, translate(err, "list personas")
}

// PersonaUpdate replaces every field of a persona but its id, IsBuiltin
// and CreatedAt; ENOTFOUND, ECONFLICT on a taken display name.
func (s *Store) PersonaUpdate(ctx context.Context, p store.Persona) (store.Persona, error) {
	got, err := scanPersona(s.write.QueryRowContext(ctx,
		`UPDATE personas SET display_name = ?2, role = ?3, traits = ?4, communication_style = ?5,
		     specializations = ?6, languages = ?7, base_prompt = ?8, motto = ?9, description = ?10,
		     default_model_id = ?11, updated_at = ?12
		 WHERE id = ?1 RETURNING `+personaColumns,
		p.ID, p.DisplayName, p.Role, listJSON(p.Traits), p.CommunicationStyle, listJSON(p.Specializations),
		listJSON(p.Languages), p.BasePrompt, p.Motto, p.Description, nullID(p.DefaultModelID), p.UpdatedAt.UnixMilli()))
	return got, refError(err, gathering.ENOTFOUND, "default model not found", "update persona %d", p.ID)
}

// PersonaDelete deletes a persona that is not built in and that no agent
// plays.
func (s *Store) PersonaDelete(ctx context.Context, id int64) error {
	return s.deleteUnlessBuiltin(ctx, `SELECT is_builtin FROM personas WHERE id = ?`,
		`DELETE FROM personas WHERE id = ?`, id, fmt.Sprintf("persona %d", id))
}
