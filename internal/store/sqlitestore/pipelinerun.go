package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// runColumns are the columns scanRun reads, in order.
const runColumns = `id, pipeline_id, pipeline_version, nodes, edges, settings, trigger_data, status, error_code,
	error, created_by, created_at, started_at, finished_at, owner, epoch, lease_until`

// nodeRunColumns are the columns scanNodeRun reads and nodeRunArgs gives,
// in order.
const nodeRunColumns = `run_id, node_id, attempt, status, input, output, error_code, error, started_at,
	finished_at, input_tokens, output_tokens, cost`

// approvalColumns are the columns scanApproval reads, in order.
const approvalColumns = `run_id, node_id, message, requested_at, expires_at, decided, approved, comment,
	decided_by, decided_at`

// runUnfinished is the SQL list of the statuses of a run that is not
// finished.
const runUnfinished = `('pending', 'running', 'waiting_approval')`

// leaseHolds matches the run of a lease (?1 run id, ?2 owner, ?3 epoch)
// while that lease holds: the run still has that owner and epoch and is not
// finished (a claimed run is never pending).
const leaseHolds = `id = ?1 AND owner = ?2 AND epoch = ?3 AND status IN ('running', 'waiting_approval')`

// runMatch is the condition of a RunFilter (?1 pipeline id, ?2 status),
// whose zero fields match everything.
const runMatch = `(?1 = 0 OR pipeline_id = ?1) AND (?2 = '' OR status = ?2)`

// refusal is why a write of the run store changed nothing although nothing
// failed; runError reports it as ECONFLICT.
type refusal string

// Error implements the error interface.
func (r refusal) Error() string { return string(r) }

// The refusals of the run store.
const (
	errLeaseLost       refusal = "the lease no longer holds"
	errAttemptFinished refusal = "the attempt is already finished"
	errNotFailed       refusal = "the run is not failed"
	errApprovalClosed  refusal = "the approval was decided or has expired"
)

// runError is translate, except that a refusal becomes ECONFLICT.
func runError(err error, format string, args ...any) error {
	if r, ok := errors.AsType[refusal](err); ok {
		return &gathering.Error{Code: gathering.ECONFLICT, Message: fmt.Sprintf(format, args...) + ": " + string(r), Err: err}
	}
	return translate(err, format, args...)
}

// refuseUnchanged returns why when a statement that ran without error
// changed no row, else err.
func refuseUnchanged(res sql.Result, err error, why refusal) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		return why
	}
	return err
}

// scanRun reads one pipeline_runs row, converting its times to UTC and
// keeping its JSON as the stored bytes.
func scanRun(row scanner) (store.PipelineRun, error) {
	var r store.PipelineRun
	var nodes, edges, settings, trigger string
	var creator, started, finished, lease sql.NullInt64
	var created int64
	err := row.Scan(&r.ID, &r.PipelineID, &r.PipelineVersion, &nodes, &edges, &settings, &trigger, &r.Status,
		&r.ErrorCode, &r.Error, &creator, &created, &started, &finished, &r.Owner, &r.Epoch, &lease)
	r.Nodes, r.Edges, r.Settings = json.RawMessage(nodes), json.RawMessage(edges), json.RawMessage(settings)
	r.TriggerData, r.CreatedBy = json.RawMessage(trigger), creator.Int64
	r.CreatedAt, r.StartedAt, r.FinishedAt, r.LeaseUntil = fromMS(created), fromNullMS(started), fromNullMS(finished),
		fromNullMS(lease)
	return r, err
}

// scanNodeRun reads one pipeline_node_runs row, converting its times to
// UTC and keeping its JSON as the stored bytes.
func scanNodeRun(row scanner) (store.NodeRun, error) {
	var n store.NodeRun
	var input, output sql.NullString
	var started, finished sql.NullInt64
	err := row.Scan(&n.RunID, &n.NodeID, &n.Attempt, &n.Status, &input, &output, &n.ErrorCode, &n.Error, &started,
		&finished, &n.InputTokens, &n.OutputTokens, &n.Cost)
	n.Input, n.Output, n.StartedAt, n.FinishedAt = rawJSON(input), rawJSON(output), fromNullMS(started), fromNullMS(finished)
	return n, err
}

