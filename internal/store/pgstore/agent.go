package pgstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// agentColumns are the columns scanAgent reads, in order.
const agentColumns = `id, name, persona_id, provider, model, temperature, max_tokens, competencies, can_review,
	status, created_by, created_at, updated_at`

// sessionColumns are the columns scanSession reads, in order.
const sessionColumns = `id, agent_id, user_id, title, created_at, updated_at`

// messageColumns are the columns scanMessage reads, in order.
const messageColumns = `id, session_id, agent_id, role, content, tool_calls, tool_call_id, is_error, tokens, created_at`

// listJSON is the stored form of a list of strings: a JSON array, [] for
// nil.
func listJSON(strs []string) string {
	if strs == nil {
		strs = []string{}
	}
	b, _ := json.Marshal(strs) // marshaling strings cannot fail
	return string(b)
}

// parseList reads a stored list of strings; an empty list is not nil.
func parseList(s string) ([]string, error) {
	var strs []string
	err := json.Unmarshal([]byte(s), &strs)
	return strs, err
}

// refError is translate, except that a foreign key violation becomes code
// with outcome as its message: ENOTFOUND when a referenced row is missing,
// ECONFLICT when a row still referenced would be deleted.
func refError(err error, code, outcome, format string, args ...any) error {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "23503" {
		return &gathering.Error{Code: code, Message: fmt.Sprintf(format, args...) + ": " + outcome, Err: err}
	}
	return translate(err, format, args...)
}

// scanAgent reads one agents row, with its times in UTC and its
// competencies decoded.
func scanAgent(row pgx.Row) (store.Agent, error) {
	var a store.Agent
	var competencies string
	var creator *int64
	var created, updated time.Time
	err := row.Scan(&a.ID, &a.Name, &a.PersonaID, &a.Provider, &a.Model, &a.Temperature, &a.MaxTokens, &competencies,
		&a.CanReview, &a.Status, &creator, &created, &updated)
	if err != nil {
		return a, err
	}
	a.CreatedBy, a.CreatedAt, a.UpdatedAt = idOf(creator), created.UTC(), updated.UTC()
	a.Competencies, err = parseList(competencies)
	return a, err
}

// scanSession reads one chat_sessions row, with its times in UTC.
func scanSession(row pgx.Row) (store.ChatSession, error) {
	var c store.ChatSession
	var user *int64
	var created, updated time.Time
	err := row.Scan(&c.ID, &c.AgentID, &user, &c.Title, &created, &updated)
	c.UserID, c.CreatedAt, c.UpdatedAt = idOf(user), created.UTC(), updated.UTC()
	return c, err
}

// scanMessage reads one chat_messages row, with its time in UTC and its
// tool calls as the stored bytes.
func scanMessage(row pgx.Row) (store.ChatMessage, error) {
	var m store.ChatMessage
	var calls *string
	var created time.Time
	err := row.Scan(&m.ID, &m.SessionID, &m.AgentID, &m.Role, &m.Content, &calls, &m.ToolCallID, &m.IsError,
		&m.Tokens, &created)
	m.ToolCalls, m.CreatedAt = rawJSON(calls), created.UTC()
	return m, err
}

// AgentCreate inserts an agent (idle when its Status is empty) and returns
// it with its id; ENOTFOUND when its persona does not exist, ECONFLICT when
// its name is taken.
func (s *Store) AgentCreate(ctx context.Context, a store.Agent) (store.Agent, error) {
	got, err := scanAgent(s.pool.QueryRow(ctx,
		`INSERT INTO agents (name, persona_id, provider, model, temperature, max_tokens, competencies, can_review,
		     status, created_by, created_at, updated_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING `+agentColumns,
		a.Name, a.PersonaID, a.Provider, a.Model, a.Temperature, a.MaxTokens, listJSON(a.Competencies), a.CanReview,
		cmp.Or(a.Status, store.AgentIdle), nullID(a.CreatedBy), a.CreatedAt, a.UpdatedAt))
	return got, refError(err, gathering.ENOTFOUND, "persona not found", "create agent %q", a.Name)
}

