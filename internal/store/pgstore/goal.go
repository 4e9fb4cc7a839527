package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// goalColumns are the columns scanGoal reads, in order.
const goalColumns = `id, agent_id, circle_id, parent_id, depth, title, description, success_criteria, status, priority,
	progress, status_message, deadline, estimated_hours, actual_hours, result_summary, lessons_learned, tags, context,
	circle_task_id, background_task_id, created_by, created_at, updated_at, started_at, completed_at, version`

// goalMatch is the condition of a GoalFilter ($1 agent, $2 circle, $3
// parent, $4 top-level only, $5 status), whose zero fields match
// everything.
const goalMatch = `($1::bigint = 0 OR agent_id = $1) AND ($2::bigint = 0 OR circle_id = $2)
	AND ($3::bigint = 0 OR parent_id = $3) AND (NOT $4::boolean OR parent_id IS NULL) AND ($5 = '' OR status = $5)`

// goalDependencyLock takes the transaction advisory lock that adding a
// dependency and a goal becoming active hold: the cycle check sees every
// dependency added before, and a goal never becomes active past a blocks
// dependency added meanwhile. Its key is fixed per schema, as the task
// limit lock's.
const goalDependencyLock = `SELECT pg_advisory_xact_lock(hashtext('gathering.goal_dependencies:' || current_schema()))`

// goalRollup is a goal's progress rolled up from its sub-goals ($1), NULL
// when none counts.
const goalRollup = `SELECT CAST(round(avg(CASE WHEN status = 'completed' THEN 100 ELSE progress END)) AS INTEGER)
	FROM goals WHERE parent_id = $1 AND status <> 'cancelled'`

// goalBlockers are the goals $1 depends on with blocks that are not
// completed, by id.
const goalBlockers = `SELECT ` + goalColumnsOfG + ` FROM goal_dependencies d JOIN goals g ON g.id = d.depends_on_id
	WHERE d.goal_id = $1 AND d.type = 'blocks' AND g.status <> 'completed' ORDER BY g.id`

// goalColumnsOfG are goalColumns of the goals aliased g.
const goalColumnsOfG = `g.id, g.agent_id, g.circle_id, g.parent_id, g.depth, g.title, g.description,
	g.success_criteria, g.status, g.priority, g.progress, g.status_message, g.deadline, g.estimated_hours,
	g.actual_hours, g.result_summary, g.lessons_learned, g.tags, g.context, g.circle_task_id, g.background_task_id,
	g.created_by, g.created_at, g.updated_at, g.started_at, g.completed_at, g.version`

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

// scanGoal reads one goals row, with its times in UTC, its context as the
// stored bytes and its tags decoded.
func scanGoal(row pgx.Row) (store.Goal, error) {
	var g store.Goal
	var circle, parent, circleTask *int64
	var task *string
	var tags, context string
	var created, updated time.Time
	var deadline, started, completed *time.Time
	err := row.Scan(&g.ID, &g.AgentID, &circle, &parent, &g.Depth, &g.Title, &g.Description, &g.SuccessCriteria,
		&g.Status, &g.Priority, &g.Progress, &g.StatusMessage, &deadline, &g.EstimatedHours, &g.ActualHours,
		&g.ResultSummary, &g.LessonsLearned, &tags, &context, &circleTask, &task, &g.CreatedBy, &created, &updated,
		&started, &completed, &g.Version)
	if err != nil {
		return g, err
	}
	g.CircleID, g.ParentID, g.CircleTaskID = idOf(circle), idOf(parent), idOf(circleTask)
	if task != nil {
		g.BackgroundTaskID = *task
	}
	g.Deadline, g.StartedAt, g.CompletedAt = utc(deadline), utc(started), utc(completed)
	g.CreatedAt, g.UpdatedAt, g.Context = created.UTC(), updated.UTC(), json.RawMessage(context)
	g.Tags, err = decodeTags(tags)
	return g, err
}

// collectGoals reads every row of a query of goalColumns, unless the
// query failed.
func collectGoals(rows pgx.Rows, err error) ([]store.Goal, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Goal, error) { return scanGoal(row) })
}

