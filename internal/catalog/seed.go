// Package catalog holds GatheRing's built-in providers, models and personas
// and seeds them into a store. Seeding adds what is missing and never
// overwrites an administrator's changes.
package catalog

import (
	"context"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// Seeder is the part of the store seeding needs.
type Seeder interface {
	ProviderGet(ctx context.Context, name string) (store.Provider, error)
	ProviderPut(ctx context.Context, p store.Provider) (store.Provider, error)
	ModelFind(ctx context.Context, provider, nameOrAlias string) (store.Model, error)
	ModelPut(ctx context.Context, m store.Model) (store.Model, error)
	PersonaCreate(ctx context.Context, p store.Persona) (store.Persona, error)
}

// Seed adds the built-in providers, models and personas that the store
// does not have yet, and reports how many it added.
func Seed(ctx context.Context, st Seeder, now time.Time) (int, error) {
	added := 0
	for _, p := range Providers {
		n, err := seedProvider(ctx, st, p, now)
		if err != nil {
			return added, err
		}
		added += n
	}
	for _, m := range Models {
		n, err := seedModel(ctx, st, m, now)
		if err != nil {
			return added, err
		}
		added += n
	}
	for _, p := range Personas {
		p.IsBuiltin, p.CreatedAt, p.UpdatedAt = true, now, now
		switch _, err := st.PersonaCreate(ctx, p); {
		case err == nil:
			added++
		case gathering.ErrorCode(err) != gathering.ECONFLICT:
			return added, err
		}
	}
	return added, nil
}

func seedProvider(ctx context.Context, st Seeder, p store.Provider, now time.Time) (int, error) {
	_, err := st.ProviderGet(ctx, p.Name)
	if gathering.ErrorCode(err) != gathering.ENOTFOUND {
		return 0, err
	}
	p.IsBuiltin, p.CreatedAt, p.UpdatedAt = true, now, now
	_, err = st.ProviderPut(ctx, p)
	return 1, err
}

func seedModel(ctx context.Context, st Seeder, m store.Model, now time.Time) (int, error) {
	_, err := st.ModelFind(ctx, m.Provider, m.Name)
	if gathering.ErrorCode(err) != gathering.ENOTFOUND {
		return 0, err
	}
	m.IsBuiltin, m.CreatedAt, m.UpdatedAt = true, now, now
	_, err = st.ModelPut(ctx, m)
	return 1, err
}
