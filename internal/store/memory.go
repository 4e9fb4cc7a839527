package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// MemoryStore keeps agents' memories and the knowledge base, each entry
// with the vector of its text.
type MemoryStore interface {
	// MemoryCreate inserts entries (in one transaction) and returns them
	// with their ids, in order; the ID of each given entry is ignored.
	// EINVALID, and nothing stored, when an entry has an unknown scope or
	// type or Metadata that is neither nil nor valid JSON. No entries is
	// not an error.
	MemoryCreate(ctx context.Context, ms []Memory) ([]Memory, error)
	// MemoryGet returns one entry with its vector, or ENOTFOUND.
	MemoryGet(ctx context.Context, id int64) (Memory, error)
	// MemoryDelete deletes one entry; ENOTFOUND.
	MemoryDelete(ctx context.Context, id int64) error
	// MemoryDeleteMatching deletes, in one statement, every entry that
	// matches f, and returns how many; an empty filter is EINVALID (it would
	// match everything).
	MemoryDeleteMatching(ctx context.Context, f MemoryFilter) (int, error)
	// MemoryList returns the entries that match, newest first (by
	// CreatedAt, then ID), without their vectors (Vector is nil), and the
	// total count of matches. A page holds 50 entries when Limit is not
	// positive.
	MemoryList(ctx context.Context, f MemoryFilter, p Page) ([]Memory, int, error)
	// MemoryScan calls fn for every entry that matches, with its vector, in
	// id order, reading in batches so memory stays bounded; an error from
	// fn stops the scan and is returned as is. Exact search ranks what it
	// sees. No transaction or open result set is held while fn runs, so fn
	// may call the store; an entry created during the scan may be seen
	// when its id is above the last one read.
	MemoryScan(ctx context.Context, f MemoryFilter, fn func(Memory) error) error
	// MemoryScanVectors is MemoryScan reading only what ranking needs: id,
	// vector, importance, created and last-accessed times. It calls fn for
	// every entry that matches, in id order, in bounded batches, with no
	// transaction or open result set held while fn runs; an error from fn
	// stops the scan and is returned as is.
	MemoryScanVectors(ctx context.Context, f MemoryFilter, fn func(MemoryVector) error) error
	// MemoryGetMany returns the entries with these ids, without vectors, in
	// the order of ids; ids that do not exist are left out, and an id listed
	// twice is returned twice. No ids is not an error. It reads in one query.
	MemoryGetMany(ctx context.Context, ids []int64) ([]Memory, error)
	// MemoryTouch records that entries were recalled: access count + 1,
	// last accessed at at, in one statement. Ids that do not exist are
	// skipped; no ids is not an error.
	MemoryTouch(ctx context.Context, ids []int64, at time.Time) error
	// MemorySetVector replaces an entry's vector and embedder (re-embed);
	// ENOTFOUND.
	MemorySetVector(ctx context.Context, id int64, embedder string, vector []float32) error
	// MemoryStats counts the entries that match, by memory type, and by
	// embedder. Its maps are never nil.
	MemoryStats(ctx context.Context, f MemoryFilter) (MemoryStats, error)
}

// MemoryScope separates an agent's own memories from the knowledge base.
type MemoryScope string

// The memory scopes.
const (
	ScopeAgent     MemoryScope = "agent"
	ScopeKnowledge MemoryScope = "knowledge"
)

// MemoryType is the one enumeration of memory types, shared by the API and
// storage.
type MemoryType string

// The memory types.
const (
	MemoryFact       MemoryType = "fact"
	MemoryPreference MemoryType = "preference"
	MemoryEpisode    MemoryType = "episode"   // something that happened
	MemoryTask       MemoryType = "task"      // something to do or done
	MemoryLearning   MemoryType = "learning"  // a lesson or insight
	MemoryDocument   MemoryType = "document"  // a chunk of an uploaded document
	MemoryKnowledge  MemoryType = "knowledge" // a knowledge-base entry
)

// MemoryTypes lists every memory type.
var MemoryTypes = []MemoryType{MemoryFact, MemoryPreference, MemoryEpisode, MemoryTask, MemoryLearning, MemoryDocument, MemoryKnowledge}

// Valid reports whether t is a known memory type.
func (t MemoryType) Valid() bool {
	for _, k := range MemoryTypes {
		if t == k {
			return true
		}
	}
	return false
}

// Memory is one remembered text with its vector.
type Memory struct {
	ID         int64
	Scope      MemoryScope
	AgentID    int64 // the agent it belongs to; 0 for the knowledge base
	Type       MemoryType
	Content    string
	Title      string // knowledge: the entry's or document's title
	Source     string // knowledge: where it came from (file name, URL)
	Category   string // knowledge: a free grouping
	DocumentID string // the uploaded document a chunk belongs to; "" when none
	ChunkIndex int    // the chunk's position in its document
	Importance float64
	Tags       []string        // nil when none (an empty list is read back as nil)
	Metadata   json.RawMessage // a JSON object; nil when none
	Embedder   string          // the embedder that made Vector ("local-ngram-384", "openai:text-embedding-3-small")
	Vector     []float32       // length is the embedder's dimension; stored as EncodeVector
	CreatedAt  time.Time
	// LastAccessedAt is when it was last recalled; zero if never.
	LastAccessedAt time.Time
	AccessCount    int
}

// MemoryVector is what ranking reads of an entry (MemoryScanVectors): its
// id, vector and the fields a score blends in, and nothing else.
type MemoryVector struct {
	ID         int64
	Vector     []float32 // as Memory.Vector
	Importance float64
	CreatedAt  time.Time
	// LastAccessedAt is when it was last recalled; zero if never.
	LastAccessedAt time.Time
}

// MemoryFilter selects memories; zero fields match everything.
type MemoryFilter struct {
	Scope      MemoryScope
	AgentID    int64
	Type       MemoryType
	Category   string
	DocumentID string
	Embedder   string
}

// MemoryStats counts memories.
type MemoryStats struct {
	Total      int
	ByType     map[MemoryType]int
	ByEmbedder map[string]int
}

// Check refuses with EINVALID an entry of an unknown scope or type, or
// whose Metadata is neither nil nor valid JSON.
func (m Memory) Check() error {
	switch {
	case m.Scope != ScopeAgent && m.Scope != ScopeKnowledge:
		return gathering.Errorf(gathering.EINVALID, "memory: unknown scope %q", m.Scope)
	case !m.Type.Valid():
		return gathering.Errorf(gathering.EINVALID, "memory: unknown type %q", m.Type)
	case m.Metadata != nil && !json.Valid(m.Metadata):
		return gathering.Errorf(gathering.EINVALID, "memory: metadata is not valid JSON")
	}
	return nil
}

// MemoriesInIDOrder returns the entries of found in the order of ids, an
// entry as many times as its id is listed; ids not found are left out.
func MemoriesInIDOrder(ids []int64, found []Memory) []Memory {
	byID := make(map[int64]Memory, len(found))
	for _, m := range found {
		byID[m.ID] = m
	}
	out := make([]Memory, 0, len(found))
	for _, id := range ids {
		if m, ok := byID[id]; ok {
			out = append(out, m)
		}
	}
	return out
}
