package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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

// scanTool reads one tool_executions row, with its times in UTC and its
// JSON as the stored bytes.
func scanTool(row pgx.Row) (store.ToolExecution, error) {
	var e store.ToolExecution
	var input string
	var output *string
	var user, agent, decider *int64
	var created time.Time
	var started, finished, expires, heartbeat *time.Time
	err := row.Scan(&e.ID, &e.Tool, &e.Status, &input, &output, &e.ErrorCode, &e.Error, &e.Reason, &user, &agent,
		&e.Background, &e.Owner, &created, &started, &finished, &expires, &heartbeat, &decider)
	e.Input, e.Output = json.RawMessage(input), rawJSON(output)
	e.UserID, e.AgentID, e.DecidedBy = idOf(user), idOf(agent), idOf(decider)
	e.CreatedAt, e.StartedAt, e.FinishedAt = created.UTC(), utc(started), utc(finished)
	e.ExpiresAt, e.HeartbeatAt = utc(expires), utc(heartbeat)
	return e, err
}

// idOf reads a nullable id: 0 for NULL.
func idOf(id *int64) int64 {
	if id == nil {
		return 0
	}
	return *id
}

// rawJSON reads nullable JSON text: nil for NULL.
func rawJSON(s *string) json.RawMessage {
	if s == nil {
		return nil
	}
	return json.RawMessage(*s)
}

// nullJSON is the stored form of optional JSON: NULL for nil.
func nullJSON(raw json.RawMessage) *string {
	if raw == nil {
		return nil
	}
	s := string(raw)
	return &s
}

// ToolExecutionCreate inserts an execution whose ID the caller chose;
// ECONFLICT when the id exists, EINVALID when its JSON is not valid.
func (s *Store) ToolExecutionCreate(ctx context.Context, e store.ToolExecution) error {
	if err := e.CheckNew(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx,
		`INSERT INTO tool_executions (`+toolColumns+`)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		e.ID, e.Tool, e.Status, string(e.Input), nullJSON(e.Output), e.ErrorCode, e.Error, e.Reason,
		nullID(e.UserID), nullID(e.AgentID), e.Background, e.Owner, e.CreatedAt, nullTime(e.StartedAt),
		nullTime(e.FinishedAt), nullTime(e.ExpiresAt), nullTime(e.HeartbeatAt), nullID(e.DecidedBy))
	return translate(err, "create tool execution %s", e.ID)
}

// ToolExecutionUpdate writes the mutable fields in one conditional UPDATE
// that only matches an unfinished row; when it matches none, it tells a
// missing row (ENOTFOUND) from a finished one (ECONFLICT).
func (s *Store) ToolExecutionUpdate(ctx context.Context, e store.ToolExecution) error {
	if err := e.CheckUpdate(); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx,
		`UPDATE tool_executions SET status = $2, output = $3, error_code = $4, error = $5, reason = $6,
		     started_at = $7, finished_at = $8, expires_at = $9, decided_by = $10, heartbeat_at = $11
		 WHERE id = $1 AND status IN `+unfinished,
		e.ID, e.Status, nullJSON(e.Output), e.ErrorCode, e.Error, e.Reason, nullTime(e.StartedAt),
		nullTime(e.FinishedAt), nullTime(e.ExpiresAt), nullID(e.DecidedBy), nullTime(e.HeartbeatAt))
	if err != nil || tag.RowsAffected() == 1 {
		return translate(err, "update tool execution %s", e.ID)
	}
	return s.finishedOrMissing(ctx, e.ID)
}

// finishedOrMissing explains why an update matched no row: ECONFLICT when
// the execution exists (so it is finished), else ENOTFOUND.
func (s *Store) finishedOrMissing(ctx context.Context, id string) error {
	var exists bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tool_executions WHERE id = $1)`, id).Scan(&exists)
	switch {
	case err != nil:
		return translate(err, "update tool execution %s", id)
	case !exists:
		return translate(pgx.ErrNoRows, "update tool execution %s", id)
	}
	return gathering.Errorf(gathering.ECONFLICT, "tool execution %s is already finished", id)
}

// ToolExecutionGet returns one execution or ENOTFOUND.
func (s *Store) ToolExecutionGet(ctx context.Context, id string) (store.ToolExecution, error) {
	e, err := scanTool(s.pool.QueryRow(ctx, `SELECT `+toolColumns+` FROM tool_executions WHERE id = $1`, id))
	return e, translate(err, "get tool execution %s", id)
}

