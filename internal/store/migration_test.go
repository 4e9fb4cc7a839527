package store

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	ms, err := LoadMigrations(fstest.MapFS{
		"m/0002_add_things.sql": {Data: []byte("CREATE TABLE things (id INT);")},
		"m/0001_init.sql":       {Data: []byte("CREATE TABLE meta (k TEXT);")},
	}, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Version != 1 || ms[1].Name != "add_things" || !strings.Contains(ms[1].SQL, "things") {
		t.Fatalf("loaded %+v", ms)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"gap":       {"0001_a.sql": {}, "0003_c.sql": {}},
		"no start":  {"0002_b.sql": {}},
		"bad name":  {"0001_A-B.sql": {}},
		"duplicate": {"0001_a.sql": {}, "0001_b.sql": {}},
		"stray":     {"0001_a.sql": {}, "README": {}},
	} {
		if _, err := LoadMigrations(fsys, "."); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestMigrationStates(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	known := []Migration{{Version: 1, Name: "init"}, {Version: 2, Name: "more"}}
	states := MigrationStates(known, map[int]time.Time{1: at, 3: at})
	if len(states) != 3 {
		t.Fatalf("states %+v", states)
	}
	if states[0].Pending() || !states[1].Pending() || states[2].Known || states[2].Version != 3 {
		t.Fatalf("states %+v", states)
	}
}
