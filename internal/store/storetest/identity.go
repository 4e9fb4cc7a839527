package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// base is the suite's clock: every identity test passes explicit times, on
// whole milliseconds so that both backends store them exactly.
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// minutes returns base plus n minutes.
func minutes(n int) time.Time { return base.Add(time.Duration(n) * time.Minute) }

// exerciseIdentity runs the IdentityStore part of the suite, each test on a
// fresh migrated store.
func exerciseIdentity(t *testing.T, migrated func(t *testing.T) store.Store, exec Exec) {
	t.Helper()
	tests := []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"UserCreateGet", testUserCreateGet},
		{"UserDuplicateEmail", testUserDuplicateEmail},
		{"UserUpdate", testUserUpdate},
		{"UserUpdateKeepsAnAdmin", testUserUpdateKeepsAnAdmin},
		{"UserListCount", testUserListCount},
		{"UserTouchLogin", testUserTouchLogin},
		{"RefreshTokenUse", testRefreshTokenUse},
		{"RefreshFamilyRevoke", testRefreshFamilyRevoke},
		{"RefreshTokensRevokeForUser", testRefreshTokensRevokeForUser},
		{"RefreshTokenPurge", testRefreshTokenPurge},
		{"RefreshTokenConcurrentUse", testRefreshTokenConcurrentUse},
		{"Revocations", testRevocations},
		{"APIKeys", testAPIKeys},
		{"LoginFailures", testLoginFailures},
		{"AuditFilters", testAuditFilters},
		{"AuditRoundTrip", testAuditRoundTrip},
		{"AuditAppendOnly", func(t *testing.T, s store.Store) { testAuditAppendOnly(t, s, exec) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { t.Parallel(); tt.test(t, migrated(t)) })
	}
}

// newUser creates an active member with the given email, at base.
func newUser(t *testing.T, s store.Store, email string) gathering.User {
	t.Helper()
	u, err := s.UserCreate(t.Context(), store.UserCreateParams{
		Email: email, Name: "User " + email, Role: gathering.RoleMember, PasswordHash: "hash:" + email, IsActive: true, At: base,
	})
	if err != nil {
		t.Fatalf("UserCreate(%s): %v", email, err)
	}
	return u
}

// wantCode fails the test unless err carries code.
func wantCode(t *testing.T, op string, err error, code string) {
	t.Helper()
	if got := gathering.ErrorCode(err); got != code {
		t.Errorf("%s: code %q (%v), want %q", op, got, err, code)
	}
}

func testUserCreateGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := store.UserCreateParams{Email: "ada@example.org", Name: "Ada", Role: gathering.RoleAdmin, PasswordHash: "h1", IsActive: true, At: base}
	u, err := s.UserCreate(ctx, p)
	if err != nil {
		t.Fatalf("UserCreate: %v", err)
	}
	want := gathering.User{ID: u.ID, Email: p.Email, Name: p.Name, Role: p.Role, IsActive: true, PasswordHash: p.PasswordHash, CreatedAt: base, UpdatedAt: base}
	if u.ID <= 0 || u != want {
		t.Fatalf("UserCreate = %+v, want %+v with a positive id", u, want)
	}
	if got, err := s.UserGetByID(ctx, u.ID); err != nil || got != want {
		t.Errorf("UserGetByID = %+v, %v; want %+v", got, err, want)
	}
	if got, err := s.UserGetByEmail(ctx, p.Email); err != nil || got != want {
		t.Errorf("UserGetByEmail = %+v, %v; want %+v", got, err, want)
	}
	_, err = s.UserGetByID(ctx, u.ID+1)
	wantCode(t, "UserGetByID of a missing user", err, gathering.ENOTFOUND)
	_, err = s.UserGetByEmail(ctx, "nobody@example.org")
	wantCode(t, "UserGetByEmail of a missing user", err, gathering.ENOTFOUND)
}

func testUserDuplicateEmail(t *testing.T, s store.Store) {
	newUser(t, s, "bob@example.org")
	for _, email := range []string{"bob@example.org", "BOB@example.org"} {
		_, err := s.UserCreate(t.Context(), store.UserCreateParams{Email: email, Name: "Bob 2", Role: gathering.RoleViewer, At: base})
		wantCode(t, "UserCreate of "+email, err, gathering.ECONFLICT)
		if msg := gathering.ErrorMessage(err); msg != "Email already registered" {
			t.Errorf("UserCreate of %s: message %q, want %q", email, msg, "Email already registered")
		}
	}
	if n, err := s.UserCount(t.Context()); err != nil || n != 1 {
		t.Errorf("UserCount = %d, %v; want 1", n, err)
	}
}