// nullText returns nil for "", so that it is stored as NULL.
func nullText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// GoalCreate inserts a goal at version 1, under its parent's row lock,
// and rolls its ancestors' progress up.
func (s *Store) GoalCreate(ctx context.Context, g store.Goal) (store.Goal, []store.Goal, error) {
	if err := g.Check(); err != nil {
		return store.Goal{}, nil, err
	}
	var got store.Goal
	var rolled []store.Goal
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		depth, err := lockParent(ctx, tx, g.ParentID)
		if err != nil {
			return err
		}
		got, err = scanGoal(tx.QueryRow(ctx,
			`INSERT INTO goals (agent_id, circle_id, parent_id, depth, title, description, success_criteria, status,
			     priority, progress, status_message, deadline, estimated_hours, actual_hours, result_summary,
			     lessons_learned, tags, context, circle_task_id, background_task_id, created_by, created_at,
			     updated_at, started_at, completed_at, version)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
			     $22, $23, $24, $25, 1)
			 RETURNING `+goalColumns,
			g.AgentID, nullID(g.CircleID), nullID(g.ParentID), depth, g.Title, g.Description, g.SuccessCriteria,
			string(g.Status), string(g.Priority), g.Progress, g.StatusMessage, nullTime(g.Deadline), g.EstimatedHours, g.ActualHours,
			g.ResultSummary, g.LessonsLearned, listJSON(g.Tags), string(g.Context), nullID(g.CircleTaskID),
			nullText(g.BackgroundTaskID), g.CreatedBy, g.CreatedAt, g.UpdatedAt, nullTime(g.StartedAt),
			nullTime(g.CompletedAt)))
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

// lockParent locks the parent a new goal gets and returns the new goal's
// depth; 0 without a parent. ENOTFOUND when the parent does not exist,
// EINVALID when it is at the deepest depth or has the most sub-goals.
func lockParent(ctx context.Context, tx pgx.Tx, parentID int64) (int, error) {
	if parentID == 0 {
		return 0, nil
	}
	var depth, children int
	err := tx.QueryRow(ctx, `SELECT depth FROM goals WHERE id = $1 FOR NO KEY UPDATE`, parentID).Scan(&depth)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, gathering.Errorf(gathering.ENOTFOUND, "goal: the parent goal %d does not exist", parentID)
	}
	if err != nil {
		return 0, err
	}
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM goals WHERE parent_id = $1`, parentID).Scan(&children); err != nil {
		return 0, err
	}
	return depth + 1, store.CheckGoalParent(parentID, depth, children)
}

// rollUp recomputes the progress of goal id and of each of its ancestors,
// nearest first, locking each row before it reads its sub-goals, and
// returns those whose progress changed (UpdatedAt at), as stored after.
func rollUp(ctx context.Context, tx pgx.Tx, id int64, at time.Time) ([]store.Goal, error) {
	var rolled []store.Goal
	for id != 0 {
		var parent *int64
		var status store.GoalStatus
		var progress int
		err := tx.QueryRow(ctx, `SELECT parent_id, status, progress FROM goals WHERE id = $1 FOR NO KEY UPDATE`, id).
			Scan(&parent, &status, &progress)
		if err != nil {
			return nil, err
		}
		rollup, counted, err := childProgress(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if counted && status != store.GoalCompleted && rollup != progress {
			g, err := scanGoal(tx.QueryRow(ctx,
				`UPDATE goals SET progress = $2, updated_at = $3 WHERE id = $1 RETURNING `+goalColumns, id, rollup, at))
			if err != nil {
				return nil, err
			}
			rolled = append(rolled, g)
		}
		id = idOf(parent)
	}
	return rolled, nil
}

// childProgress is goal id's progress rolled up from its sub-goals; false
// when none counts.
func childProgress(ctx context.Context, tx pgx.Tx, id int64) (int, bool, error) {
	var p *int
	if err := tx.QueryRow(ctx, goalRollup, id).Scan(&p); err != nil || p == nil {
		return 0, false, err
	}
	return *p, true, nil
}

// GoalGet returns a goal or ENOTFOUND.
func (s *Store) GoalGet(ctx context.Context, id int64) (store.Goal, error) {
	g, err := scanGoal(s.pool.QueryRow(ctx, `SELECT `+goalColumns+` FROM goals WHERE id = $1`, id))
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
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM goals WHERE `+goalMatch, goalArgs(f)...).Scan(&total); err != nil {
		return nil, 0, translate(err, "count goals")
	}
	limit, offset := pg.ListBounds()
	rows, err := s.pool.Query(ctx, `SELECT `+goalColumns+` FROM goals WHERE `+goalMatch+` ORDER BY id LIMIT $6 OFFSET $7`,
		append(goalArgs(f), limit, offset)...)
	list, err := collectGoals(rows, err)
	return list, total, translate(err, "list goals")
}

