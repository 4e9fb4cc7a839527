package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// goalColumns are the columns scanGoal reads, in order.
const goalColumns = `id, agent_id, circle_id, parent_id, depth, title, description, success_criteria, status, priority,
	progress, status_message, deadline, estimated_hours, actual_hours, result_summary, lessons_learned, tags, context,
	circle_task_id, background_task_id, created_by, created_at, updated_at, started_at, completed_at, version`

// goalColumnsOfG are goalColumns of the goals aliased g.
const goalColumnsOfG = `g.id, g.agent_id, g.circle_id, g.parent_id, g.depth, g.title, g.description,
	g.success_criteria, g.status, g.priority, g.progress, g.status_message, g.deadline, g.estimated_hours,
	g.actual_hours, g.result_summary, g.lessons_learned, g.tags, g.context, g.circle_task_id, g.background_task_id,
	g.created_by, g.created_at, g.updated_at, g.started_at, g.completed_at, g.version`

// goalMatch is the condition of a GoalFilter (?1 agent, ?2 circle, ?3
// parent, ?4 top-level only, ?5 status), whose zero fields match
// everything.
const goalMatch = `(?1 = 0 OR agent_id = ?1) AND (?2 = 0 OR circle_id = ?2) AND (?3 = 0 OR parent_id = ?3)
	AND (NOT ?4 OR parent_id IS NULL) AND (?5 = '' OR status = ?5)`

// goalRollup is a goal's progress rolled up from its sub-goals (?1), NULL
// when none counts.
const goalRollup = `SELECT CAST(round(avg(CASE WHEN status = 'completed' THEN 100 ELSE progress END)) AS INTEGER)
	FROM goals WHERE parent_id = ?1 AND status <> 'cancelled'`

// goalBlockers are the goals ?1 depends on with blocks that are not
// completed, by id.
const goalBlockers = `SELECT ` + goalColumnsOfG + ` FROM goal_dependencies d JOIN goals g ON g.id = d.depends_on_id
	WHERE d.goal_id = ?1 AND d.type = 'blocks' AND g.status <> 'completed' ORDER BY g.id`

// The refusals of the goal store.
const (
	errGoalChanged refusal = "the goal was changed meanwhile"
	errGoalActive  refusal = "it or one of its sub-goals is active"
	errGoalCycle   refusal = "the dependencies would form a cycle"
)

// goalError is runError, except that our own errors pass as they are and
// a foreign key violation is ENOTFOUND (the agent or a goal is missing).
func goalError(err error, format string, args ...any) error {
	if _, ours := errors.AsType[*gathering.Error](err); ours {
		return err
	}
	if _, refused := errors.AsType[refusal](err); refused {
		return runError(err, format, args...)
	}
	return refError(err, gathering.ENOTFOUND, "the agent or a goal does not exist", format, args...)
}

// scanGoal reads one goals row, converting its times to UTC, keeping its
// context as the stored bytes and decoding its tags.
func scanGoal(row scanner) (store.Goal, error) {
	var g store.Goal
	var circle, parent, circleTask, deadline, started, completed sql.NullInt64
	var task sql.NullString
	var tags, context string
	var created, updated int64
	err := row.Scan(&g.ID, &g.AgentID, &circle, &parent, &g.Depth, &g.Title, &g.Description, &g.SuccessCriteria,
		&g.Status, &g.Priority, &g.Progress, &g.StatusMessage, &deadline, &g.EstimatedHours, &g.ActualHours,
		&g.ResultSummary, &g.LessonsLearned, &tags, &context, &circleTask, &task, &g.CreatedBy, &created, &updated,
		&started, &completed, &g.Version)
	if err != nil {
		return g, err
	}
	g.CircleID, g.ParentID, g.CircleTaskID, g.BackgroundTaskID = circle.Int64, parent.Int64, circleTask.Int64, task.String
	g.Deadline, g.StartedAt, g.CompletedAt = fromNullMS(deadline), fromNullMS(started), fromNullMS(completed)
	g.CreatedAt, g.UpdatedAt, g.Context = fromMS(created), fromMS(updated), json.RawMessage(context)
	g.Tags, err = decodeTags(tags)
	return g, err
}

