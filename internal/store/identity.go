package store

import (
	"context"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// IdentityStore keeps accounts, refresh tokens, revoked access tokens, API
// keys, login throttling and the audit trail. Emails are stored and looked up
// lower case and trimmed; callers normalise them before calling.
type IdentityStore interface {
	// UserCreate inserts a user; ECONFLICT when the email is taken.
	UserCreate(ctx context.Context, p UserCreateParams) (gathering.User, error)
	// UserGetByID returns a user or ENOTFOUND.
	UserGetByID(ctx context.Context, id int64) (gathering.User, error)
	// UserGetByEmail returns a user or ENOTFOUND.
	UserGetByEmail(ctx context.Context, email string) (gathering.User, error)
	// UserList returns a page of users by id, and the total count.
	UserList(ctx context.Context, p Page) ([]gathering.User, int, error)
	// UserCount counts every user, active or not.
	UserCount(ctx context.Context) (int, error)
	// UserUpdate changes the fields that are set and bumps updated_at;
	// ENOTFOUND when the user does not exist. An update that would leave no
	// active administrator where there was one is refused with ECONFLICT,
	// atomically (two concurrent demotions cannot both pass).
	UserUpdate(ctx context.Context, p UserUpdateParams) (gathering.User, error)
	// UserTouchLogin records a successful login.
	UserTouchLogin(ctx context.Context, id int64, at time.Time) error

	// RefreshTokenCreate stores a new refresh token.
	RefreshTokenCreate(ctx context.Context, t gathering.RefreshToken) error
	// RefreshTokenUse marks the token with this hash used, atomically, and
	// returns it as it was before. ENOTFOUND when no token has the hash;
	// ECONFLICT (with the token) when it was used or revoked already, so the
	// caller can revoke the family.
	RefreshTokenUse(ctx context.Context, tokenHash string, at time.Time) (gathering.RefreshToken, error)
	// RefreshFamilyRevoke revokes every token of a family.
	RefreshFamilyRevoke(ctx context.Context, familyID string, at time.Time) error
	// RefreshTokensRevokeForUser revokes every refresh token of a user.
	RefreshTokensRevokeForUser(ctx context.Context, userID int64, at time.Time) error
	// RefreshTokenPurge deletes refresh tokens that expired before t and
	// returns how many it deleted.
	RefreshTokenPurge(ctx context.Context, before time.Time) (int, error)

	// RevocationCreate records a revoked access token id until it expires;
	// recording it twice is not an error.
	RevocationCreate(ctx context.Context, jti string, expiresAt time.Time) error
	// RevocationExists reports whether either id is revoked: an access
	// token's jti, or the revocation key of its whole login family.
	RevocationExists(ctx context.Context, jti, familyKey string) (bool, error)
	// RevocationPurge deletes revocations that expired before t and
	// returns how many it deleted.
	RevocationPurge(ctx context.Context, before time.Time) (int, error)

	// APIKeyCreate stores a key (its hash) and returns it with its id.
	APIKeyCreate(ctx context.Context, k gathering.APIKey) (gathering.APIKey, error)
	// APIKeyGetByHash returns a key by the hash of its secret, or ENOTFOUND.
	APIKeyGetByHash(ctx context.Context, keyHash string) (gathering.APIKey, error)
	// APIKeyList returns the keys of a user (every user's when userID is
	// 0), newest first, revoked ones included.
	APIKeyList(ctx context.Context, userID int64) ([]gathering.APIKey, error)
	// APIKeyRevoke marks a key revoked; ENOTFOUND when it does not exist.
	APIKeyRevoke(ctx context.Context, id int64, at time.Time) error
	// APIKeyTouch records that a key was used.
	APIKeyTouch(ctx context.Context, id int64, at time.Time) error

	// LoginFailureRecord adds one consecutive failed login for key and
	// returns the count so far.
	LoginFailureRecord(ctx context.Context, key string, at time.Time) (int, error)
	// LoginFailureCount returns the consecutive failures of key and when the
	// last one happened (0 and zero time when none).
	LoginFailureCount(ctx context.Context, key string) (int, time.Time, error)
	// LoginFailureReset forgets the failures of key.
	LoginFailureReset(ctx context.Context, key string) error

	// AuditAppend appends one event and returns it with its id.
	AuditAppend(ctx context.Context, e gathering.AuditEvent) (gathering.AuditEvent, error)
	// AuditList returns the events that match, newest first, and the total
	// count of matches.
	AuditList(ctx context.Context, f AuditFilter) ([]gathering.AuditEvent, int, error)
}

// ErrLastAdmin is the message of the ECONFLICT a UserUpdate answers when
// it would leave no active administrator.
const ErrLastAdmin = "Cannot demote or deactivate the last active administrator"

// Page selects a slice of a list.
type Page struct {
	Limit  int
	Offset int
}

// defaultPageLimit is the page size when the caller asks for none.
const defaultPageLimit = 50

// maxListPage caps the page size of the lists that promise at most 500
// items (agents, projects, tasks, runs, tool executions, ...).
const maxListPage = 500

// Bounds returns the LIMIT and OFFSET of p: 50 rows when Limit is not
// positive, from the start when Offset is negative.
func (p Page) Bounds() (limit, offset int) {
	if p.Limit <= 0 {
		p.Limit = defaultPageLimit
	}
	return p.Limit, max(p.Offset, 0)
}

// ListBounds is Bounds with the limit capped at 500 rows, for the lists
// whose page holds at most 500 items.
func (p Page) ListBounds() (limit, offset int) {
	limit, offset = p.Bounds()
	return min(limit, maxListPage), offset
}

// UserCreateParams are the fields of a new user.
type UserCreateParams struct {
	Email        string
	Name         string
	Role         gathering.Role
	PasswordHash string
	IsActive     bool
	At           time.Time // created_at and updated_at
}

// UserUpdateParams change the fields that are not nil.
type UserUpdateParams struct {
	ID           int64
	Name         *string
	Role         *gathering.Role
	IsActive     *bool
	PasswordHash *string
	At           time.Time // the new updated_at
}

// AuditFilter selects audit events; zero fields select everything.
type AuditFilter struct {
	Event   string
	ActorID int64
	Since   time.Time
	Until   time.Time
	Page
}
