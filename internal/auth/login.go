package auth

import (
	"context"
	"errors"

	"github.com/gathering/gathering/internal/gathering"
)

// errBadLogin is the one answer to every failed login.
var errBadLogin = &gathering.Error{Code: gathering.EUNAUTHORIZED, Message: "Incorrect email or password"}

// Login checks an email and password and issues a token pair in a new
// refresh family. Unknown emails, wrong passwords and inactive accounts all
// get errBadLogin after the same bcrypt work. After throttleAfter
// consecutive failures for the normalised email (whether or not it has an
// account), attempts within the growing delay are rejected as rate limited
// without any bcrypt work.
func (s *Service) Login(ctx context.Context, email, password string, meta RequestMeta) (TokenPair, gathering.User, error) {
	key := NormalizeEmail(email)
	if err := s.checkThrottle(ctx, key); err != nil {
		if gathering.ErrorCode(err) == gathering.ERATELIMITED {
			s.Audit(ctx, gathering.AuditLoginThrottled, meta, 0, key, nil)
		}
		return TokenPair{}, gathering.User{}, err
	}
	u, err := s.verifyLogin(ctx, key, password)
	if err != nil {
		return TokenPair{}, gathering.User{}, s.loginFailed(ctx, key, meta, err)
	}
	return s.loginSucceeded(ctx, key, u, meta)
}

// verifyLogin loads the account and checks the password, doing one bcrypt
// comparison whatever happens. Store failures other than ENOTFOUND are
// returned as they are; every other failure is errBadLogin.
func (s *Service) verifyLogin(ctx context.Context, email, password string) (gathering.User, error) {
	u, err := s.st.UserGetByEmail(ctx, email)
	found := err == nil
	if err != nil && gathering.ErrorCode(err) != gathering.ENOTFOUND {
		return gathering.User{}, err
	}
	hash := s.dummyHash
	if found && isPasswordHash(u.PasswordHash) {
		hash = u.PasswordHash // an account without a usable hash costs the dummy's work
	}
	ok := CheckPassword(hash, password)
	if !found || !ok || !u.IsActive || hash == s.dummyHash {
		return gathering.User{}, errBadLogin
	}
	return u, nil
}

// loginFailed records and audits a failed attempt and returns err.
func (s *Service) loginFailed(ctx context.Context, key string, meta RequestMeta, err error) error {
	if !errors.Is(err, errBadLogin) {
		return err
	}
	if _, rerr := s.st.LoginFailureRecord(ctx, key, s.now()); rerr != nil {
		return rerr
	}
	s.Audit(ctx, gathering.AuditLoginFailed, meta, 0, key, nil)
	return err
}

// loginSucceeded resets the throttle, records the login and issues tokens.
func (s *Service) loginSucceeded(ctx context.Context, key string, u gathering.User, meta RequestMeta) (TokenPair, gathering.User, error) {
	if err := s.st.LoginFailureReset(ctx, key); err != nil {
		return TokenPair{}, gathering.User{}, err
	}
	now := s.now()
	if err := s.st.UserTouchLogin(ctx, u.ID, now); err != nil {
		return TokenPair{}, gathering.User{}, err
	}
	u.LastLoginAt = now
	pair, err := s.issuePair(ctx, u, randomID())
	if err != nil {
		return TokenPair{}, gathering.User{}, err
	}
	s.Audit(ctx, gathering.AuditLoginSucceeded, meta, u.ID, userTarget(u.ID), nil)
	return pair, u, nil
}
