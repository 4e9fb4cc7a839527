package store

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Migration is one embedded, versioned schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

var migrationFile = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// LoadMigrations reads every NNNN_name.sql file in dir of fsys, in version
// order. Versions must start at 1 and have no gaps or duplicates, so that
// the two backends stay numbered in step.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	fsys, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		m := migrationFile.FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			return nil, fmt.Errorf("migration %q: name must look like 0001_create_things.sql", e.Name())
		}
		sql, err := fs.ReadFile(fsys, path.Clean(e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		v, _ := strconv.Atoi(m[1])
		out = append(out, Migration{Version: v, Name: m[2], SQL: string(sql)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: expected version %d (versions start at 1, without gaps)", m.Version, m.Name, i+1)
		}
	}
	return out, nil
}

// NewInstallationID returns a random 128-bit installation id in hex.
func NewInstallationID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// MigrationStates merges the migrations a binary embeds with the versions a
// database has recorded (version → applied time), in version order.
func MigrationStates(known []Migration, applied map[int]time.Time) []MigrationState {
	var out []MigrationState
	for _, m := range known {
		out = append(out, MigrationState{Version: m.Version, Name: m.Name, Applied: applied[m.Version], Known: true})
	}
	for v, at := range applied {
		if v > len(known) || v < 1 {
			out = append(out, MigrationState{Version: v, Name: "unknown", Applied: at})
		}
	}
	slices.SortFunc(out, func(a, b MigrationState) int { return a.Version - b.Version })
	return out
}
