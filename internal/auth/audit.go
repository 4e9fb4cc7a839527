package auth

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"strconv"

	"github.com/gathering/gathering/internal/gathering"
)

// Audit appends an event to the audit trail. A failure is logged, never
// returned: the audit trail must not fail the request it describes. details
// must never hold a password, token or key.
func (s *Service) Audit(ctx context.Context, event string, meta RequestMeta, actorID int64, target string, details map[string]any) {
	e := gathering.AuditEvent{
		At:        s.now(),
		Event:     event,
		ActorID:   actorID,
		ActorIP:   meta.IP,
		UserAgent: meta.UserAgent,
		RequestID: cmp.Or(meta.RequestID, gathering.RequestID(ctx)),
		Target:    target,
	}
	if len(details) > 0 {
		raw, err := json.Marshal(details)
		if err != nil {
			s.log.ErrorContext(ctx, "audit details not encodable", slog.String("event", event), slog.Any("error", err))
		}
		e.Details = raw
	}
	if _, err := s.st.AuditAppend(context.WithoutCancel(ctx), e); err != nil {
		s.log.ErrorContext(ctx, "audit append failed", slog.String("event", event), slog.String("target", target), slog.Any("error", err))
	}
	s.announceAudit(ctx, event, actorID, target, details)
}

// userTarget names a user as an audit target.
func userTarget(id int64) string { return "user:" + strconv.FormatInt(id, 10) }

// apiKeyTarget names an API key as an audit target.
func apiKeyTarget(id int64) string { return "api_key:" + strconv.FormatInt(id, 10) }
