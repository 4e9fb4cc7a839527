package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/gathering/gathering/internal/config"
	"github.com/gathering/gathering/internal/memory"
	"github.com/gathering/gathering/internal/store"
)

const memoryHelp = `Maintain agents' memories and the knowledge base (works on a fresh
database: it migrates first).

  gathering memory reembed [--scope agent|knowledge] [--agent-id N]

reembed gives every entry that the configured embedder (GATHERING_EMBEDDER)
did not make a new vector from it, and prints how many it changed. Recall
compares only the vectors of one embedder, so run it after changing
GATHERING_EMBEDDER. Without --scope it covers everything; --agent-id
narrows it to one agent's memories. If it fails part way (a provider down),
run it again: it carries on where it stopped. On SQLite, stop the server
first (it holds the database file).`

func memoryCommand(ctx context.Context, args []string, e env) int {
	if len(args) == 0 || args[0] != "reembed" {
		newFlagSet("memory", memoryHelp, e).Usage()
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return exitOK
		}
		return exitUsage
	}
	fs := newFlagSet("memory reembed", memoryHelp, e)
	scope := fs.String("scope", "", "agent or knowledge (default: both)")
	agentID := fs.Int64("agent-id", 0, "only this agent's memories (implies --scope agent)")
	cfg, code := loadConfig(fs, args[1:], e)
	if cfg == nil {
		return code
	}
	filter, err := reembedFilter(store.MemoryScope(*scope), *agentID)
	if err != nil {
		fmt.Fprintf(e.stderr, "gathering: memory reembed: %v\n", err)
		return exitUsage
	}
	n, name, err := reembed(ctx, cfg, filter, e)
	if err != nil {
		return fail(e, "memory reembed: %s (re-embedded before the failure: %d)", describe(err), n)
	}
	entries := "entries"
	if n == 1 {
		entries = "entry"
	}
	fmt.Fprintf(e.stdout, "re-embedded %d %s with %s\n", n, entries, name)
	return exitOK
}

// reembedFilter selects the entries of the flags.
func reembedFilter(scope store.MemoryScope, agentID int64) (store.MemoryFilter, error) {
	switch {
	case scope != "" && scope != store.ScopeAgent && scope != store.ScopeKnowledge:
		return store.MemoryFilter{}, fmt.Errorf("--scope %q is not agent or knowledge", scope)
	case agentID < 0:
		return store.MemoryFilter{}, errors.New("--agent-id must be a positive agent id")
	case agentID > 0 && scope == store.ScopeKnowledge:
		return store.MemoryFilter{}, errors.New("--agent-id selects an agent's memories: it cannot go with --scope knowledge")
	case agentID > 0:
		scope = store.ScopeAgent
	}
	return store.MemoryFilter{Scope: scope, AgentID: agentID}, nil
}

// reembed opens and migrates the database, builds the configured embedder
// and re-embeds the entries of f with it; it returns how many it changed
// and the embedder's name.
func reembed(ctx context.Context, cfg *config.Config, f store.MemoryFilter, e env) (int, string, error) {
	if err := cfg.ResolveSecret(); err != nil {
		return 0, "", err
	}
	db, err := openMigrated(ctx, cfg)
	if err != nil {
		return 0, "", err
	}
	defer db.Close()
	providers, _, err := newProviders(ctx, cfg, db, slog.New(slog.DiscardHandler), e.getenv, nil)
	if err != nil {
		return 0, "", err
	}
	emb, err := newEmbedder(cfg, providers)
	if err != nil {
		return 0, "", err
	}
	n, err := memory.Reembed(ctx, db, f, emb)
	return n, emb.Name(), err
}
