package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// auditColumns are the columns scanAudit reads, in order.
const auditColumns = `id, at, event, actor_id, actor_ip, user_agent, request_id, target, details`

// scanAudit reads one audit_events row, with its time in UTC.
func scanAudit(row pgx.Row) (gathering.AuditEvent, error) {
	var e gathering.AuditEvent
	var at time.Time
	var actor *int64
	var ip string
	var details []byte
	err := row.Scan(&e.ID, &at, &e.Event, &actor, &ip, &e.UserAgent, &e.RequestID, &e.Target, &details)
	e.At, e.ActorIP, e.Details = at.UTC(), parseIP(ip), details
	if actor != nil {
		e.ActorID = *actor
	}
	return e, err
}

// ipText is the stored form of an address: empty when it is not valid.
func ipText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// parseIP reads a stored address; the zero Addr when it is empty.
func parseIP(s string) netip.Addr {
	a, _ := netip.ParseAddr(s)
	return a
}

// AuditAppend appends one event and returns it with its id. Nil Details are
// stored as {}.
func (s *Store) AuditAppend(ctx context.Context, e gathering.AuditEvent) (gathering.AuditEvent, error) {
	if e.Details == nil {
		e.Details = json.RawMessage(`{}`)
	}
	e, err := scanAudit(s.pool.QueryRow(ctx,
		`INSERT INTO audit_events (at, event, actor_id, actor_ip, user_agent, request_id, target, details)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+auditColumns,
		e.At, e.Event, nullID(e.ActorID), ipText(e.ActorIP), e.UserAgent, e.RequestID, e.Target, []byte(e.Details)))
	return e, translate(err, "append audit event")
}

// AuditList returns the events that match, newest first, and the total
// count of matches.
func (s *Store) AuditList(ctx context.Context, f store.AuditFilter) ([]gathering.AuditEvent, int, error) {
	where, args := auditWhere(f)
	var total int
	// sqlcheck: where holds only auditWhere's fixed conditions; values are parameters
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM audit_events`+where, args...).Scan(&total); err != nil {
		return nil, 0, translate(err, "count audit events")
	}
	limit, offset := f.Page.Bounds()
	args = append(args, limit, offset)
	// sqlcheck: the format fills in only the fixed WHERE conditions built above and $N placeholder numbers; every value is a parameter
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT `+auditColumns+` FROM audit_events%s
		 ORDER BY at DESC, id DESC LIMIT $%d OFFSET $%d`, where, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, translate(err, "list audit events")
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (gathering.AuditEvent, error) { return scanAudit(row) })
	return events, total, translate(err, "list audit events")
}

// auditWhere builds the WHERE clause of f from fixed conditions, one per
// set field, with the values as parameters, so that each query can use its
// index.
func auditWhere(f store.AuditFilter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, value any) {
		args = append(args, value)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.Event != "" {
		add("event = $%d", f.Event)
	}
	if f.ActorID != 0 {
		add("actor_id = $%d", f.ActorID)
	}
	if !f.Since.IsZero() {
		add("at >= $%d", f.Since)
	}
	if !f.Until.IsZero() {
		add("at < $%d", f.Until)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}
