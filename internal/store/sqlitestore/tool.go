package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// toolColumns are the columns scanTool reads, in order.
const toolColumns = `id, tool, status, input, output, error_code, error, reason, user_id, agent_id,
	background, owner, created_at, started_at, finished_at, expires_at, heartbeat_at, decided_by`

// unfinished is the SQL list of the statuses that are not final.
const unfinished = `('pending', 'running', 'awaiting_confirmation')`

// interruptedMessage is the Error of an execution the interrupt sweep
// failed.
const interruptedMessage = "The server stopped while the tool was running."

// scanTool reads one tool_executions row, converting its times to UTC and
// keeping its JSON as the stored bytes.
func scanTool(row scanner) (store.ToolExecution, error) {
	var e store.ToolExecution
	var input string
	var output sql.NullString
	var user, agent, decider sql.NullInt64
	var created int64
	var started, finished, expires, heartbeat sql.NullInt64
	err := row.Scan(&e.ID, &e.Tool, &e.Status, &input, &output, &e.ErrorCode, &e.Error, &e.Reason, &user, &agent,
		&e.Background, &e.Owner, &created, &started, &finished, &expires, &heartbeat, &decider)
	e.Input, e.Output = json.RawMessage(input), rawJSON(output)
	e.UserID, e.AgentID, e.DecidedBy = user.Int64, agent.Int64, decider.Int64
	e.CreatedAt, e.StartedAt, e.FinishedAt = fromMS(created), fromNullMS(started), fromNullMS(finished)
	e.ExpiresAt, e.HeartbeatAt = fromNullMS(expires), fromNullMS(heartbeat)
	return e, err
}

// rawJSON reads nullable JSON text: nil for NULL.
func rawJSON(s sql.NullString) json.RawMessage {
	if !s.Valid {
		return nil
	}
	return json.RawMessage(s.String)
}

// nullJSON is the stored form of optional JSON: NULL for nil, else text.
func nullJSON(raw json.RawMessage) any {
	if raw == nil {
		return nil
	}
	return string(raw)
}

// ToolExecutionCreate inserts an execution whose ID the caller chose;
// ECONFLICT when the id exists, EINVALID when its JSON is not valid.
func (s *Store) ToolExecutionCreate(ctx context.Context, e store.ToolExecution) error {
	if err := e.CheckNew(); err != nil {
		return err
	}
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO tool_executions (`+toolColumns+`)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.Tool, e.Status, string(e.Input), nullJSON(e.Output), e.ErrorCode, e.Error, e.Reason,
		nullID(e.UserID), nullID(e.AgentID), e.Background, e.Owner, e.CreatedAt.UnixMilli(), nullMS(e.StartedAt),
		nullMS(e.FinishedAt), nullMS(e.ExpiresAt), nullMS(e.HeartbeatAt), nullID(e.DecidedBy))
	return translate(err, "create tool execution %s", e.ID)
}

// ToolExecutionUpdate writes the mutable fields in one conditional UPDATE
// that only matches an unfinished row; when it matches none, it tells a
// missing row (ENOTFOUND) from a finished one (ECONFLICT).
func (s *Store) ToolExecutionUpdate(ctx context.Context, e store.ToolExecution) error {
	if err := e.CheckUpdate(); err != nil {
		return err
	}
	res, err := s.write.ExecContext(ctx,
		`UPDATE tool_executions SET status = ?2, output = ?3, error_code = ?4, error = ?5, reason = ?6,
		     started_at = ?7, finished_at = ?8, expires_at = ?9, decided_by = ?10, heartbeat_at = ?11
		 WHERE id = ?1 AND status IN `+unfinished,
		e.ID, e.Status, nullJSON(e.Output), e.ErrorCode, e.Error, e.Reason, nullMS(e.StartedAt),
		nullMS(e.FinishedAt), nullMS(e.ExpiresAt), nullID(e.DecidedBy), nullMS(e.HeartbeatAt))
	if err != nil {
		return translate(err, "update tool execution %s", e.ID)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return translate(err, "update tool execution %s", e.ID)
	}
	return s.finishedOrMissing(ctx, e.ID)
}

