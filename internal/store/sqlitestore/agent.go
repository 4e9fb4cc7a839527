package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

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
	return jsonArray(strs)
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
	if sqlErr, ok := errors.AsType[*sqlite.Error](err); ok && sqlErr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
		return &gathering.Error{Code: code, Message: fmt.Sprintf(format, args...) + ": " + outcome, Err: err}
	}
	return translate(err, format, args...)
}

// scanAgent reads one agents row, converting its times to UTC and decoding
// its competencies.
func scanAgent(row scanner) (store.Agent, error) {
	var a store.Agent
	var competencies string
	var creator sql.NullInt64
	var created, updated int64
	err := row.Scan(&a.ID, &a.Name, &a.PersonaID, &a.Provider, &a.Model, &a.Temperature, &a.MaxTokens, &competencies,
		&a.CanReview, &a.Status, &creator, &created, &updated)
	if err != nil {
		return a, err
	}
	a.CreatedBy, a.CreatedAt, a.UpdatedAt = creator.Int64, fromMS(created), fromMS(updated)
	a.Competencies, err = parseList(competencies)
	return a, err
}

// scanSession reads one chat_sessions row, converting its times to UTC.
func scanSession(row scanner) (store.ChatSession, error) {
	var c store.ChatSession
	var user sql.NullInt64
	var created, updated int64
	err := row.Scan(&c.ID, &c.AgentID, &user, &c.Title, &created, &updated)
	c.UserID, c.CreatedAt, c.UpdatedAt = user.Int64, fromMS(created), fromMS(updated)
	return c, err
}

// scanMessage reads one chat_messages row, converting its time to UTC and
// keeping its tool calls as the stored bytes.
func scanMessage(row scanner) (store.ChatMessage, error) {
	var m store.ChatMessage
	var calls sql.NullString
	var created int64
	err := row.Scan(&m.ID, &m.SessionID, &m.AgentID, &m.Role, &m.Content, &calls, &m.ToolCallID, &m.IsError,
		&m.Tokens, &created)
	m.ToolCalls, m.CreatedAt = rawJSON(calls), fromMS(created)
	return m, err
}

// AgentCreate inserts an agent (idle when its Status is empty) and returns
// it with its id; ENOTFOUND when its persona does not exist, ECONFLICT when
// its name is taken.
func (s *Store) AgentCreate(ctx context.Context, a store.Agent) (store.Agent, error) {
	got, err := scanAgent(s.write.QueryRowContext(ctx,
		`INSERT INTO agents (name, persona_id, provider, model, temperature, max_tokens, competencies, can_review,
		     status, created_by, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+agentColumns,
		a.Name, a.PersonaID, a.Provider, a.Model, a.Temperature, a.MaxTokens, listJSON(a.Competencies), a.CanReview,
		cmp.Or(a.Status, store.AgentIdle), nullID(a.CreatedBy), a.CreatedAt.UnixMilli(), a.UpdatedAt.UnixMilli()))
	return got, refError(err, gathering.ENOTFOUND, "persona not found", "create agent %q", a.Name)
}

// AgentGet returns an agent or ENOTFOUND.
func (s *Store) AgentGet(ctx context.Context, id int64) (store.Agent, error) {
	a, err := scanAgent(s.read.QueryRowContext(ctx, `SELECT `+agentColumns+` FROM agents WHERE id = ?`, id))
	return a, translate(err, "get agent %d", id)
}

// AgentList returns a page of agents by id, and the total.
func (s *Store) AgentList(ctx context.Context, p store.Page) ([]store.Agent, int, error) {
	var total int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM agents`).Scan(&total); err != nil {
		return nil, 0, translate(err, "count agents")
	}
	limit, offset := p.ListBounds()
	rows, err := s.read.QueryContext(ctx, `SELECT `+agentColumns+` FROM agents ORDER BY id LIMIT ? OFFSET ?`, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list agents")
	}
	list, err := collect(rows, scanAgent)
	return list, total, translate(err, "list agents")
}

// AgentUpdate replaces every field of an agent but its id, Status,
// CreatedBy and CreatedAt; ENOTFOUND when the agent or its persona does not
// exist, ECONFLICT on a taken name.
func (s *Store) AgentUpdate(ctx context.Context, a store.Agent) (store.Agent, error) {
	got, err := scanAgent(s.write.QueryRowContext(ctx,
		`UPDATE agents SET name = ?2, persona_id = ?3, provider = ?4, model = ?5, temperature = ?6,
		     max_tokens = ?7, competencies = ?8, can_review = ?9, updated_at = ?10
		 WHERE id = ?1 RETURNING `+agentColumns,
		a.ID, a.Name, a.PersonaID, a.Provider, a.Model, a.Temperature, a.MaxTokens, listJSON(a.Competencies),
		a.CanReview, a.UpdatedAt.UnixMilli()))
	return got, refError(err, gathering.ENOTFOUND, "persona not found", "update agent %d", a.ID)
}

// AgentSetStatus sets an agent idle or busy, updated at at; EINVALID for
// another status, ENOTFOUND when the agent does not exist.
func (s *Store) AgentSetStatus(ctx context.Context, id int64, status store.AgentStatus, at time.Time) error {
	if status != store.AgentIdle && status != store.AgentBusy {
		return gathering.Errorf(gathering.EINVALID, "agent status %q is neither idle nor busy", status)
	}
	res, err := s.write.ExecContext(ctx, `UPDATE agents SET status = ?2, updated_at = ?3 WHERE id = ?1`,
		id, status, at.UnixMilli())
	return affectedOne(res, err, "set status of agent %d", id)
}

// AgentDelete deletes an agent and its skills in one transaction; its
// sessions and their messages go by cascade, its usage records stay.
func (s *Store) AgentDelete(ctx context.Context, id int64) error {
	tx, err := s.write.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the one writer
	if err != nil {
		return translate(err, "delete agent %d", id)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM agent_skills WHERE agent_id = ?`, id); err != nil {
		return translate(err, "delete agent %d", id)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM agents WHERE id = ?`, id)
	if err := affectedOne(res, err, "delete agent %d", id); err != nil {
		return err
	}
	return translate(tx.Commit(), "delete agent %d", id)
}

// SessionCreate inserts a chat session whose ID the caller chose; ECONFLICT
// when the id exists, ENOTFOUND when the agent does not.
func (s *Store) SessionCreate(ctx context.Context, c store.ChatSession) error {
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO chat_sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		c.ID, c.AgentID, nullID(c.UserID), c.Title, c.CreatedAt.UnixMilli(), c.UpdatedAt.UnixMilli())
	return refError(err, gathering.ENOTFOUND, "agent not found", "create session %s", c.ID)
}

