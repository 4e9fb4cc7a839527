package sqlitestore

import (
	"context"
	"database/sql"
	"net/netip"
	"strings"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// auditColumns are the columns scanAudit reads, in order.
const auditColumns = `id, at, event, actor_id, actor_ip, user_agent, request_id, target, details`

// scanAudit reads one audit_events row, converting its time to UTC.
func scanAudit(row scanner) (gathering.AuditEvent, error) {
	var e gathering.AuditEvent
	var at int64
	var actor sql.NullInt64
	var ip string
	var details []byte
	err := row.Scan(&e.ID, &at, &e.Event, &actor, &ip, &e.UserAgent, &e.RequestID, &e.Target, &details)
	e.At, e.ActorID, e.ActorIP, e.Details = fromMS(at), actor.Int64, parseIP(ip), details
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
	details := string(e.Details)
	if e.Details == nil {
		details = `{}`
	}
	e, err := scanAudit(s.write.QueryRowContext(ctx,
		`INSERT INTO audit_events (at, event, actor_id, actor_ip, user_agent, request_id, target, details)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+auditColumns,
		e.At.UnixMilli(), e.Event, nullID(e.ActorID), ipText(e.ActorIP), e.UserAgent, e.RequestID, e.Target, details))
	return e, translate(err, "append audit event")
}

// AuditList returns the events that match, newest first, and the total
// count of matches.
func (s *Store) AuditList(ctx context.Context, f store.AuditFilter) ([]gathering.AuditEvent, int, error) {
	where, args := auditWhere(f)
	var total int
	// sqlcheck: where holds only auditWhere's fixed conditions; values are parameters
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM audit_events`+where, args...).Scan(&total); err != nil {
		return nil, 0, translate(err, "count audit events")
	}
	limit, offset := f.Page.Bounds()
	// sqlcheck: where holds only auditWhere's fixed conditions; values are parameters
	rows, err := s.read.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_events`+where+`
		 ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, translate(err, "list audit events")
	}
	events, err := collect(rows, scanAudit)
	return events, total, translate(err, "list audit events")
}

// auditWhere builds the WHERE clause of f from fixed conditions, one per
// set field, with the values as parameters, so that each query can use its
// index.
func auditWhere(f store.AuditFilter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, value any) {
		conds = append(conds, cond)
		args = append(args, value)
	}
	if f.Event != "" {
		add("event = ?", f.Event)
	}
	if f.ActorID != 0 {
		add("actor_id = ?", f.ActorID)
	}
	if !f.Since.IsZero() {
		add("at >= ?", f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		add("at < ?", f.Until.UnixMilli())
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}
