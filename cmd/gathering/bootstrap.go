package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"time"

	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/config"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// firstAdminEmail is the account development creates when nobody exists.
const firstAdminEmail = "admin@localhost"

// bootstrapAdmin makes sure someone can administer the server:
//   - ADMIN_EMAIL with ADMIN_PASSWORD_HASH creates that administrator when
//     the account does not exist;
//   - in development, an empty database gets admin@localhost with a random
//     password, printed once on standard output (never into the log);
//   - production refuses to start without an active administrator.
func bootstrapAdmin(ctx context.Context, cfg *config.Config, db store.Store, svc *auth.Service, log *slog.Logger, e env) error {
	if cfg.AdminEmail != "" {
		return ensureConfiguredAdmin(ctx, cfg, db, log)
	}
	count, err := db.UserCount(ctx)
	if err != nil {
		return err
	}
	switch {
	case count == 0 && !cfg.Production():
		return createFirstAdmin(ctx, svc, log, e)
	case cfg.Production():
		return requireActiveAdmin(ctx, db)
	}
	return nil
}

func ensureConfiguredAdmin(ctx context.Context, cfg *config.Config, db store.Store, log *slog.Logger) error {
	_, err := db.UserGetByEmail(ctx, auth.NormalizeEmail(cfg.AdminEmail))
	if gathering.ErrorCode(err) != gathering.ENOTFOUND {
		return err
	}
	now := time.Now()
	u, err := db.UserCreate(ctx, store.UserCreateParams{Email: auth.NormalizeEmail(cfg.AdminEmail), Name: "Administrator",
		Role: gathering.RoleAdmin, PasswordHash: cfg.AdminPasswordHash, IsActive: true, At: now})
	if gathering.ErrorCode(err) == gathering.ECONFLICT {
		return nil // another instance starting at the same moment created it
	}
	if err != nil {
		return fmt.Errorf("create the administrator from ADMIN_EMAIL: %w", err)
	}
	log.Info("administrator created from ADMIN_EMAIL", "user_id", u.ID, "email", u.Email)
	return nil
}

func createFirstAdmin(ctx context.Context, svc *auth.Service, log *slog.Logger, e env) error {
	password := rand.Text() // 26 characters, 130 bits
	u, err := svc.Register(ctx, auth.RegisterParams{Email: firstAdminEmail, Password: password, Name: "Administrator", Role: gathering.RoleAdmin}, auth.RequestMeta{})
	if gathering.ErrorCode(err) == gathering.ECONFLICT {
		return nil // another instance starting at the same moment created it
	}
	if err != nil {
		return fmt.Errorf("create the first administrator: %w", err)
	}
	log.Info("first administrator created; its password was printed on standard output", "user_id", u.ID, "email", u.Email)
	fmt.Fprintf(e.stdout, "\nGatheRing created the first administrator (shown once):\n  email:    %s\n  password: %s\nChange it with: gathering user reset-password --email %s\n\n", firstAdminEmail, password, firstAdminEmail)
	return nil
}

// requireActiveAdmin fails unless some active account is an administrator.
func requireActiveAdmin(ctx context.Context, db store.Store) error {
	for offset := 0; ; offset += 200 {
		users, total, err := db.UserList(ctx, store.Page{Limit: 200, Offset: offset})
		if err != nil {
			return err
		}
		for _, u := range users {
			if u.IsActive && u.Role == gathering.RoleAdmin {
				return nil
			}
		}
		if offset+len(users) >= total || len(users) == 0 {
			return fmt.Errorf("production needs an administrator: set ADMIN_EMAIL and ADMIN_PASSWORD_HASH, or run `gathering user create --email you@example.com --role admin`")
		}
	}
}
