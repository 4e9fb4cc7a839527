package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/memory"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/sqlitestore"
)

// withStore opens the SQLite database of a data directory, migrated, for
// fn, and closes it (a command needs the file to itself).
func withStore(t *testing.T, dir string, fn func(st store.Store)) {
	t.Helper()
	st, err := sqlitestore.Open(t.Context(), sqlitestore.Config{Path: filepath.Join(dir, "gathering.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	fn(st)
}

// TestMemoryReembed stores entries made by a 64-dimension local embedder,
// then re-embeds them with the configured one (local, 384) by agent, then
// the rest.
func TestMemoryReembed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	vars := map[string]string{"GATHERING_DATA_DIR": dir}
	if code, stdout, stderr := runCommand(t, vars, "memory", "reembed"); code != exitOK || stdout != "re-embedded 0 entries with local-ngram-384\n" {
		t.Fatalf("on a fresh database: %d %q %s", code, stdout, stderr)
	}
	var ids []int64
	withStore(t, dir, func(st store.Store) {
		ms, err := memory.Remember(context.Background(), st, memory.NewLocal(64), []store.Memory{
			{Scope: store.ScopeAgent, AgentID: 1, Type: store.MemoryFact, Content: "Ada prefers green tea."},
			{Scope: store.ScopeAgent, AgentID: 1, Type: store.MemoryEpisode, Content: "The deploy failed on Friday."},
			{Scope: store.ScopeAgent, AgentID: 2, Type: store.MemoryFact, Content: "Bob writes Go."},
			{Scope: store.ScopeKnowledge, Type: store.MemoryKnowledge, Content: "Rotate keys every ninety days.", Title: "Keys", DocumentID: "d1"},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			ids = append(ids, m.ID)
		}
	})
	for _, step := range []struct {
		args []string
		want string
	}{
		{[]string{"--agent-id", "1"}, "re-embedded 2 entries"},
		{[]string{"--scope", "knowledge"}, "re-embedded 1 entry"},
		{nil, "re-embedded 1 entry"},
		{nil, "re-embedded 0 entries"},
	} {
		code, stdout, stderr := runCommand(t, vars, append([]string{"memory", "reembed"}, step.args...)...)
		if code != exitOK || !strings.HasPrefix(stdout, step.want+" with local-ngram-384") {
			t.Fatalf("%v: %d %q %s", step.args, code, stdout, stderr)
		}
	}
	withStore(t, dir, func(st store.Store) {
		for _, id := range ids {
			if m, err := st.MemoryGet(t.Context(), id); err != nil || m.Embedder != "local-ngram-384" || len(m.Vector) != 384 {
				t.Errorf("memory %d: %q %d %v", id, m.Embedder, len(m.Vector), err)
			}
		}
	})
}

func TestMemoryReembedRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	vars := map[string]string{"GATHERING_DATA_DIR": dir}
	for _, args := range [][]string{{"--scope", "everything"}, {"--scope", "knowledge", "--agent-id", "1"}, {"--agent-id", "-1"}} {
		if code, _, stderr := runCommand(t, vars, append([]string{"memory", "reembed"}, args...)...); code != exitUsage || !strings.Contains(stderr, "memory reembed: --") {
			t.Errorf("%v: %d %s", args, code, stderr)
		}
	}
	if code, _, _ := runCommand(t, vars, "memory", "forget"); code != exitUsage {
		t.Errorf("unknown memory action: %d", code)
	}
	// A provider embedder without a key fails when it is first used, saying
	// what to set.
	withStore(t, dir, func(st store.Store) {
		_, err := memory.Remember(context.Background(), st, memory.NewLocal(0), []store.Memory{{Scope: store.ScopeAgent, AgentID: 1, Type: store.MemoryFact, Content: "x"}})
		if err != nil {
			t.Fatal(err)
		}
	})
	vars["GATHERING_EMBEDDER"] = "provider:openai:text-embedding-3-small:1536"
	code, _, stderr := runCommand(t, vars, "memory", "reembed")
	if code != exitError || !strings.Contains(stderr, "OPENAI_API_KEY") || !strings.Contains(stderr, "before the failure: 0") {
		t.Fatalf("without a key: %d %s", code, stderr)
	}
}
