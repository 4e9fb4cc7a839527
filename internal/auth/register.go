package auth

import (
	"context"
	"strings"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// RegisterParams describe a new account. An empty Role means RoleMember;
// public self-registration must leave it empty (only operators choose a
// role).
type RegisterParams struct {
	Email    string
	Password string
	Name     string
	Role     gathering.Role
}

// normalize trims the email and name and defaults the role.
func (p RegisterParams) normalize() RegisterParams {
	p.Email = NormalizeEmail(p.Email)
	p.Name = strings.TrimSpace(p.Name)
	if p.Role == "" {
		p.Role = gathering.RoleMember
	}
	return p
}

// validate returns one EINVALID listing every invalid field.
func (p RegisterParams) validate() error {
	var fe fieldErrors
	fe.check(emailFieldError(p.Email))
	fe.check(passwordFieldError(p.Password))
	fe.check(nameFieldError(p.Name))
	fe.check(roleFieldError("role", p.Role))
	return fe.err("Invalid registration")
}

// Register creates an active account. Invalid input is one EINVALID with
// every field error; a taken email is ECONFLICT "Email already registered".
// Whether registration is open is the caller's policy.
func (s *Service) Register(ctx context.Context, p RegisterParams, meta RequestMeta) (gathering.User, error) {
	p = p.normalize()
	if err := p.validate(); err != nil {
		return gathering.User{}, err
	}
	hash, err := HashPassword(p.Password, s.cfg.BcryptCost)
	if err != nil {
		return gathering.User{}, err
	}
	u, err := s.st.UserCreate(ctx, store.UserCreateParams{
		Email: p.Email, Name: p.Name, Role: p.Role, PasswordHash: hash, IsActive: true, At: s.now(),
	})
	if gathering.ErrorCode(err) == gathering.ECONFLICT {
		return gathering.User{}, &gathering.Error{Code: gathering.ECONFLICT, Message: "Email already registered", Err: err}
	}
	if err != nil {
		return gathering.User{}, err
	}
	s.Audit(ctx, gathering.AuditUserRegistered, meta, u.ID, userTarget(u.ID), map[string]any{"role": u.Role})
	return u, nil
}