// nodeRunArgs are the values of nodeRunColumns for n.
func nodeRunArgs(n store.NodeRun) []any {
	return []any{n.RunID, n.NodeID, n.Attempt, n.Status, nullJSON(n.Input), nullJSON(n.Output), n.ErrorCode, n.Error,
		nullMS(n.StartedAt), nullMS(n.FinishedAt), n.InputTokens, n.OutputTokens, n.Cost}
}

// scanApproval reads one pipeline_approvals row, converting its times to
// UTC.
func scanApproval(row scanner) (store.Approval, error) {
	var a store.Approval
	var requested int64
	var expires, decider, decided sql.NullInt64
	err := row.Scan(&a.RunID, &a.NodeID, &a.Message, &requested, &expires, &a.Decided, &a.Approved, &a.Comment,
		&decider, &decided)
	a.RequestedAt, a.ExpiresAt, a.DecidedBy, a.DecidedAt = fromMS(requested), fromNullMS(expires), decider.Int64,
		fromNullMS(decided)
	return a, err
}

// writeTx runs fn in one write transaction (BEGIN IMMEDIATE: the one
// writer) and commits it unless fn fails. Its errors are untranslated.
func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// RunCreate inserts a pending run with the id, pipeline, definition,
// trigger data (JSON null when nil), creator and creation time of r; the
// other fields of r are ignored: the run has no owner, epoch 0, no error
// and no start. ENOTFOUND when the pipeline does not exist, ECONFLICT when
// the id is taken, EINVALID when the JSON is not valid.
func (s *Store) RunCreate(ctx context.Context, r store.PipelineRun) error {
	if r.TriggerData == nil {
		r.TriggerData = json.RawMessage("null")
	}
	if err := r.Check(); err != nil {
		return err
	}
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO pipeline_runs (id, pipeline_id, pipeline_version, nodes, edges, settings, trigger_data, status,
		     error_code, error, created_by, created_at, owner, epoch)
		 VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', '', '', ?, ?, '', 0)`,
		r.ID, r.PipelineID, r.PipelineVersion, string(r.Nodes), string(r.Edges), string(r.Settings),
		string(r.TriggerData), nullID(r.CreatedBy), r.CreatedAt.UnixMilli())
	return refError(err, gathering.ENOTFOUND, "pipeline not found", "create run %s", r.ID)
}

// RunGet returns a run or ENOTFOUND.
func (s *Store) RunGet(ctx context.Context, id string) (store.PipelineRun, error) {
	r, err := scanRun(s.read.QueryRowContext(ctx, `SELECT `+runColumns+` FROM pipeline_runs WHERE id = ?`, id))
	return r, translate(err, "get run %s", id)
}

