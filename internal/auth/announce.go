package auth

import (
	"context"
	"strconv"
	"strings"
)

// Announcer publishes an account event to live subscribers (the event bus);
// the data never holds a secret.
type Announcer func(ctx context.Context, eventType string, topics []string, data map[string]any)

// SetAnnouncer makes the service announce account changes as user.* events
// (registered, updated, role_changed, deactivated, logged_in, logged_out).
// Call it before serving.
func (s *Service) SetAnnouncer(a Announcer) { s.announce = a }

// announced maps the audit events that are also live events.
var announced = map[string]string{
	"user_registered":  "user.registered",
	"user_updated":     "user.updated",
	"role_changed":     "user.role_changed",
	"user_deactivated": "user.deactivated",
	"login_succeeded":  "user.logged_in",
	"logout":           "user.logged_out",
}

// announceAudit publishes the live counterpart of an audit event: the user
// it is about, who did it, and for role changes the old and new role.
func (s *Service) announceAudit(ctx context.Context, auditEvent string, actorID int64, target string, details map[string]any) {
	eventType, ok := announced[auditEvent]
	idText, isUser := strings.CutPrefix(target, "user:")
	if !ok || !isUser || s.announce == nil {
		return
	}
	userID, _ := strconv.ParseInt(idText, 10, 64)
	data := map[string]any{"user_id": userID, "actor_id": actorID}
	if auditEvent == "role_changed" {
		data["old_role"], data["new_role"] = details["old"], details["new"]
	}
	s.announce(ctx, eventType, []string{target}, data)
}
