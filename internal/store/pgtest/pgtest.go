// Package pgtest gives tests their own PostgreSQL schema or database on the
// test server, and removes it when the test ends.
//
// The server comes from GATHERING_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). A test that
// cannot reach it fails; it never skips. scripts/test.sh starts PostgreSQL.
package pgtest

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the test server used when GATHERING_TEST_DATABASE_URL is
// unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// setupTimeout bounds each administrative step (connect, create, drop).
// CREATE and DROP DATABASE wait for the server's file work and for other
// sessions, which takes seconds when parallel tests load a 2-core machine;
// the bound only catches a server that is stuck.
const setupTimeout = 60 * time.Second

// URL creates a fresh schema t_<random hex> and returns the server URL with
// search_path set to it, so everything the test creates lands there. The
// schema is dropped, with its contents, when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	base := baseURL(t)
	name := randomName()
	exec(t, base, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() { exec(t, base, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE") })
	q := base.Query()
	q.Set("search_path", name)
	u := *base
	u.RawQuery = q.Encode()
	return u.String()
}

// NewDatabase creates a fresh, empty database t_<random hex> from template0
// and returns its URL. The database is dropped, even with sessions still
// connected, when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	base := baseURL(t)
	name := randomName()
	exec(t, base, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0")
	t.Cleanup(func() { exec(t, base, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)") })
	u := *base
	u.Path = "/" + name
	return u.String()
}

// baseURL reads the server URL from the environment.
func baseURL(t testing.TB) *url.URL {
	t.Helper()
	raw := cmp.Or(os.Getenv("GATHERING_TEST_DATABASE_URL"), DefaultURL)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("pgtest: GATHERING_TEST_DATABASE_URL must be a postgres:// URL, got %q", raw)
	}
	return u
}

// exec runs one administrative statement on its own connection. DDL cannot
// take parameters; callers only pass identifiers they generated and quoted.
func exec(t testing.TB, base *url.URL, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, base.String())
	if err != nil {
		t.Fatalf("pgtest: PostgreSQL at %s does not answer: %v\n"+
			"Start it with scripts/test.sh, or point GATHERING_TEST_DATABASE_URL at a server.", base.Redacted(), err)
	}
	defer conn.Close(context.Background())
	// sqlcheck: DDL on names this package generates (identifiers cannot be parameters)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}

// randomName returns t_ and 64 random bits in hex.
func randomName() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return "t_" + hex.EncodeToString(b)
}