// RunList returns a page of the runs that match, newest first (by
// CreatedAt, then ID in byte order), and the total count of matches. A page
// holds 50 runs when Limit is not positive, and at most 500. EINVALID for
// an unknown status.
func (s *Store) RunList(ctx context.Context, f store.RunFilter, p store.Page) ([]store.PipelineRun, int, error) {
	if err := f.Check(); err != nil {
		return nil, 0, err
	}
	var total int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM pipeline_runs WHERE `+runMatch,
		f.PipelineID, f.Status).Scan(&total)
	if err != nil {
		return nil, 0, translate(err, "count runs")
	}
	limit, offset := p.ListBounds()
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+runColumns+` FROM pipeline_runs WHERE `+runMatch+`
		 ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?4`, f.PipelineID, f.Status, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list runs")
	}
	list, err := collect(rows, scanRun)
	return list, total, translate(err, "list runs")
}

// RunCountUnfinished counts a pipeline's pending, running and
// waiting_approval runs.
func (s *Store) RunCountUnfinished(ctx context.Context, pipelineID int64) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx,
		`SELECT count(*) FROM pipeline_runs WHERE pipeline_id = ? AND status IN `+runUnfinished, pipelineID).Scan(&n)
	return n, translate(err, "count unfinished runs of pipeline %d", pipelineID)
}

// RunClaim takes, in one UPDATE on the one writer, the lease of the oldest
// run that needs an owner: a pending run, or an unfinished one whose lease
// ended before now. A pending run becomes running and, unless a claim
// before a retry started it, starts now; the run's other statuses stay.
// EINVALID for an empty owner, ENOTFOUND when no run needs one.
func (s *Store) RunClaim(ctx context.Context, owner string, now, leaseUntil time.Time) (store.PipelineRun, error) {
	if err := store.CheckRunOwner(owner); err != nil {
		return store.PipelineRun{}, err
	}
	r, err := scanRun(s.write.QueryRowContext(ctx,
		`UPDATE pipeline_runs SET status = CASE status WHEN 'pending' THEN 'running' ELSE status END,
		     started_at = coalesce(started_at, ?2), owner = ?1, epoch = epoch + 1, lease_until = ?3
		 WHERE id = (SELECT id FROM pipeline_runs
		             WHERE status IN `+runUnfinished+` AND (status = 'pending' OR lease_until < ?2)
		             ORDER BY created_at, id LIMIT 1)
		 RETURNING `+runColumns, owner, now.UnixMilli(), leaseUntil.UnixMilli()))
	return r, translate(err, "claim a run for %s", owner)
}

// RunHeartbeat extends, in one UPDATE, every listed lease that holds, and
// returns the run ids of the others, sorted.
func (s *Store) RunHeartbeat(ctx context.Context, leases []store.Lease, leaseUntil time.Time) ([]string, error) {
	return s.extendLeases(ctx, `UPDATE pipeline_runs SET lease_until = ?2
		 FROM (SELECT value ->> 'RunID' AS lease_id, value ->> 'Owner' AS lease_owner,
		              value ->> 'Epoch' AS lease_epoch FROM json_each(?1)) AS l
		 WHERE id = lease_id AND owner = lease_owner AND epoch = lease_epoch
		   AND status IN ('running', 'waiting_approval')
		 RETURNING id, owner, epoch`, "run", leases, leaseUntil)
}

// extendLeases runs update, a constant UPDATE of this package that sets
// lease_until to ?2 on the rows whose lease is in the JSON list ?1 and
// still holds, returning them; it returns the run ids of the leases it did
// not extend. what names the runs in errors.
func (s *Store) extendLeases(ctx context.Context, update, what string, leases []store.Lease, leaseUntil time.Time) ([]string, error) {
	if len(leases) == 0 {
		return nil, nil
	}
	list, _ := json.Marshal(leases) // marshaling strings and numbers cannot fail
	// sqlcheck: update is a constant UPDATE of this package; every value is a parameter
	rows, err := s.write.QueryContext(ctx, update, string(list), leaseUntil.UnixMilli())
	if err != nil {
		return nil, translate(err, "extend %s leases", what)
	}
	kept, err := collect(rows, func(row scanner) (store.Lease, error) {
		var l store.Lease
		return l, row.Scan(&l.RunID, &l.Owner, &l.Epoch)
	})
	if err != nil {
		return nil, translate(err, "extend %s leases", what)
	}
	return store.LostLeases(leases, kept), nil
}

// RunRelease ends at now, and frees, a lease that still holds; a lease that
// does not (or a missing run) is left alone.
func (s *Store) RunRelease(ctx context.Context, l store.Lease, now time.Time) error {
	_, err := s.write.ExecContext(ctx, `UPDATE pipeline_runs SET owner = '', lease_until = ?4 WHERE `+leaseHolds,
		l.RunID, l.Owner, l.Epoch, now.UnixMilli())
	return translate(err, "release run %s", l.RunID)
}

// RunSetStatus moves a run held by l between running and waiting_approval,
// in one conditional UPDATE; ECONFLICT when the lease no longer holds (or
// the run is missing), EINVALID for another status.
func (s *Store) RunSetStatus(ctx context.Context, l store.Lease, status store.RunStatus) error {
	if status != store.RunRunning && status != store.RunWaitingApproval {
		return gathering.Errorf(gathering.EINVALID, "run %s cannot be set %q", l.RunID, status)
	}
	res, err := s.write.ExecContext(ctx, `UPDATE pipeline_runs SET status = ?4 WHERE `+leaseHolds,
		l.RunID, l.Owner, l.Epoch, status)
	return runError(refuseUnchanged(res, err, errLeaseLost), "set status of run %s", l.RunID)
}

// RunFinish reads the run and finishes it when it may, in one write
// transaction: status, error and FinishedAt from e, a live lease ending at
// e.At (the owner and epoch stay, as a record of who ran it last), and the
// attempts still running or pending finished at e.At. EINVALID when
// e.Status, or a status e gives attempts, is not final.
func (s *Store) RunFinish(ctx context.Context, e store.RunEnd) (store.PipelineRun, bool, error) {
	if err := e.Check(); err != nil {
		return store.PipelineRun{}, false, err
	}
	var run store.PipelineRun
	var finished bool
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		run, err = scanRun(tx.QueryRowContext(ctx, `SELECT `+runColumns+` FROM pipeline_runs WHERE id = ?`, e.RunID))
		if err != nil || !e.CanFinish(run) {
			return err
		}
		run, err = scanRun(tx.QueryRowContext(ctx,
			`UPDATE pipeline_runs SET status = ?2, error_code = ?3, error = ?4, finished_at = ?5,
			     lease_until = CASE WHEN lease_until > ?5 THEN ?5 ELSE lease_until END
			 WHERE id = ?1 RETURNING `+runColumns, e.RunID, e.Status, e.ErrorCode, e.Error, e.At.UnixMilli()))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`UPDATE pipeline_node_runs SET status = CASE status WHEN 'running' THEN ?2 ELSE ?3 END, finished_at = ?4
			 WHERE run_id = ?1 AND status IN ('pending', 'running')`, e.RunID, e.Running, e.Pending, e.At.UnixMilli())
		finished = err == nil
		return err
	})
	if err != nil {
		return store.PipelineRun{}, false, translate(err, "finish run %s", e.RunID)
	}
	return run, finished, nil
}

// RunRetry turns a failed run back to pending without owner, lease, error,
// StartedAt or FinishedAt (its epoch stays), and inserts the next
// attempt, pending and without input, of every node whose latest attempt
// failed, was cancelled or timed out, in one write transaction.
func (s *Store) RunRetry(ctx context.Context, id string) (store.PipelineRun, error) {
	var run store.PipelineRun
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var status store.RunStatus
		if err := tx.QueryRowContext(ctx, `SELECT status FROM pipeline_runs WHERE id = ?`, id).Scan(&status); err != nil {
			return err
		}
		if status != store.RunFailed {
			return errNotFailed
		}
		var err error
		run, err = scanRun(tx.QueryRowContext(ctx,
			`UPDATE pipeline_runs SET status = 'pending', error_code = '', error = '', started_at = NULL, finished_at = NULL,
			     owner = '', lease_until = NULL
			 WHERE id = ? RETURNING `+runColumns, id))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO pipeline_node_runs (run_id, node_id, attempt, status, error_code, error, input_tokens,
			     output_tokens, cost)
			 SELECT run_id, node_id, attempt + 1, 'pending', '', '', 0, 0, 0 FROM pipeline_node_runs AS n
			 WHERE run_id = ? AND status IN ('failed', 'cancelled', 'timed_out')
			   AND attempt = (SELECT max(attempt) FROM pipeline_node_runs
			                  WHERE run_id = n.run_id AND node_id = n.node_id)`, id)
		return err
	})
	if err != nil {
		return store.PipelineRun{}, runError(err, "retry run %s", id)
	}
	return run, nil
}