// GoalCountByStatus counts the goals that match f, whatever their status,
// by status.
func (s *Store) GoalCountByStatus(ctx context.Context, f store.GoalFilter) (map[store.GoalStatus]int, error) {
	f.Status = ""
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM goals WHERE `+goalMatch+` GROUP BY status`,
		goalArgs(f)...)
	if err != nil {
		return nil, translate(err, "count goals by status")
	}
	counts := map[store.GoalStatus]int{}
	var status store.GoalStatus
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&status, &n}, func() error { counts[status] = n; return nil }); err != nil {
		return nil, translate(err, "count goals by status")
	}
	return counts, nil
}

// GoalSubtree returns a goal and its sub-goals at every depth, by depth
// then id, at most limit of them.
func (s *Store) GoalSubtree(ctx context.Context, id int64, limit int) ([]store.Goal, error) {
	rows, err := s.pool.Query(ctx, `WITH RECURSIVE subtree (id) AS (
			SELECT id FROM goals WHERE id = $1
			UNION ALL
			SELECT g.id FROM goals g JOIN subtree s ON g.parent_id = s.id)
		SELECT `+goalColumns+` FROM goals WHERE id IN (SELECT id FROM subtree) ORDER BY depth, id LIMIT $2`,
		id, max(limit, 1))
	list, err := collectGoals(rows, err)
	if err == nil && len(list) == 0 {
		err = pgx.ErrNoRows
	}
	return list, translate(err, "get the tree of goal %d", id)
}

// GoalUpdate writes a goal's fields under its row lock while the stored
// version is still g.Version, bumps the version and rolls its ancestors'
// progress up.
func (s *Store) GoalUpdate(ctx context.Context, g store.Goal) (store.Goal, []store.Goal, error) {
	if err := g.Check(); err != nil {
		return store.Goal{}, nil, err
	}
	var got store.Goal
	var rolled []store.Goal
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if g.Progress, err = prepareUpdate(ctx, tx, g); err != nil {
			return err
		}
		got, err = scanGoal(tx.QueryRow(ctx,
			`UPDATE goals SET circle_id = $2, title = $3, description = $4, success_criteria = $5, status = $6,
			     priority = $7, progress = $8, status_message = $9, deadline = $10, estimated_hours = $11,
			     actual_hours = $12, result_summary = $13, lessons_learned = $14, tags = $15, context = $16,
			     circle_task_id = $17, background_task_id = $18, updated_at = $19, started_at = $20,
			     completed_at = $21, version = version + 1
			 WHERE id = $1 RETURNING `+goalColumns,
			g.ID, nullID(g.CircleID), g.Title, g.Description, g.SuccessCriteria, string(g.Status), string(g.Priority), g.Progress,
			g.StatusMessage, nullTime(g.Deadline), g.EstimatedHours, g.ActualHours, g.ResultSummary, g.LessonsLearned,
			listJSON(g.Tags), string(g.Context), nullID(g.CircleTaskID), nullText(g.BackgroundTaskID), g.UpdatedAt,
			nullTime(g.StartedAt), nullTime(g.CompletedAt)))
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

// prepareUpdate locks the goal g updates and checks that it may be
// written: ENOTFOUND, the version changed, or it would become active while
// blocked (checked under the dependency lock). It returns the progress to
// store: the rollup of its sub-goals when some count and it is not
// completed, else g's.
func prepareUpdate(ctx context.Context, tx pgx.Tx, g store.Goal) (int, error) {
	var status store.GoalStatus
	var version int64
	err := tx.QueryRow(ctx, `SELECT status, version FROM goals WHERE id = $1 FOR NO KEY UPDATE`, g.ID).
		Scan(&status, &version)
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

// unblocked takes the dependency lock, then refuses with ECONFLICT, naming
// them, while goal id depends with blocks on goals that are not completed.
func unblocked(ctx context.Context, tx pgx.Tx, id int64) error {
	if _, err := tx.Exec(ctx, goalDependencyLock); err != nil {
		return err
	}
	blockers, err := collectGoals(tx.Query(ctx, goalBlockers, id))
	if err != nil || len(blockers) == 0 {
		return err
	}
	return store.GoalBlockedError(id, blockers)
}

// subtreeLock locks goal $1 and its sub-goals at every depth, deepest
// first (the order the rollup locks in, from a goal up), and reads their
// statuses.
const subtreeLock = `WITH RECURSIVE subtree (id) AS (
		SELECT id FROM goals WHERE id = $1
		UNION ALL
		SELECT g.id FROM goals g JOIN subtree s ON g.parent_id = s.id)
	SELECT status FROM goals WHERE id IN (SELECT id FROM subtree) ORDER BY depth DESC, id FOR UPDATE`

// GoalDelete deletes a goal, its sub-goals at every depth and their
// dependencies (ON DELETE CASCADE) unless one of them is active, and
// rolls its ancestors' progress up.
func (s *Store) GoalDelete(ctx context.Context, id int64, at time.Time) ([]store.Goal, error) {
	var rolled []store.Goal
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, subtreeLock, id)
		if err != nil {
			return err
		}
		statuses, err := pgx.CollectRows(rows, pgx.RowTo[store.GoalStatus])
		switch {
		case err != nil:
			return err
		case len(statuses) == 0:
			return pgx.ErrNoRows
		case slices.Contains(statuses, store.GoalActive):
			return errGoalActive
		}
		var parent *int64
		if err := tx.QueryRow(ctx, `DELETE FROM goals WHERE id = $1 RETURNING parent_id`, id).Scan(&parent); err != nil {
			return err
		}
		rolled, err = rollUp(ctx, tx, idOf(parent), at)
		return err
	})
	if err != nil {
		return nil, goalError(err, "delete goal %d", id)
	}
	return rolled, nil
}

// goalReach is how many goals $1 depends on, and whether $1 is reached
// from $2 by following dependencies (so that $1 depending on $2 would
// close a cycle).
const goalReach = `WITH RECURSIVE reach (id) AS (
		SELECT depends_on_id FROM goal_dependencies WHERE goal_id = $2
		UNION
		SELECT d.depends_on_id FROM goal_dependencies d JOIN reach r ON d.goal_id = r.id)
	SELECT (SELECT count(*) FROM goal_dependencies WHERE goal_id = $1), EXISTS (SELECT 1 FROM reach WHERE id = $1)`

// dependencyColumns are the columns scanDependency reads, in order.
const dependencyColumns = `d.goal_id, d.depends_on_id, d.type, d.created_at, g.title, g.status`

// scanDependency reads one goal_dependencies row joined with the goal it
// depends on, with its time in UTC.
func scanDependency(row pgx.CollectableRow) (store.GoalDependency, error) {
	var d store.GoalDependency
	var created time.Time
	err := row.Scan(&d.GoalID, &d.DependsOnID, &d.Type, &created, &d.DependsOnTitle, &d.DependsOnStatus)
	d.CreatedAt = created.UTC()
	return d, err
}

// GoalDependencyAdd records that d.GoalID depends on d.DependsOnID, under
// the dependency lock, unless that would close a cycle.
func (s *Store) GoalDependencyAdd(ctx context.Context, d store.GoalDependency) (store.GoalDependency, error) {
	if err := d.Check(); err != nil {
		return store.GoalDependency{}, err
	}
	var got store.GoalDependency
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, goalDependencyLock); err != nil {
			return err
		}
		var count int
		var cycle bool
		if err := tx.QueryRow(ctx, goalReach, d.GoalID, d.DependsOnID).Scan(&count, &cycle); err != nil {
			return err
		}
		if err := store.CheckGoalDependencyCount(d, count); err != nil {
			return err
		}
		if cycle {
			return errGoalCycle
		}
		rows, err := tx.Query(ctx, `WITH d AS (
				INSERT INTO goal_dependencies (goal_id, depends_on_id, type, created_at) VALUES ($1, $2, $3, $4)
				RETURNING goal_id, depends_on_id, type, created_at)
			SELECT `+dependencyColumns+` FROM d JOIN goals g ON g.id = d.depends_on_id`,
			d.GoalID, d.DependsOnID, string(d.Type), d.CreatedAt)
		if err != nil {
			return err
		}
		got, err = pgx.CollectExactlyOneRow(rows, scanDependency)
		return err
	})
	if err != nil {
		return store.GoalDependency{}, goalError(err, "add a dependency of goal %d on goal %d", d.GoalID, d.DependsOnID)
	}
	return got, nil
}

// GoalDependencyRemove deletes a dependency; ENOTFOUND when there is none.
func (s *Store) GoalDependencyRemove(ctx context.Context, goalID, dependsOnID int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM goal_dependencies WHERE goal_id = $1 AND depends_on_id = $2`,
		goalID, dependsOnID)
	return affectedOne(tag.RowsAffected(), err, "remove the dependency of goal %d on goal %d", goalID, dependsOnID)
}

// GoalDependencies returns what a goal depends on, by the id of the goal
// depended on.
func (s *Store) GoalDependencies(ctx context.Context, goalID int64) ([]store.GoalDependency, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+dependencyColumns+` FROM goal_dependencies d
		 JOIN goals g ON g.id = d.depends_on_id WHERE d.goal_id = $1 ORDER BY d.depends_on_id`, goalID)
	if err != nil {
		return nil, translate(err, "list the dependencies of goal %d", goalID)
	}
	list, err := pgx.CollectRows(rows, scanDependency)
	return list, translate(err, "list the dependencies of goal %d", goalID)
}

// GoalBlockers returns the goals a goal depends on with blocks that are
// not completed, by id.
func (s *Store) GoalBlockers(ctx context.Context, goalID int64) ([]store.Goal, error) {
	list, err := collectGoals(s.pool.Query(ctx, goalBlockers, goalID))
	return list, translate(err, "list the goals blocking goal %d", goalID)
}