func testUserUpdate(t *testing.T, s store.Store) {
	want := newUser(t, s, "carol@example.org")
	name, role, active, hash := "Carol C.", gathering.RoleAdmin, false, "h2"
	// Another administrator, so that Carol, once admin, may be deactivated.
	if _, err := s.UserUpdate(t.Context(), store.UserUpdateParams{ID: newUser(t, s, "keeper@example.org").ID, Role: &role, At: base}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		params store.UserUpdateParams
		apply  func(u *gathering.User)
	}{
		{"name", store.UserUpdateParams{Name: &name}, func(u *gathering.User) { u.Name = name }},
		{"role", store.UserUpdateParams{Role: &role}, func(u *gathering.User) { u.Role = role }},
		{"is_active", store.UserUpdateParams{IsActive: &active}, func(u *gathering.User) { u.IsActive = active }},
		{"password_hash", store.UserUpdateParams{PasswordHash: &hash}, func(u *gathering.User) { u.PasswordHash = hash }},
		{"nothing", store.UserUpdateParams{}, func(*gathering.User) {}},
	}
	for i, c := range cases {
		c.params.ID, c.params.At = want.ID, minutes(i+1)
		c.apply(&want)
		want.UpdatedAt = c.params.At
		got, err := s.UserUpdate(t.Context(), c.params)
		if err != nil || got != want {
			t.Fatalf("UserUpdate of %s = %+v, %v; want %+v", c.name, got, err, want)
		}
		if got, err := s.UserGetByID(t.Context(), want.ID); err != nil || got != want {
			t.Fatalf("UserGetByID after updating %s = %+v, %v; want %+v", c.name, got, err, want)
		}
	}
	_, err := s.UserUpdate(t.Context(), store.UserUpdateParams{ID: want.ID + 1000, Name: &name, At: base})
	wantCode(t, "UserUpdate of a missing user", err, gathering.ENOTFOUND)
}

func testUserListCount(t *testing.T, s store.Store) {
	var ids []int64
	for i := range 5 {
		ids = append(ids, newUser(t, s, fmt.Sprintf("u%d@example.org", i)).ID)
	}
	cases := []struct {
		page store.Page
		want []int64
	}{
		{store.Page{}, ids},
		{store.Page{Limit: 2}, ids[:2]},
		{store.Page{Limit: 2, Offset: 2}, ids[2:4]},
		{store.Page{Limit: 2, Offset: 4}, ids[4:]},
		{store.Page{Offset: 10}, nil},
	}
	for _, c := range cases {
		users, total, err := s.UserList(t.Context(), c.page)
		var got []int64
		for _, u := range users {
			got = append(got, u.ID)
		}
		if err != nil || total != 5 || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("UserList(%+v) = %v, total %d, %v; want %v, total 5", c.page, got, total, err, c.want)
		}
	}
	if n, err := s.UserCount(t.Context()); err != nil || n != 5 {
		t.Errorf("UserCount = %d, %v; want 5", n, err)
	}
}

func testUserTouchLogin(t *testing.T, s store.Store) {
	u := newUser(t, s, "dan@example.org")
	if !u.LastLoginAt.IsZero() {
		t.Fatalf("new user LastLoginAt = %v, want zero", u.LastLoginAt)
	}
	if err := s.UserTouchLogin(t.Context(), u.ID, minutes(5)); err != nil {
		t.Fatalf("UserTouchLogin: %v", err)
	}
	got, err := s.UserGetByID(t.Context(), u.ID)
	if err != nil || got.LastLoginAt != minutes(5) || got.UpdatedAt != base {
		t.Errorf("after UserTouchLogin = %+v, %v; want LastLoginAt %v, UpdatedAt unchanged", got, err, minutes(5))
	}
	wantCode(t, "UserTouchLogin of a missing user", s.UserTouchLogin(t.Context(), u.ID+1, base), gathering.ENOTFOUND)
}

// testUserUpdateKeepsAnAdmin demotes two administrators at the same time,
// many times over: one demotion may pass, the last admin always stays.
func testUserUpdateKeepsAnAdmin(t *testing.T, s store.Store) {
	ctx := t.Context()
	member := gathering.RoleMember
	if _, err := s.UserUpdate(ctx, store.UserUpdateParams{ID: newUser(t, s, "solo@example.org").ID, Role: &member, At: minutes(1)}); err != nil {
		t.Fatalf("updating a member with no admin anywhere: %v", err)
	}
	admin := gathering.RoleAdmin
	var ids []int64
	for _, email := range []string{"ada@example.org", "bob@example.org"} {
		u := newUser(t, s, email)
		if _, err := s.UserUpdate(ctx, store.UserUpdateParams{ID: u.ID, Role: &admin, At: minutes(1)}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, id := range ids {
		wg.Go(func() { _, errs[i] = s.UserUpdate(ctx, store.UserUpdateParams{ID: id, Role: &member, At: minutes(2)}) })
	}
	wg.Wait()
	refused := 0
	for _, err := range errs {
		if gathering.ErrorCode(err) == gathering.ECONFLICT && gathering.ErrorMessage(err) == store.ErrLastAdmin {
			refused++
		} else if err != nil {
			t.Fatalf("demotion: %v", err)
		}
	}
	if refused != 1 {
		t.Fatalf("%d of 2 concurrent demotions refused, want exactly 1", refused)
	}
	off := false
	for _, id := range ids {
		if u, _ := s.UserGetByID(ctx, id); u.Role == gathering.RoleAdmin {
			if _, err := s.UserUpdate(ctx, store.UserUpdateParams{ID: id, IsActive: &off, At: minutes(3)}); gathering.ErrorCode(err) != gathering.ECONFLICT {
				t.Fatalf("deactivating the last admin: %v", err)
			}
		}
	}
}