// collectGoals reads every row of a query of goalColumns, unless the
// query failed.
func collectGoals(rows *sql.Rows, err error) ([]store.Goal, error) {
	if err != nil {
		return nil, err
	}
	return collect(rows, scanGoal)
}

// nullText is the stored form of optional text: NULL for "".
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// GoalCreate inserts a goal at version 1 and rolls its ancestors' progress
// up, in one write transaction.
func (s *Store) GoalCreate(ctx context.Context, g store.Goal) (store.Goal, []store.Goal, error) {
	if err := g.Check(); err != nil {
		return store.Goal{}, nil, err
	}
	var got store.Goal
	var rolled []store.Goal
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		depth, err := parentDepth(ctx, tx, g.ParentID)
		if err != nil {
			return err
		}
		got, err = scanGoal(tx.QueryRowContext(ctx,
			`INSERT INTO goals (agent_id, circle_id, parent_id, depth, title, description, success_criteria, status,
			     priority, progress, status_message, deadline, estimated_hours, actual_hours, result_summary,
			     lessons_learned, tags, context, circle_task_id, background_task_id, created_by, created_at,
			     updated_at, started_at, completed_at, version)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
			 RETURNING `+goalColumns,
			g.AgentID, nullID(g.CircleID), nullID(g.ParentID), depth, g.Title, g.Description, g.SuccessCriteria,
			string(g.Status), string(g.Priority), g.Progress, g.StatusMessage, nullMS(g.Deadline), g.EstimatedHours, g.ActualHours,
			g.ResultSummary, g.LessonsLearned, listJSON(g.Tags), string(g.Context), nullID(g.CircleTaskID),
			nullText(g.BackgroundTaskID), g.CreatedBy, g.CreatedAt.UnixMilli(), g.UpdatedAt.UnixMilli(),
			nullMS(g.StartedAt), nullMS(g.CompletedAt)))
		if err != nil {
			return err
		}
		rolled, err = rollUp(ctx, tx, g.ParentID, g.UpdatedAt)
		return err
	})
	if err != nil {
		return store.Goal{}, nil, goalError(err, "create goal %q", g.Title)
	}
	return got, rolled, nil
}

// parentDepth returns the depth of a new goal under parentID; 0 without a
// parent. ENOTFOUND when the parent does not exist, EINVALID when it is at
// the deepest depth or has the most sub-goals.
func parentDepth(ctx context.Context, tx *sql.Tx, parentID int64) (int, error) {
	if parentID == 0 {
		return 0, nil
	}
	var depth, children int
	err := tx.QueryRowContext(ctx, `SELECT depth, (SELECT count(*) FROM goals WHERE parent_id = ?1) FROM goals WHERE id = ?1`,
		parentID).Scan(&depth, &children)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, gathering.Errorf(gathering.ENOTFOUND, "goal: the parent goal %d does not exist", parentID)
	}
	if err != nil {
		return 0, err
	}
	return depth + 1, store.CheckGoalParent(parentID, depth, children)
}