// ToolExecutionList returns the executions that match, newest first, and
// the total count of matches. A page holds 50 rows when Limit is not
// positive, and at most 500.
func (s *Store) ToolExecutionList(ctx context.Context, f store.ToolExecutionFilter) ([]store.ToolExecution, int, error) {
	where, args := toolWhere(f)
	var total int
	// sqlcheck: where holds only toolWhere's fixed conditions; values are parameters
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM tool_executions`+where, args...).Scan(&total); err != nil {
		return nil, 0, translate(err, "count tool executions")
	}
	limit, offset := f.Page.ListBounds()
	args = append(args, limit, offset)
	// sqlcheck: the format fills in only the fixed WHERE conditions built above and $N placeholder numbers; every value is a parameter
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT `+toolColumns+` FROM tool_executions%s
		 ORDER BY created_at DESC, id DESC LIMIT $%d OFFSET $%d`, where, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, translate(err, "list tool executions")
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.ToolExecution, error) { return scanTool(row) })
	return list, total, translate(err, "list tool executions")
}

// toolWhere builds the WHERE clause of f from fixed conditions, one per set
// field, with the values as parameters.
func toolWhere(f store.ToolExecutionFilter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, value any) {
		args = append(args, value)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.UserID != 0 {
		add("user_id = $%d", f.UserID)
	}
	if f.AgentID != 0 {
		add("agent_id = $%d", f.AgentID)
	}
	if f.Tool != "" {
		add("tool = $%d", f.Tool)
	}
	if f.Status != "" {
		add("status = $%d", f.Status)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// ToolExecutionHeartbeat sets heartbeat_at to at for every listed
// execution that is not finished, in one statement.
func (s *Store) ToolExecutionHeartbeat(ctx context.Context, ids []string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx,
		`UPDATE tool_executions SET heartbeat_at = $2 WHERE id = ANY($1) AND status IN `+unfinished, ids, at)
	return translate(err, "record tool execution heartbeats")
}

// ToolExecutionInterrupt fails, in one statement, every unfinished
// execution whose heartbeat (or, without one, creation) is older than
// staleBefore, and returns their ids, sorted.
func (s *Store) ToolExecutionInterrupt(ctx context.Context, staleBefore, at time.Time) ([]string, error) {
	rows, err := s.pool.Query(ctx,
		`UPDATE tool_executions SET status = 'failed', reason = 'interrupted', error_code = $3, error = $4,
		     finished_at = $2
		 WHERE status IN `+unfinished+`
		   AND (heartbeat_at < $1 OR (heartbeat_at IS NULL AND created_at < $1))
		 RETURNING id`, staleBefore, at, gathering.EUNAVAILABLE, interruptedMessage)
	if err != nil {
		return nil, translate(err, "interrupt stale tool executions")
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	slices.Sort(ids)
	return ids, translate(err, "interrupt stale tool executions")
}

// AgentSkillsEnable enables the listed skills for an agent in one upsert;
// a skill already enabled keeps its enabled_at.
func (s *Store) AgentSkillsEnable(ctx context.Context, agentID int64, skills []string, at time.Time) error {
	if len(skills) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx,
		`INSERT INTO agent_skills (agent_id, skill, enabled_at) SELECT $1, unnest($2::text[]), $3
		 ON CONFLICT (agent_id, skill) DO NOTHING`, agentID, skills, at)
	return translate(err, "enable skills of agent %d", agentID)
}

// AgentSkillsDisable disables the listed skills for an agent (every skill
// when skills is nil).
func (s *Store) AgentSkillsDisable(ctx context.Context, agentID int64, skills []string) error {
	var err error
	if skills == nil {
		_, err = s.pool.Exec(ctx, `DELETE FROM agent_skills WHERE agent_id = $1`, agentID)
	} else {
		_, err = s.pool.Exec(ctx, `DELETE FROM agent_skills WHERE agent_id = $1 AND skill = ANY($2)`, agentID, skills)
	}
	return translate(err, "disable skills of agent %d", agentID)
}

// AgentSkills returns the skills enabled for an agent, sorted by their
// bytes (the "C" collation, whatever the database's), as SQLite does.
func (s *Store) AgentSkills(ctx context.Context, agentID int64) ([]string, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT skill FROM agent_skills WHERE agent_id = $1 ORDER BY skill COLLATE "C"`, agentID)
	if err != nil {
		return nil, translate(err, "list skills of agent %d", agentID)
	}
	skills, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return skills, translate(err, "list skills of agent %d", agentID)
}
