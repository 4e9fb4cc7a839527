package auth

import (
	"context"
	"sync"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
)

func TestAccountChangesAreAnnounced(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		var mu sync.Mutex
		var got []string
		f.svc.SetAnnouncer(func(_ context.Context, eventType string, topics []string, data map[string]any) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, eventType+" "+topics[0])
			for k := range data {
				if k != "user_id" && k != "actor_id" && k != "old_role" && k != "new_role" {
					t.Errorf("%s carries %q", eventType, k)
				}
			}
		})
		u := f.register(t, "announce@example.com", gathering.RoleMember)
		f.svc.Audit(t.Context(), gathering.AuditRoleChanged, testMeta, 0, userTarget(u.ID), map[string]any{"old": "member", "new": "viewer"})
		f.svc.Audit(t.Context(), gathering.AuditLoginFailed, testMeta, 0, "announce@example.com", nil)
		mu.Lock()
		defer mu.Unlock()
		want := "user.role_changed " + userTarget(u.ID)
		if len(got) != 1 || got[0] != want {
			t.Fatalf("announced %v, want [%s] (login failures are not announced)", got, want)
		}
	})
}
