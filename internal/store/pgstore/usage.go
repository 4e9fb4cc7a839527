package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// usageSums is the part of the UsageTotals queries after the group key:
// the sums of the records at or after $1 and before $2 (NULL: unbounded),
// grouped by the key.
const usageSums = ` AS grp, count(*), count(*) FILTER (WHERE outcome <> 'ok'), sum(input_tokens),
	    sum(output_tokens), sum(cached_tokens), sum(cost) AS total_cost
	 FROM usage_records
	 WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2)
	 GROUP BY grp`

// The UsageTotals queries, one per grouping. Calls without an agent count
// under agent "0".
const (
	usageByAgent = `SELECT coalesce(agent_id, 0)::text` + usageSums + ` ORDER BY total_cost DESC, grp`
	usageByModel = `SELECT (provider || '/' || model) COLLATE "C"` + usageSums + ` ORDER BY total_cost DESC, grp`
	usageByDay   = `SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD')` + usageSums + ` ORDER BY grp`
)

// UsageRecord appends one provider call to the ledger.
func (s *Store) UsageRecord(ctx context.Context, u store.UsageRecord) error {
	_, err := s.pool.Exec(ctx,
		`INSERT INTO usage_records (at, agent_id, session_id, user_id, pipeline_run_id, node_id, provider, model,
		     input_tokens, output_tokens, cached_tokens, cost, latency_ms, outcome)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		u.At, nullID(u.AgentID), u.SessionID, nullID(u.UserID), u.PipelineRunID, u.NodeID, u.Provider, u.Model,
		u.InputTokens, u.OutputTokens, u.CachedTokens, u.Cost, u.LatencyMS, u.Outcome)
	return translate(err, "record usage of %s/%s", u.Provider, u.Model)
}

// UsageTotals sums the ledger at or after since and before until (zero:
// unbounded) in SQL, grouped by agent, model or UTC day; cost ties are
// broken by key. EINVALID for another grouping.
func (s *Store) UsageTotals(ctx context.Context, groupBy store.UsageGroup, since, until time.Time) ([]store.UsageTotal, error) {
	var query string
	switch groupBy {
	case store.UsageByAgent:
		query = usageByAgent
	case store.UsageByModel:
		query = usageByModel
	case store.UsageByDay:
		query = usageByDay
	default:
		return nil, gathering.Errorf(gathering.EINVALID, "usage cannot be grouped by %q", groupBy)
	}
	// sqlcheck: query is one of the constant usageBy… queries
	rows, err := s.pool.Query(ctx, query, nullTime(since), nullTime(until))
	if err != nil {
		return nil, translate(err, "sum usage by %s", groupBy)
	}
	totals, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.UsageTotal, error) {
		var t store.UsageTotal
		err := row.Scan(&t.Key, &t.Calls, &t.Failed, &t.InputTokens, &t.OutputTokens, &t.CachedTokens, &t.Cost)
		return t, err
	})
	return totals, translate(err, "sum usage by %s", groupBy)
}
