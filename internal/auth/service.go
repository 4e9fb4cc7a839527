package auth

import (
	"cmp"
	"log/slog"
	"net/netip"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// MinSecretLen is the shortest signing secret NewService accepts, in bytes.
const MinSecretLen = 32

// Config tunes a Service. The zero value of every field but Secret is a
// useful default.
type Config struct {
	// Secret signs access tokens (HS256); at least MinSecretLen bytes.
	Secret []byte
	// Issuer is the iss claim; empty means DefaultIssuer.
	Issuer string
	// AccessTTL is the access-token lifetime; 0 means 24 h.
	AccessTTL time.Duration
	// RefreshTTL is the refresh-token lifetime; 0 means 30 days.
	RefreshTTL time.Duration
	// BcryptCost is the cost of new password hashes; 0 means
	// DefaultBcryptCost, and below MinBcryptCost is an error.
	BcryptCost int
	// RevocationCacheSize bounds the LRU of revoked token ids; 0 means 10,000.
	RevocationCacheSize int
	// PurgeInterval is how often the Purger deletes expired revocations; 0
	// means 10 min.
	PurgeInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	c.Issuer = cmp.Or(c.Issuer, DefaultIssuer)
	c.AccessTTL = cmp.Or(c.AccessTTL, 24*time.Hour)
	c.RefreshTTL = cmp.Or(c.RefreshTTL, 30*24*time.Hour)
	c.BcryptCost = cmp.Or(c.BcryptCost, DefaultBcryptCost)
	c.RevocationCacheSize = cmp.Or(c.RevocationCacheSize, 10_000)
	c.PurgeInterval = cmp.Or(c.PurgeInterval, 10*time.Minute)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// validate checks a Config that has its defaults.
func (c Config) validate() error {
	switch {
	case len(c.Secret) < MinSecretLen:
		return gathering.Errorf(gathering.EINVALID, "auth secret must be at least %d bytes", MinSecretLen)
	case c.AccessTTL < 0 || c.RefreshTTL < 0 || c.PurgeInterval < 0:
		return gathering.Errorf(gathering.EINVALID, "auth durations must be positive")
	case c.RevocationCacheSize < 0:
		return gathering.Errorf(gathering.EINVALID, "auth revocation cache size must be positive")
	}
	return nil
}

// Service authenticates requests and manages accounts, tokens and API keys.
// It is safe for concurrent use; several Services (instances) may share one
// database.
type Service struct {
	cfg       Config
	st        store.IdentityStore
	log       *slog.Logger
	tokens    *tokenCodec
	revoked   *lru.Cache[string, time.Time]
	dummyHash string
	announce  Announcer // nil: account events are not published
}

// NewService validates cfg and builds a Service on st. It computes one
// bcrypt hash (for unknown emails at login), so it takes as long as one
// password check.
func NewService(cfg Config, st store.IdentityStore, log *slog.Logger) (*Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	dummy, err := HashPassword(randomSecret(), cfg.BcryptCost)
	if err != nil {
		return nil, err
	}
	cache, err := lru.New[string, time.Time](cfg.RevocationCacheSize)
	if err != nil {
		return nil, &gathering.Error{Code: gathering.EINTERNAL, Message: "cannot build revocation cache", Err: err}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{
		cfg:       cfg,
		st:        st,
		log:       log,
		tokens:    newTokenCodec(cfg.Secret, cfg.Issuer, cfg.AccessTTL, cfg.Now),
		revoked:   cache,
		dummyHash: dummy,
	}, nil
}

// now reads the clock.
func (s *Service) now() time.Time { return s.cfg.Now() }

// RequestMeta describes the request behind an operation, for the audit trail.
type RequestMeta struct {
	IP        netip.Addr // the client's address (the socket's, or a trusted proxy's report)
	UserAgent string
	RequestID string
}

// Principal is an authenticated caller.
type Principal struct {
	UserID    int64
	Email     string
	Role      gathering.Role // the role in effect for this request
	TokenID   string         // jti of the access token; empty for an API key
	FamilyID  string         // refresh family of the login; empty for an API key
	ExpiresAt time.Time      // when the credential expires; zero: never
	APIKeyID  int64          // the API key used; 0 for an access token
	User      gathering.User // the account as loaded for this request
}

// TokenPair is what a login or a refresh returns.
type TokenPair struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    int // seconds until the access token expires
	ExpiresAt    time.Time
}