// SessionGet returns a session or ENOTFOUND.
func (s *Store) SessionGet(ctx context.Context, id string) (store.ChatSession, error) {
	c, err := scanSession(s.read.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM chat_sessions WHERE id = ?`, id))
	return c, translate(err, "get session %s", id)
}

// SessionList returns a page of an agent's sessions, most recently updated
// first (then by id, descending), and the total.
func (s *Store) SessionList(ctx context.Context, agentID int64, p store.Page) ([]store.ChatSession, int, error) {
	var total int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM chat_sessions WHERE agent_id = ?`, agentID).Scan(&total)
	if err != nil {
		return nil, 0, translate(err, "count sessions of agent %d", agentID)
	}
	limit, offset := p.ListBounds()
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+sessionColumns+` FROM chat_sessions WHERE agent_id = ?
		 ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?`, agentID, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list sessions of agent %d", agentID)
	}
	list, err := collect(rows, scanSession)
	return list, total, translate(err, "list sessions of agent %d", agentID)
}

// MessagesAppend appends messages to a session in one write transaction,
// so ids follow the order of the messages. Each message takes the session's
// agent; the session's updated_at becomes the latest CreatedAt if that is
// later. ENOTFOUND when the session does not exist, EINVALID when tool
// calls are not JSON.
func (s *Store) MessagesAppend(ctx context.Context, sessionID string, ms []store.ChatMessage) ([]store.ChatMessage, error) {
	if err := store.CheckMessages(ms); err != nil {
		return nil, err
	}
	out, err := s.appendMessages(ctx, sessionID, ms)
	return out, translate(err, "append messages to session %s", sessionID)
}

// appendMessages is MessagesAppend with its errors untranslated.
func (s *Store) appendMessages(ctx context.Context, sessionID string, ms []store.ChatMessage) ([]store.ChatMessage, error) {
	tx, err := s.write.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the one writer
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var agentID, latest int64
	if err := tx.QueryRowContext(ctx, `SELECT agent_id, updated_at FROM chat_sessions WHERE id = ?`,
		sessionID).Scan(&agentID, &latest); err != nil {
		return nil, err
	}
	var out []store.ChatMessage
	for _, m := range ms {
		stored, err := scanMessage(tx.QueryRowContext(ctx,
			`INSERT INTO chat_messages (session_id, agent_id, role, content, tool_calls, tool_call_id, is_error,
			     tokens, created_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+messageColumns,
			sessionID, agentID, m.Role, m.Content, nullJSON(m.ToolCalls), m.ToolCallID, m.IsError, m.Tokens,
			m.CreatedAt.UnixMilli()))
		if err != nil {
			return nil, err
		}
		out, latest = append(out, stored), max(latest, m.CreatedAt.UnixMilli())
	}
	if _, err := tx.ExecContext(ctx, `UPDATE chat_sessions SET updated_at = ? WHERE id = ?`, latest, sessionID); err != nil {
		return nil, err
	}
	return out, tx.Commit()
}

// MessagesRecent returns the latest limit messages of a session, oldest
// first; none when limit is not positive or the session does not exist.
func (s *Store) MessagesRecent(ctx context.Context, sessionID string, limit int) ([]store.ChatMessage, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+messageColumns+` FROM (
		     SELECT `+messageColumns+` FROM chat_messages WHERE session_id = ? ORDER BY id DESC LIMIT ?
		 ) ORDER BY id`, sessionID, max(limit, 0))
	if err != nil {
		return nil, translate(err, "read recent messages of session %s", sessionID)
	}
	list, err := collect(rows, scanMessage)
	return list, translate(err, "read recent messages of session %s", sessionID)
}

// MessageList returns a page of an agent's messages (of one session when
// sessionID is set), oldest first, and the total.
func (s *Store) MessageList(ctx context.Context, agentID int64, sessionID string, p store.Page) ([]store.ChatMessage, int, error) {
	var total int
	err := s.read.QueryRowContext(ctx,
		`SELECT count(*) FROM chat_messages WHERE agent_id = ?1 AND (?2 = '' OR session_id = ?2)`,
		agentID, sessionID).Scan(&total)
	if err != nil {
		return nil, 0, translate(err, "count messages of agent %d", agentID)
	}
	limit, offset := p.ListBounds()
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+messageColumns+` FROM chat_messages WHERE agent_id = ?1 AND (?2 = '' OR session_id = ?2)
		 ORDER BY id LIMIT ?3 OFFSET ?4`, agentID, sessionID, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list messages of agent %d", agentID)
	}
	list, err := collect(rows, scanMessage)
	return list, total, translate(err, "list messages of agent %d", agentID)
}
