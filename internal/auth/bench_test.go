package auth

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// BenchmarkAuthenticate measures the access-token path on SQLite with a warm
// revocation cache (1,000 revoked ids, not this token's): JWT parse, LRU
// miss, database revocation check and user load.
func BenchmarkAuthenticate(b *testing.B) {
	f := setup(b, store.SQLite)
	ctx := context.Background()
	_, err := f.st.UserCreate(ctx, store.UserCreateParams{
		Email: "bench@example.com", Name: "Bench", Role: gathering.RoleMember, PasswordHash: testPasswordHash(), IsActive: true, At: f.clock.Now(),
	})
	if err != nil {
		b.Fatal(err)
	}
	pair, _, err := f.svc.Login(ctx, "bench@example.com", testPassword, testMeta)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		if err := f.svc.Revoke(ctx, "revoked-"+strconv.Itoa(i), f.clock.Now().Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.svc.Authenticate(ctx, pair.AccessToken); err != nil {
			b.Fatal(err)
		}
	}
}
