package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/config"
	"github.com/gathering/gathering/internal/httpapi"
	"github.com/gathering/gathering/internal/ratelimit"
	"github.com/gathering/gathering/internal/startstop"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/pgstore"
	"github.com/gathering/gathering/internal/store/sqlitestore"
)

// loadConfig parses a command's flags and the environment. On failure it
// prints every problem and returns the exit code to use.
func loadConfig(fs *flag.FlagSet, args []string, e env) (*config.Config, int) {
	cfg, err := config.Load(fs, args, e.getenv)
	var problems config.Problems
	switch {
	case err == nil:
		return cfg, exitOK
	case errors.As(err, &problems):
		return nil, fail(e, "%v", problems)
	default:
		return nil, flagExit(err)
	}
}

// openStore opens PostgreSQL when DATABASE_URL is set, else the embedded
// SQLite file in the data directory.
func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	if cfg.DatabaseURL != "" {
		s, err := pgstore.Open(ctx, pgstore.Config{
			URL:              cfg.DatabaseURL,
			MaxConns:         int32(cfg.DBMaxConns),
			StatementTimeout: cfg.DBStatementTimeout,
		})
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL: %w", err)
		}
		return s, nil
	}
	s, err := sqlitestore.Open(ctx, sqlitestore.Config{Path: cfg.SQLitePath(), ReadConns: cfg.DBMaxConns})
	if err != nil {
		return nil, fmt.Errorf("open SQLite: %w", err)
	}
	return s, nil
}

// newAuthService builds the identity service from the configuration.
func newAuthService(cfg *config.Config, db store.Store, log *slog.Logger) (*auth.Service, error) {
	return auth.NewService(auth.Config{
		Secret:     []byte(cfg.SecretKey),
		AccessTTL:  cfg.AccessTokenTTL,
		RefreshTTL: cfg.RefreshTokenTTL,
		BcryptCost: cfg.BcryptCost,
	}, db, log)
}

// maxLimiterKeys bounds the in-memory rate limiter.
const maxLimiterKeys = 100_000

// newLimiter returns the rate limiter: in memory, or in Redis (falling back
// to memory while Redis is down) when REDIS_URL is set. The second result is
// the component to start and stop, if any.
func newLimiter(cfg *config.Config, log *slog.Logger) (ratelimit.Limiter, startstop.Service, error) {
	memory := ratelimit.NewMemory(maxLimiterKeys, time.Now)
	if cfg.RedisURL == "" {
		return memory, nil, nil
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	opts.ContextTimeoutEnabled = true // so each call's short deadline holds against a hung Redis
	client := redis.NewClient(opts)
	fallback := ratelimit.NewFallback(ratelimit.NewRedis(client, cfg.RedisPrefix+"ratelimit:"), memory, log, ratelimit.FallbackConfig{})
	return fallback, redisLimiter{fallback, client}, nil
}

// redisLimiter stops the fallback's prober, then closes the Redis client.
type redisLimiter struct {
	*ratelimit.Fallback
	client *redis.Client
}

func (r redisLimiter) Stop(ctx context.Context) error {
	return errors.Join(r.Fallback.Stop(ctx), r.client.Close())
}

// rates parses the rate tiers (Load has validated them).
func rates(cfg *config.Config) (map[httpapi.Tier]ratelimit.Rate, error) {
	out := map[httpapi.Tier]ratelimit.Rate{}
	for tier, spec := range map[httpapi.Tier]string{httpapi.TierAuth: cfg.RateLimitAuth, httpapi.TierWrite: cfg.RateLimitWrite,
		httpapi.TierRead: cfg.RateLimitRead, httpapi.TierHealth: cfg.RateLimitHealth} {
		r, err := ratelimit.ParseRate(spec)
		if err != nil {
			return nil, fmt.Errorf("GATHERING_RATE_LIMIT_%s: %w", strings.ToUpper(tier.String()), err)
		}
		out[tier] = r
	}
	return out, nil
}

// trustedProxies parses GATHERING_TRUSTED_PROXIES (Load has validated it).
func trustedProxies(cfg *config.Config) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range cfg.TrustedProxies {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out
}

// openMigrated opens the database and applies pending migrations.
func openMigrated(ctx context.Context, cfg *config.Config) (store.Store, error) {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return db, nil
}