// holdLease checks, inside a write transaction, that l holds; errLeaseLost
// when it does not. The one writer keeps it holding until tx ends.
func holdLease(ctx context.Context, tx *sql.Tx, l store.Lease) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM pipeline_runs WHERE `+leaseHolds, l.RunID, l.Owner, l.Epoch).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return errLeaseLost
	}
	return err
}

// missingOr explains why a write changed no row: sql.ErrNoRows when the row
// that the constant query exists looks up is missing, else why.
func (s *Store) missingOr(ctx context.Context, why error, exists string, args ...any) error {
	var found bool
	// sqlcheck: exists is a constant SELECT EXISTS of this file
	if err := s.read.QueryRowContext(ctx, exists, args...).Scan(&found); err != nil {
		return err
	}
	if !found {
		return sql.ErrNoRows
	}
	return why
}

// NodeRunsCreate inserts node attempts of a run held by l in one write
// transaction that checks the lease first. EINVALID too when an attempt is
// not of that run, or its status is unknown.
func (s *Store) NodeRunsCreate(ctx context.Context, l store.Lease, runs []store.NodeRun) error {
	for _, n := range runs {
		if err := n.Check(l); err != nil {
			return err
		}
	}
	if len(runs) == 0 {
		return nil
	}
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := holdLease(ctx, tx, l); err != nil {
			return err
		}
		for _, n := range runs {
			_, err := tx.ExecContext(ctx, `INSERT INTO pipeline_node_runs (`+nodeRunColumns+`)
				 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, nodeRunArgs(n)...)
			if err != nil {
				return err
			}
		}
		return nil
	})
	return runError(err, "create attempts of run %s", l.RunID)
}