// AgentGet returns an agent or ENOTFOUND.
func (s *Store) AgentGet(ctx context.Context, id int64) (store.Agent, error) {
	a, err := scanAgent(s.pool.QueryRow(ctx, `SELECT `+agentColumns+` FROM agents WHERE id = $1`, id))
	return a, translate(err, "get agent %d", id)
}

// AgentList returns a page of agents by id, and the total.
func (s *Store) AgentList(ctx context.Context, p store.Page) ([]store.Agent, int, error) {
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM agents`).Scan(&total); err != nil {
		return nil, 0, translate(err, "count agents")
	}
	limit, offset := p.ListBounds()
	rows, err := s.pool.Query(ctx, `SELECT `+agentColumns+` FROM agents ORDER BY id LIMIT $1 OFFSET $2`, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list agents")
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Agent, error) { return scanAgent(row) })
	return list, total, translate(err, "list agents")
}

// AgentUpdate replaces every field of an agent but its id, Status,
// CreatedBy and CreatedAt; ENOTFOUND when the agent or its persona does not
// exist, ECONFLICT on a taken name.
func (s *Store) AgentUpdate(ctx context.Context, a store.Agent) (store.Agent, error) {
	got, err := scanAgent(s.pool.QueryRow(ctx,
		`UPDATE agents SET name = $2, persona_id = $3, provider = $4, model = $5, temperature = $6,
		     max_tokens = $7, competencies = $8, can_review = $9, updated_at = $10
		 WHERE id = $1 RETURNING `+agentColumns,
		a.ID, a.Name, a.PersonaID, a.Provider, a.Model, a.Temperature, a.MaxTokens, listJSON(a.Competencies),
		a.CanReview, a.UpdatedAt))
	return got, refError(err, gathering.ENOTFOUND, "persona not found", "update agent %d", a.ID)
}

// AgentSetStatus sets an agent idle or busy, updated at at; EINVALID for
// another status, ENOTFOUND when the agent does not exist.
func (s *Store) AgentSetStatus(ctx context.Context, id int64, status store.AgentStatus, at time.Time) error {
	if status != store.AgentIdle && status != store.AgentBusy {
		return gathering.Errorf(gathering.EINVALID, "agent status %q is neither idle nor busy", status)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE agents SET status = $2, updated_at = $3 WHERE id = $1`, id, status, at)
	return affectedOne(tag.RowsAffected(), err, "set status of agent %d", id)
}

// AgentDelete deletes an agent and its skills in one transaction; its
// sessions and their messages go by cascade, its usage records stay.
func (s *Store) AgentDelete(ctx context.Context, id int64) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM agent_skills WHERE agent_id = $1`, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM agents WHERE id = $1`, id)
		if err == nil && tag.RowsAffected() == 0 {
			err = pgx.ErrNoRows
		}
		return err
	})
	return translate(err, "delete agent %d", id)
}

// SessionCreate inserts a chat session whose ID the caller chose; ECONFLICT
// when the id exists, ENOTFOUND when the agent does not.
func (s *Store) SessionCreate(ctx context.Context, c store.ChatSession) error {
	_, err := s.pool.Exec(ctx,
		`INSERT INTO chat_sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.ID, c.AgentID, nullID(c.UserID), c.Title, c.CreatedAt, c.UpdatedAt)
	return refError(err, gathering.ENOTFOUND, "agent not found", "create session %s", c.ID)
}

// SessionGet returns a session or ENOTFOUND.
func (s *Store) SessionGet(ctx context.Context, id string) (store.ChatSession, error) {
	c, err := scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM chat_sessions WHERE id = $1`, id))
	return c, translate(err, "get session %s", id)
}