// rollUp recomputes the progress of goal id and of each of its ancestors,
// nearest first, and returns those whose progress changed (UpdatedAt at),
// as stored after.
func rollUp(ctx context.Context, tx *sql.Tx, id int64, at time.Time) ([]store.Goal, error) {
	var rolled []store.Goal
	for id != 0 {
		var parent sql.NullInt64
		var status store.GoalStatus
		var progress int
		err := tx.QueryRowContext(ctx, `SELECT parent_id, status, progress FROM goals WHERE id = ?`, id).
			Scan(&parent, &status, &progress)
		if err != nil {
			return nil, err
		}
		rollup, counted, err := childProgress(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if counted && status != store.GoalCompleted && rollup != progress {
			g, err := scanGoal(tx.QueryRowContext(ctx,
				`UPDATE goals SET progress = ?2, updated_at = ?3 WHERE id = ?1 RETURNING `+goalColumns,
				id, rollup, at.UnixMilli()))
			if err != nil {
				return nil, err
			}
			rolled = append(rolled, g)
		}
		id = parent.Int64
	}
	return rolled, nil
}

// childProgress is goal id's progress rolled up from its sub-goals; false
// when none counts.
func childProgress(ctx context.Context, tx *sql.Tx, id int64) (int, bool, error) {
	var p sql.NullInt64
	if err := tx.QueryRowContext(ctx, goalRollup, id).Scan(&p); err != nil || !p.Valid {
		return 0, false, err
	}
	return int(p.Int64), true, nil
}

// GoalGet returns a goal or ENOTFOUND.
func (s *Store) GoalGet(ctx context.Context, id int64) (store.Goal, error) {
	g, err := scanGoal(s.read.QueryRowContext(ctx, `SELECT `+goalColumns+` FROM goals WHERE id = ?`, id))
	return g, translate(err, "get goal %d", id)
}

// goalArgs are the values of goalMatch for f.
func goalArgs(f store.GoalFilter) []any {
	return []any{f.AgentID, f.CircleID, f.ParentID, f.RootOnly, string(f.Status)}
}

// GoalList returns a page of the goals that match, by id, and the total
// count of matches. A page holds 50 goals when Limit is not positive, and
// at most 500.
func (s *Store) GoalList(ctx context.Context, f store.GoalFilter, pg store.Page) ([]store.Goal, int, error) {
	if err := f.Check(); err != nil {
		return nil, 0, err
	}
	var total int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM goals WHERE `+goalMatch, goalArgs(f)...).Scan(&total); err != nil {
		return nil, 0, translate(err, "count goals")
	}
	limit, offset := pg.ListBounds()
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+goalColumns+` FROM goals WHERE `+goalMatch+` ORDER BY id LIMIT ?6 OFFSET ?7`,
		append(goalArgs(f), limit, offset)...)
	list, err := collectGoals(rows, err)
	return list, total, translate(err, "list goals")
}

// GoalCountByStatus counts the goals that match f, whatever their status,
// by status.
func (s *Store) GoalCountByStatus(ctx context.Context, f store.GoalFilter) (map[store.GoalStatus]int, error) {
	f.Status = ""
	rows, err := s.read.QueryContext(ctx, `SELECT status, count(*) FROM goals WHERE `+goalMatch+` GROUP BY status`,
		goalArgs(f)...)
	if err != nil {
		return nil, translate(err, "count goals by status")
	}
	counts, err := collect(rows, func(row scanner) (statusCount, error) {
		var c statusCount
		return c, row.Scan(&c.status, &c.n)
	})
	if err != nil {
		return nil, translate(err, "count goals by status")
	}
	out := make(map[store.GoalStatus]int, len(counts))
	for _, c := range counts {
		out[c.status] = c.n
	}
	return out, nil
}

// statusCount is one row of GoalCountByStatus.
type statusCount struct {
	status store.GoalStatus
	n      int
}

// GoalSubtree returns a goal and its sub-goals at every depth, by depth
// then id, at most limit of them.
func (s *Store) GoalSubtree(ctx context.Context, id int64, limit int) ([]store.Goal, error) {
	rows, err := s.read.QueryContext(ctx, `WITH RECURSIVE subtree (id) AS (
			SELECT id FROM goals WHERE id = ?1
			UNION ALL
			SELECT g.id FROM goals g JOIN subtree s ON g.parent_id = s.id)
		SELECT `+goalColumns+` FROM goals WHERE id IN (SELECT id FROM subtree) ORDER BY depth, id LIMIT ?2`,
		id, max(limit, 1))
	list, err := collectGoals(rows, err)
	if err == nil && len(list) == 0 {
		err = sql.ErrNoRows
	}
	return list, translate(err, "get the tree of goal %d", id)
}

// GoalUpdate writes a goal's fields while the stored version is still
// g.Version, bumps the version and rolls its ancestors' progress up, in
// one write transaction.
func (s *Store) GoalUpdate(ctx context.Context, g store.Goal) (store.Goal, []store.Goal, error) {
	if err := g.Check(); err != nil {
		return store.Goal{}, nil, err
	}
	var got store.Goal
	var rolled []store.Goal
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		if g.Progress, err = prepareUpdate(ctx, tx, g); err != nil {
			return err
		}
		got, err = scanGoal(tx.QueryRowContext(ctx,
			`UPDATE goals SET circle_id = ?2, title = ?3, description = ?4, success_criteria = ?5, status = ?6,
			     priority = ?7, progress = ?8, status_message = ?9, deadline = ?10, estimated_hours = ?11,
			     actual_hours = ?12, result_summary = ?13, lessons_learned = ?14, tags = ?15, context = ?16,
			     circle_task_id = ?17, background_task_id = ?18, updated_at = ?19, started_at = ?20,
			     completed_at = ?21, version = version + 1
			 WHERE id = ?1 RETURNING `+goalColumns,
			g.ID, nullID(g.CircleID), g.Title, g.Description, g.SuccessCriteria, string(g.Status), string(g.Priority), g.Progress,
			g.StatusMessage, nullMS(g.Deadline), g.EstimatedHours, g.ActualHours, g.ResultSummary, g.LessonsLearned,
			listJSON(g.Tags), string(g.Context), nullID(g.CircleTaskID), nullText(g.BackgroundTaskID),
			g.UpdatedAt.UnixMilli(), nullMS(g.StartedAt), nullMS(g.CompletedAt)))
		if err != nil {
			return err
		}
		rolled, err = rollUp(ctx, tx, got.ParentID, g.UpdatedAt)
		return err
	})
	if err != nil {
		return store.Goal{}, nil, goalError(err, "update goal %d at version %d", g.ID, g.Version)
	}
	return got, rolled, nil
}

// prepareUpdate checks that the goal g updates may be written: ENOTFOUND,
// the version changed, or it would become active while blocked. It
// returns the progress to store: the rollup of its sub-goals when some
// count and it is not completed, else g's.
func prepareUpdate(ctx context.Context, tx *sql.Tx, g store.Goal) (int, error) {
	var status store.GoalStatus
	var version int64
	err := tx.QueryRowContext(ctx, `SELECT status, version FROM goals WHERE id = ?`, g.ID).Scan(&status, &version)
	switch {
	case err != nil:
		return 0, err
	case version != g.Version:
		return 0, errGoalChanged
	case g.Status == store.GoalActive && status != store.GoalActive:
		if err := unblocked(ctx, tx, g.ID); err != nil {
			return 0, err
		}
	}
	if g.Status == store.GoalCompleted {
		return g.Progress, nil
	}
	rollup, counted, err := childProgress(ctx, tx, g.ID)
	if err != nil || !counted {
		return g.Progress, err
	}
	return rollup, nil
}

// unblocked refuses with ECONFLICT, naming them, while goal id depends
// with blocks on goals that are not completed.
func unblocked(ctx context.Context, tx *sql.Tx, id int64) error {
	blockers, err := collectGoals(tx.QueryContext(ctx, goalBlockers, id))
	if err != nil || len(blockers) == 0 {
		return err
	}
	return store.GoalBlockedError(id, blockers)
}

// subtreeStatuses are the statuses of goal ?1 and its sub-goals at every
// depth.
const subtreeStatuses = `WITH RECURSIVE subtree (id) AS (
		SELECT id FROM goals WHERE id = ?1
		UNION ALL
		SELECT g.id FROM goals g JOIN subtree s ON g.parent_id = s.id)
	SELECT status FROM goals WHERE id IN (SELECT id FROM subtree)`

// GoalDelete deletes a goal, its sub-goals at every depth and their
// dependencies (ON DELETE CASCADE) unless one of them is active, and
// rolls its ancestors' progress up, in one write transaction.
func (s *Store) GoalDelete(ctx context.Context, id int64, at time.Time) ([]store.Goal, error) {
	var rolled []store.Goal
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, subtreeStatuses, id)
		if err != nil {
			return err
		}
		statuses, err := collect(rows, func(row scanner) (store.GoalStatus, error) {
			var st store.GoalStatus
			return st, row.Scan(&st)
		})
		switch {
		case err != nil:
			return err
		case len(statuses) == 0:
			return sql.ErrNoRows
		case slices.Contains(statuses, store.GoalActive):
			return errGoalActive
		}
		var parent sql.NullInt64
		if err := tx.QueryRowContext(ctx, `DELETE FROM goals WHERE id = ? RETURNING parent_id`, id).Scan(&parent); err != nil {
			return err
		}
		rolled, err = rollUp(ctx, tx, parent.Int64, at)
		return err
	})
	if err != nil {
		return nil, goalError(err, "delete goal %d", id)
	}
	return rolled, nil
}

// goalReach is how many goals ?1 depends on, and whether ?1 is reached
// from ?2 by following dependencies (so that ?1 depending on ?2 would
// close a cycle).
const goalReach = `WITH RECURSIVE reach (id) AS (
		SELECT depends_on_id FROM goal_dependencies WHERE goal_id = ?2
		UNION
		SELECT d.depends_on_id FROM goal_dependencies d JOIN reach r ON d.goal_id = r.id)
	SELECT (SELECT count(*) FROM goal_dependencies WHERE goal_id = ?1), EXISTS (SELECT 1 FROM reach WHERE id = ?1)`

// dependencyColumns are the columns scanDependency reads, in order.
const dependencyColumns = `d.goal_id, d.depends_on_id, d.type, d.created_at, g.title, g.status`

// scanDependency reads one goal_dependencies row joined with the goal it
// depends on, converting its time to UTC.
func scanDependency(row scanner) (store.GoalDependency, error) {
	var d store.GoalDependency
	var created int64
	err := row.Scan(&d.GoalID, &d.DependsOnID, &d.Type, &created, &d.DependsOnTitle, &d.DependsOnStatus)
	d.CreatedAt = fromMS(created)
	return d, err
}

// GoalDependencyAdd records that d.GoalID depends on d.DependsOnID, in one
// write transaction that checks for a cycle first.
func (s *Store) GoalDependencyAdd(ctx context.Context, d store.GoalDependency) (store.GoalDependency, error) {
	if err := d.Check(); err != nil {
		return store.GoalDependency{}, err
	}
	var got store.GoalDependency
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var count int
		var cycle bool
		if err := tx.QueryRowContext(ctx, goalReach, d.GoalID, d.DependsOnID).Scan(&count, &cycle); err != nil {
			return err
		}
		if err := store.CheckGoalDependencyCount(d, count); err != nil {
			return err
		}
		if cycle {
			return errGoalCycle
		}
		_, err := tx.ExecContext(ctx,
			`INSERT INTO goal_dependencies (goal_id, depends_on_id, type, created_at) VALUES (?, ?, ?, ?)`,
			d.GoalID, d.DependsOnID, string(d.Type), d.CreatedAt.UnixMilli())
		if err != nil {
			return err
		}
		got, err = scanDependency(tx.QueryRowContext(ctx, `SELECT `+dependencyColumns+` FROM goal_dependencies d
			 JOIN goals g ON g.id = d.depends_on_id WHERE d.goal_id = ? AND d.depends_on_id = ?`, d.GoalID, d.DependsOnID))
		return err
	})
	if err != nil {
		return store.GoalDependency{}, goalError(err, "add a dependency of goal %d on goal %d", d.GoalID, d.DependsOnID)
	}
	return got, nil
}

// GoalDependencyRemove deletes a dependency; ENOTFOUND when there is none.
func (s *Store) GoalDependencyRemove(ctx context.Context, goalID, dependsOnID int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM goal_dependencies WHERE goal_id = ? AND depends_on_id = ?`,
		goalID, dependsOnID)
	return affectedOne(res, err, "remove the dependency of goal %d on goal %d", goalID, dependsOnID)
}

// GoalDependencies returns what a goal depends on, by the id of the goal
// depended on.
func (s *Store) GoalDependencies(ctx context.Context, goalID int64) ([]store.GoalDependency, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+dependencyColumns+` FROM goal_dependencies d
		 JOIN goals g ON g.id = d.depends_on_id WHERE d.goal_id = ? ORDER BY d.depends_on_id`, goalID)
	if err != nil {
		return nil, translate(err, "list the dependencies of goal %d", goalID)
	}
	list, err := collect(rows, scanDependency)
	return list, translate(err, "list the dependencies of goal %d", goalID)
}

// GoalBlockers returns the goals a goal depends on with blocks that are
// not completed, by id.
func (s *Store) GoalBlockers(ctx context.Context, goalID int64) ([]store.Goal, error) {
	list, err := collectGoals(s.read.QueryContext(ctx, goalBlockers, goalID))
	return list, translate(err, "list the goals blocking goal %d", goalID)
}