// NodeRunUpdate writes an attempt with one UPDATE (the hot path of a
// running pipeline) that matches only a pending or running attempt of a run
// whose lease holds; the one writer makes the check and the write atomic.
// EINVALID too when the attempt is not of the run of l, or its status is
// unknown.
func (s *Store) NodeRunUpdate(ctx context.Context, l store.Lease, n store.NodeRun) error {
	if err := n.Check(l); err != nil {
		return err
	}
	res, err := s.write.ExecContext(ctx,
		`UPDATE pipeline_node_runs SET status = ?4, input = ?5, output = ?6, error_code = ?7, error = ?8,
		     started_at = ?9, finished_at = ?10, input_tokens = ?11, output_tokens = ?12, cost = ?13
		 WHERE run_id = ?1 AND node_id = ?2 AND attempt = ?3 AND status IN ('pending', 'running')
		     AND EXISTS (SELECT 1 FROM pipeline_runs
		                 WHERE id = ?1 AND owner = ?14 AND epoch = ?15 AND status IN ('running', 'waiting_approval'))`,
		append(nodeRunArgs(n), l.Owner, l.Epoch)...)
	err = refuseUnchanged(res, err, errAttemptFinished)
	if _, refused := errors.AsType[refusal](err); refused {
		// The lease no longer holds or the attempt finished: a refusal,
		// unless there is no such attempt at all.
		err = s.missingOr(ctx, err,
			`SELECT EXISTS (SELECT 1 FROM pipeline_node_runs WHERE run_id = ?1 AND node_id = ?2 AND attempt = ?3)`,
			n.RunID, n.NodeID, n.Attempt)
	}
	return runError(err, "update attempt %d of node %s of run %s", n.Attempt, n.NodeID, n.RunID)
}