// SessionList returns a page of an agent's sessions, most recently updated
// first (then by id, descending), and the total.
func (s *Store) SessionList(ctx context.Context, agentID int64, p store.Page) ([]store.ChatSession, int, error) {
	var total int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM chat_sessions WHERE agent_id = $1`, agentID).Scan(&total)
	if err != nil {
		return nil, 0, translate(err, "count sessions of agent %d", agentID)
	}
	limit, offset := p.ListBounds()
	rows, err := s.pool.Query(ctx,
		`SELECT `+sessionColumns+` FROM chat_sessions WHERE agent_id = $1
		 ORDER BY updated_at DESC, id DESC LIMIT $2 OFFSET $3`, agentID, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list sessions of agent %d", agentID)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.ChatSession, error) { return scanSession(row) })
	return list, total, translate(err, "list sessions of agent %d", agentID)
}

// MessagesAppend appends messages to a session in one transaction that
// locks the session, so concurrent appends take turns and ids follow the
// order of the messages. Each message takes the session's agent; the
// session's updated_at becomes the latest CreatedAt if that is later.
// ENOTFOUND when the session does not exist, EINVALID when tool calls are
// not JSON.
func (s *Store) MessagesAppend(ctx context.Context, sessionID string, ms []store.ChatMessage) ([]store.ChatMessage, error) {
	if err := store.CheckMessages(ms); err != nil {
		return nil, err
	}
	var out []store.ChatMessage
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var agentID int64
		err := tx.QueryRow(ctx, `SELECT agent_id FROM chat_sessions WHERE id = $1 FOR UPDATE`, sessionID).Scan(&agentID)
		if err != nil {
			return err
		}
		var latest time.Time
		for _, m := range ms {
			stored, err := scanMessage(tx.QueryRow(ctx,
				`INSERT INTO chat_messages (session_id, agent_id, role, content, tool_calls, tool_call_id, is_error,
				     tokens, created_at)
				 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING `+messageColumns,
				sessionID, agentID, m.Role, m.Content, nullJSON(m.ToolCalls), m.ToolCallID, m.IsError, m.Tokens,
				m.CreatedAt))
			if err != nil {
				return err
			}
			out, latest = append(out, stored), later(latest, m.CreatedAt)
		}
		_, err = tx.Exec(ctx, `UPDATE chat_sessions SET updated_at = greatest(updated_at, $2) WHERE id = $1`,
			sessionID, latest)
		return err
	})
	return out, translate(err, "append messages to session %s", sessionID)
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// MessagesRecent returns the latest limit messages of a session, oldest
// first; none when limit is not positive or the session does not exist.
func (s *Store) MessagesRecent(ctx context.Context, sessionID string, limit int) ([]store.ChatMessage, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+messageColumns+` FROM (
		     SELECT `+messageColumns+` FROM chat_messages WHERE session_id = $1 ORDER BY id DESC LIMIT $2
		 ) AS recent ORDER BY id`, sessionID, max(limit, 0))
	if err != nil {
		return nil, translate(err, "read recent messages of session %s", sessionID)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.ChatMessage, error) { return scanMessage(row) })
	return list, translate(err, "read recent messages of session %s", sessionID)
}

// MessageList returns a page of an agent's messages (of one session when
// sessionID is set), oldest first, and the total.
func (s *Store) MessageList(ctx context.Context, agentID int64, sessionID string, p store.Page) ([]store.ChatMessage, int, error) {
	var total int
	err := s.pool.QueryRow(ctx,
		`SELECT count(*) FROM chat_messages WHERE agent_id = $1 AND ($2 = '' OR session_id = $2)`,
		agentID, sessionID).Scan(&total)
	if err != nil {
		return nil, 0, translate(err, "count messages of agent %d", agentID)
	}
	limit, offset := p.ListBounds()
	rows, err := s.pool.Query(ctx,
		`SELECT `+messageColumns+` FROM chat_messages WHERE agent_id = $1 AND ($2 = '' OR session_id = $2)
		 ORDER BY id LIMIT $3 OFFSET $4`, agentID, sessionID, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list messages of agent %d", agentID)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.ChatMessage, error) { return scanMessage(row) })
	return list, total, translate(err, "list messages of agent %d", agentID)
}
