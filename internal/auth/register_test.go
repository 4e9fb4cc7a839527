package auth

import (
	"slices"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
)

func TestRegister(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		u, err := f.svc.Register(t.Context(), RegisterParams{Email: "  New@Example.COM ", Password: "long enough", Name: "  Ada  "}, testMeta)
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "new@example.com" || u.Name != "Ada" || u.Role != gathering.RoleMember || !u.IsActive {
			t.Fatalf("user %+v", u)
		}
		if !strings.HasPrefix(u.PasswordHash, preHashPrefix) || !CheckPassword(u.PasswordHash, "long enough") {
			t.Fatalf("hash %q", u.PasswordHash)
		}
		_, err = f.svc.Register(t.Context(), RegisterParams{Email: "NEW@example.com", Password: "long enough", Name: "Ada"}, testMeta)
		wantCode(t, err, gathering.ECONFLICT)
		if gathering.ErrorMessage(err) != "Email already registered" {
			t.Fatalf("message %q", gathering.ErrorMessage(err))
		}
		evs := f.audits(t, gathering.AuditUserRegistered)
		if len(evs) != 1 || evs[0].Target != userTarget(u.ID) || strings.Contains(string(evs[0].Details), "long enough") {
			t.Fatalf("user_registered audits %+v", evs)
		}
	})
}

func TestRegisterValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		params RegisterParams
		fields []string
	}{
		{"everything wrong", RegisterParams{Email: "nope", Password: "short", Name: "  ", Role: "root"}, []string{"email", "password", "name", "role"}},
		{"display name", RegisterParams{Email: "Bob <bob@example.com>", Password: "long enough", Name: "Bob"}, []string{"email"}},
		{"angle brackets", RegisterParams{Email: "<bob@example.com>", Password: "long enough", Name: "Bob"}, []string{"email"}},
		{"too long email", RegisterParams{Email: strings.Repeat("a", 250) + "@b.co", Password: "long enough", Name: "Bob"}, []string{"email"}},
		{"too long name", RegisterParams{Email: "bob@example.com", Password: "long enough", Name: strings.Repeat("n", 101)}, []string{"name"}},
		{"too long password", RegisterParams{Email: "bob@example.com", Password: strings.Repeat("p", 129), Name: "Bob"}, []string{"password"}},
	}
	f := &fixture{svc: &Service{}} // validation fails before any store or bcrypt work
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Register(t.Context(), tt.params, testMeta)
			wantCode(t, err, gathering.EINVALID)
			var got []string
			for _, fe := range gathering.ErrorFields(err) {
				got = append(got, fe.Field)
			}
			if !slices.Equal(got, tt.fields) {
				t.Fatalf("fields %v, want %v", got, tt.fields)
			}
		})
	}
}

func TestSetPassword(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, f *fixture) {
		u := f.register(t, "reset@example.com", gathering.RoleMember)
		pair := f.login(t, "reset@example.com")
		wantCode(t, f.svc.SetPassword(t.Context(), u.ID, "short"), gathering.EINVALID)
		if err := f.svc.SetPassword(t.Context(), u.ID, "a brand new password"); err != nil {
			t.Fatal(err)
		}
		_, _, err := f.svc.Login(t.Context(), "reset@example.com", testPassword, testMeta)
		wantCode(t, err, gathering.EUNAUTHORIZED)
		if _, _, err := f.svc.Login(t.Context(), "reset@example.com", "a brand new password", testMeta); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Refresh(t.Context(), pair.RefreshToken, testMeta)
		wantCode(t, err, gathering.EUNAUTHORIZED)
	})
}