// NodeRunList returns every attempt of a run's nodes, by node id (byte
// order), then attempt.
func (s *Store) NodeRunList(ctx context.Context, runID string) ([]store.NodeRun, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+nodeRunColumns+` FROM pipeline_node_runs WHERE run_id = ? ORDER BY node_id, attempt`, runID)
	if err != nil {
		return nil, translate(err, "list attempts of run %s", runID)
	}
	list, err := collect(rows, scanNodeRun)
	return list, translate(err, "list attempts of run %s", runID)
}

// ApprovalEnsure inserts, in a write transaction that checks the lease
// first, the approval of a node (its message, request and expiry times;
// undecided) unless it exists, and reads it back. EINVALID when a is not
// of the run of l.
func (s *Store) ApprovalEnsure(ctx context.Context, l store.Lease, a store.Approval) (store.Approval, error) {
	if a.RunID != l.RunID {
		return store.Approval{}, gathering.Errorf(gathering.EINVALID, "approval of run %s under the lease of run %s",
			a.RunID, l.RunID)
	}
	var got store.Approval
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if err := holdLease(ctx, tx, l); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx,
			`INSERT INTO pipeline_approvals (run_id, node_id, message, requested_at, expires_at, decided, approved,
			     comment)
			 VALUES (?, ?, ?, ?, ?, 0, 0, '') ON CONFLICT (run_id, node_id) DO NOTHING`,
			a.RunID, a.NodeID, a.Message, a.RequestedAt.UnixMilli(), nullMS(a.ExpiresAt))
		if err != nil {
			return err
		}
		got, err = scanApproval(tx.QueryRowContext(ctx,
			`SELECT `+approvalColumns+` FROM pipeline_approvals WHERE run_id = ? AND node_id = ?`, a.RunID, a.NodeID))
		return err
	})
	if err != nil {
		return store.Approval{}, runError(err, "request approval of node %s of run %s", a.NodeID, a.RunID)
	}
	return got, nil
}

// ApprovalDecide records Approved, Comment, DecidedBy and DecidedAt in one
// UPDATE that matches only an undecided approval whose expiry is after
// DecidedAt. EINVALID when DecidedAt is zero.
func (s *Store) ApprovalDecide(ctx context.Context, a store.Approval) (store.Approval, error) {
	if a.DecidedAt.IsZero() {
		return store.Approval{}, gathering.Errorf(gathering.EINVALID, "the decision on node %s of run %s has no time",
			a.NodeID, a.RunID)
	}
	got, err := scanApproval(s.write.QueryRowContext(ctx,
		`UPDATE pipeline_approvals SET decided = 1, approved = ?3, comment = ?4, decided_by = ?5, decided_at = ?6
		 WHERE run_id = ?1 AND node_id = ?2 AND NOT decided AND (expires_at IS NULL OR expires_at > ?6)
		 RETURNING `+approvalColumns, a.RunID, a.NodeID, a.Approved, a.Comment, nullID(a.DecidedBy),
		a.DecidedAt.UnixMilli()))
	if errors.Is(err, sql.ErrNoRows) {
		err = s.missingOr(ctx, errApprovalClosed,
			`SELECT EXISTS (SELECT 1 FROM pipeline_approvals WHERE run_id = ?1 AND node_id = ?2)`, a.RunID, a.NodeID)
	}
	if err != nil {
		return store.Approval{}, runError(err, "decide approval of node %s of run %s", a.NodeID, a.RunID)
	}
	return got, nil
}

// ApprovalList returns a run's approvals by node id (byte order).
func (s *Store) ApprovalList(ctx context.Context, runID string) ([]store.Approval, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+approvalColumns+` FROM pipeline_approvals WHERE run_id = ? ORDER BY node_id`, runID)
	if err != nil {
		return nil, translate(err, "list approvals of run %s", runID)
	}
	list, err := collect(rows, scanApproval)
	return list, translate(err, "list approvals of run %s", runID)
}