// finishedOrMissing explains why an update matched no row: ECONFLICT when
// the execution exists (so it is finished), else ENOTFOUND.
func (s *Store) finishedOrMissing(ctx context.Context, id string) error {
	var exists bool
	err := s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM tool_executions WHERE id = ?)`, id).Scan(&exists)
	switch {
	case err != nil:
		return translate(err, "update tool execution %s", id)
	case !exists:
		return translate(sql.ErrNoRows, "update tool execution %s", id)
	}
	return gathering.Errorf(gathering.ECONFLICT, "tool execution %s is already finished", id)
}

// ToolExecutionGet returns one execution or ENOTFOUND.
func (s *Store) ToolExecutionGet(ctx context.Context, id string) (store.ToolExecution, error) {
	e, err := scanTool(s.read.QueryRowContext(ctx, `SELECT `+toolColumns+` FROM tool_executions WHERE id = ?`, id))
	return e, translate(err, "get tool execution %s", id)
}

// ToolExecutionList returns the executions that match, newest first, and
// the total count of matches. A page holds 50 rows when Limit is not
// positive, and at most 500.
func (s *Store) ToolExecutionList(ctx context.Context, f store.ToolExecutionFilter) ([]store.ToolExecution, int, error) {
	where, args := toolWhere(f)
	var total int
	// sqlcheck: where holds only toolWhere's fixed conditions; values are parameters
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM tool_executions`+where, args...).Scan(&total); err != nil {
		return nil, 0, translate(err, "count tool executions")
	}
	limit, offset := f.Page.ListBounds()
	// sqlcheck: where holds only toolWhere's fixed conditions; values are parameters
	rows, err := s.read.QueryContext(ctx, `SELECT `+toolColumns+` FROM tool_executions`+where+`
		 ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, translate(err, "list tool executions")
	}
	list, err := collect(rows, scanTool)
	return list, total, translate(err, "list tool executions")
}

// toolWhere builds the WHERE clause of f from fixed conditions, one per set
// field, with the values as parameters.
func toolWhere(f store.ToolExecutionFilter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, value any) {
		conds = append(conds, cond)
		args = append(args, value)
	}
	if f.UserID != 0 {
		add("user_id = ?", f.UserID)
	}
	if f.AgentID != 0 {
		add("agent_id = ?", f.AgentID)
	}
	if f.Tool != "" {
		add("tool = ?", f.Tool)
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// jsonArray is the JSON array of strs, the one parameter json_each reads a
// list from.
func jsonArray(strs []string) string {
	b, _ := json.Marshal(strs) // marshaling strings cannot fail
	return string(b)
}

// ToolExecutionHeartbeat sets heartbeat_at to at for every listed
// execution that is not finished, in one statement.
func (s *Store) ToolExecutionHeartbeat(ctx context.Context, ids []string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.write.ExecContext(ctx,
		`UPDATE tool_executions SET heartbeat_at = ?2
		 WHERE id IN (SELECT value FROM json_each(?1)) AND status IN `+unfinished, jsonArray(ids), at.UnixMilli())
	return translate(err, "record tool execution heartbeats")
}

// ToolExecutionInterrupt fails, in one statement, every unfinished
// execution whose heartbeat (or, without one, creation) is older than
// staleBefore, and returns their ids, sorted.
func (s *Store) ToolExecutionInterrupt(ctx context.Context, staleBefore, at time.Time) ([]string, error) {
	rows, err := s.write.QueryContext(ctx,
		`UPDATE tool_executions SET status = 'failed', reason = 'interrupted', error_code = ?3, error = ?4,
		     finished_at = ?2
		 WHERE status IN `+unfinished+`
		   AND (heartbeat_at < ?1 OR (heartbeat_at IS NULL AND created_at < ?1))
		 RETURNING id`, staleBefore.UnixMilli(), at.UnixMilli(), gathering.EUNAVAILABLE, interruptedMessage)
	if err != nil {
		return nil, translate(err, "interrupt stale tool executions")
	}
	ids, err := collect(rows, func(row scanner) (string, error) {
		var id string
		return id, row.Scan(&id)
	})
	slices.Sort(ids)
	return ids, translate(err, "interrupt stale tool executions")
}

// AgentSkillsEnable enables the listed skills for an agent in one upsert;
// a skill already enabled keeps its enabled_at.
func (s *Store) AgentSkillsEnable(ctx context.Context, agentID int64, skills []string, at time.Time) error {
	if len(skills) == 0 {
		return nil
	}
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO agent_skills (agent_id, skill, enabled_at)
		 SELECT ?1, value, ?3 FROM json_each(?2) WHERE true
		 ON CONFLICT (agent_id, skill) DO NOTHING`, agentID, jsonArray(skills), at.UnixMilli())
	return translate(err, "enable skills of agent %d", agentID)
}

// AgentSkillsDisable disables the listed skills for an agent (every skill
// when skills is nil).
func (s *Store) AgentSkillsDisable(ctx context.Context, agentID int64, skills []string) error {
	var err error
	if skills == nil {
		_, err = s.write.ExecContext(ctx, `DELETE FROM agent_skills WHERE agent_id = ?`, agentID)
	} else {
		_, err = s.write.ExecContext(ctx,
			`DELETE FROM agent_skills WHERE agent_id = ?1 AND skill IN (SELECT value FROM json_each(?2))`,
			agentID, jsonArray(skills))
	}
	return translate(err, "disable skills of agent %d", agentID)
}

// AgentSkills returns the skills enabled for an agent, sorted by their
// bytes (SQLite's BINARY collation).
func (s *Store) AgentSkills(ctx context.Context, agentID int64) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT skill FROM agent_skills WHERE agent_id = ? ORDER BY skill`, agentID)
	if err != nil {
		return nil, translate(err, "list skills of agent %d", agentID)
	}
	skills, err := collect(rows, func(row scanner) (string, error) {
		var skill string
		return skill, row.Scan(&skill)
	})
	return skills, translate(err, "list skills of agent %d", agentID)
}
