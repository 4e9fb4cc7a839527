package gathering

import (
	"encoding/json"
	"net/netip"
	"time"
)

// Role is what a user or API key may do. Viewers read; members read and
// write domain resources; admins also manage users, others' API keys,
// settings, the audit trail and dangerous tools.
type Role string

// The roles, from least to most privileged.
const (
	RoleViewer Role = "viewer"
	RoleMember Role = "member"
	RoleAdmin  Role = "admin"
)

var roleRank = map[Role]int{RoleViewer: 1, RoleMember: 2, RoleAdmin: 3}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return roleRank[r] > 0 }

// AtLeast reports whether r grants everything min grants.
func (r Role) AtLeast(min Role) bool { return r.Valid() && roleRank[r] >= roleRank[min] }

// User is an account. PasswordHash never leaves the server.
type User struct {
	ID           int64
	Email        string // trimmed, lower case
	Name         string
	Role         Role
	IsActive     bool
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastLoginAt  time.Time // zero when the user never logged in
}

// RefreshToken is one link of a rotating refresh-token family. Only the
// token's hash is stored.
type RefreshToken struct {
	ID        string // random, unique
	FamilyID  string // shared by every token rotated from one login
	UserID    int64
	TokenHash string // SHA-256 of the token, hex
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until rotated; a second use is a reuse
	RevokedAt time.Time // zero unless its family was revoked
}

// APIKey is a personal key for scripts. Only the key's hash is stored; the
// prefix (the first characters after "gth_") identifies it in lists.
type APIKey struct {
	ID         int64
	UserID     int64
	Name       string
	Role       Role // at most the owner's role
	Prefix     string
	KeyHash    string // SHA-256 of the whole key, hex
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never
	LastUsedAt time.Time
	RevokedAt  time.Time
}

// AuditEvent is one append-only entry of the audit trail. It never carries
// a password, token or key.
type AuditEvent struct {
	ID        int64
	At        time.Time
	Event     string
	ActorID   int64      // 0 when anonymous
	ActorIP   netip.Addr // the client's address
	UserAgent string
	RequestID string
	Target    string // what the event is about, e.g. "user:7" or an email
	Details   json.RawMessage
}

// The audit event names.
const (
	AuditLoginSucceeded       = "login_succeeded"
	AuditLoginFailed          = "login_failed"
	AuditLoginThrottled       = "login_throttled"
	AuditLogout               = "logout"
	AuditTokenRefreshed       = "token_refreshed"
	AuditRefreshReuseDetected = "refresh_reuse_detected"
	AuditUserRegistered       = "user_registered"
	AuditUserUpdated          = "user_updated"
	AuditRoleChanged          = "role_changed"
	AuditUserDeactivated      = "user_deactivated"
	AuditAPIKeyCreated        = "api_key_created"
	AuditAPIKeyRevoked        = "api_key_revoked"
	AuditAuthRejected         = "auth_rejected"
	AuditAccessDenied         = "access_denied"
	AuditRateLimited          = "rate_limited"
	AuditProviderKeySet       = "provider_key_set"
	AuditProviderKeyDeleted   = "provider_key_deleted"
)
