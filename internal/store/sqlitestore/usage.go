package sqlitestore

import (
	"context"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// usageSums is the part of the UsageTotals queries after the group key:
// the sums of the records at or after ?1 and before ?2 (NULL: unbounded),
// grouped by the key.
const usageSums = ` AS grp, count(*), count(*) FILTER (WHERE outcome <> 'ok'), sum(input_tokens),
	    sum(output_tokens), sum(cached_tokens), sum(cost) AS total_cost
	 FROM usage_records
	 WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at < ?2)
	 GROUP BY grp`

// The UsageTotals queries, one per grouping. Calls without an agent count
// under agent "0".
const (
	usageByAgent = `SELECT CAST(coalesce(agent_id, 0) AS TEXT)` + usageSums + ` ORDER BY total_cost DESC, grp`
	usageByModel = `SELECT provider || '/' || model` + usageSums + ` ORDER BY total_cost DESC, grp`
	usageByDay   = `SELECT strftime('%Y-%m-%d', at / 1000, 'unixepoch')` + usageSums + ` ORDER BY grp`
)

// UsageRecord appends one provider call to the ledger.
func (s *Store) UsageRecord(ctx context.Context, u store.UsageRecord) error {
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO usage_records (at, agent_id, session_id, user_id, pipeline_run_id, node_id, provider, model,
		     input_tokens, output_tokens, cached_tokens, cost, latency_ms, outcome)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.At.UnixMilli(), nullID(u.AgentID), u.SessionID, nullID(u.UserID), u.PipelineRunID, u.NodeID, u.Provider,
		u.Model, u.InputTokens, u.OutputTokens, u.CachedTokens, u.Cost, u.LatencyMS, u.Outcome)
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
	rows, err := s.read.QueryContext(ctx, query, nullMS(since), nullMS(until))
	if err != nil {
		return nil, translate(err, "sum usage by %s", groupBy)
	}
	totals, err := collect(rows, func(row scanner) (store.UsageTotal, error) {
		var t store.UsageTotal
		err := row.Scan(&t.Key, &t.Calls, &t.Failed, &t.InputTokens, &t.OutputTokens, &t.CachedTokens, &t.Cost)
		return t, err
	})
	return totals, translate(err, "sum usage by %s", groupBy)
}
