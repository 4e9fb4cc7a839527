package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// memoryColumns are the columns scanMemory reads, in order, without the
// vector.
const memoryColumns = `id, scope, agent_id, type, content, title, source, category, document_id, chunk_index,
	importance, tags, metadata, embedder, created_at, last_accessed_at, access_count`

// memoryInsert is the statement that stores one entry.
const memoryInsert = `INSERT INTO memories (scope, agent_id, type, content, title, source, category, document_id,
	     chunk_index, importance, tags, metadata, embedder, dimension, vector, created_at, last_accessed_at,
	     access_count)
	 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// memoryVectorColumns are the columns scanMemoryVector reads, in order:
// what ranking needs.
const memoryVectorColumns = `id, vector, importance, created_at, last_accessed_at`

// memoryScanBatch is how many entries MemoryScan and MemoryScanVectors read
// at a time.
const memoryScanBatch = 500

// vectorInto scans a stored vector (store.EncodeVector) into *v. As a
// sql.Scanner it is handed the driver's blob itself and decodes it there,
// without the copy database/sql makes for a []byte destination.
type vectorInto struct{ v *[]float32 }

// Scan implements sql.Scanner.
func (d vectorInto) Scan(src any) (err error) {
	b, ok := src.([]byte)
	if !ok && src != nil {
		return fmt.Errorf("stored vector is a %T, not a blob", src)
	}
	*d.v, err = store.DecodeVector(b)
	return err
}

// scanMemory reads one memories row, with its vector when withVector (the
// vector column then comes last).
func scanMemory(row scanner, withVector bool) (store.Memory, error) {
	var m store.Memory
	var agent, accessed sql.NullInt64
	var tags string
	var metadata sql.NullString
	var created int64
	dest := []any{&m.ID, &m.Scope, &agent, &m.Type, &m.Content, &m.Title, &m.Source, &m.Category, &m.DocumentID,
		&m.ChunkIndex, &m.Importance, &tags, &metadata, &m.Embedder, &created, &accessed, &m.AccessCount}
	if withVector {
		dest = append(dest, vectorInto{&m.Vector})
	}
	if err := row.Scan(dest...); err != nil {
		return m, err
	}
	m.AgentID, m.Metadata, m.CreatedAt, m.LastAccessedAt = agent.Int64, rawJSON(metadata), fromMS(created), fromNullMS(accessed)
	var err error
	m.Tags, err = decodeTags(tags)
	return m, err
}

// scanMemoryVector reads one row of memoryVectorColumns.
func scanMemoryVector(row scanner) (store.MemoryVector, error) {
	var v store.MemoryVector
	var created int64
	var accessed sql.NullInt64
	if err := row.Scan(&v.ID, vectorInto{&v.Vector}, &v.Importance, &created, &accessed); err != nil {
		return v, err
	}
	v.CreatedAt, v.LastAccessedAt = fromMS(created), fromNullMS(accessed)
	return v, nil
}

// decodeTags reads stored tags: nil for an empty array.
func decodeTags(s string) ([]string, error) {
	tags, err := parseList(s)
	if err != nil || len(tags) == 0 {
		return nil, err
	}
	return tags, nil
}

// MemoryCreate checks every entry, then inserts them in one transaction
// and returns them with their ids, in order; EINVALID (and nothing stored)
// when one of them is invalid.
func (s *Store) MemoryCreate(ctx context.Context, ms []store.Memory) ([]store.Memory, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	for _, m := range ms {
		if err := m.Check(); err != nil {
			return nil, err
		}
	}
	out := slices.Clone(ms)
	if err := s.insertMemories(ctx, out); err != nil {
		return nil, translate(err, "create %d memories", len(ms))
	}
	return out, nil
}

// insertMemories inserts ms in one transaction with one prepared statement,
// setting their ids.
func (s *Store) insertMemories(ctx context.Context, ms []store.Memory) error {
	tx, err := s.write.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the one writer
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, memoryInsert)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i, m := range ms {
		// sqlcheck: a prepared statement, called with values only
		res, err := stmt.ExecContext(ctx, m.Scope, nullID(m.AgentID), m.Type, m.Content, m.Title, m.Source,
			m.Category, m.DocumentID, m.ChunkIndex, m.Importance, listJSON(m.Tags), nullJSON(m.Metadata),
			m.Embedder, len(m.Vector), store.EncodeVector(m.Vector), m.CreatedAt.UnixMilli(),
			nullMS(m.LastAccessedAt), m.AccessCount)
		if err != nil {
			return err
		}
		if ms[i].ID, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// MemoryGet returns one entry with its vector, or ENOTFOUND.
func (s *Store) MemoryGet(ctx context.Context, id int64) (store.Memory, error) {
	m, err := scanMemory(s.read.QueryRowContext(ctx, `SELECT `+memoryColumns+`, vector FROM memories WHERE id = ?`, id), true)
	return m, translate(err, "get memory %d", id)
}

// MemoryDelete deletes one entry; ENOTFOUND.
func (s *Store) MemoryDelete(ctx context.Context, id int64) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM memories WHERE id = ?`, id)
	return affectedOne(res, err, "delete memory %d", id)
}

// MemoryDeleteMatching deletes every entry that matches f in one statement
// and returns how many; an empty filter is EINVALID.
func (s *Store) MemoryDeleteMatching(ctx context.Context, f store.MemoryFilter) (int, error) {
	if f == (store.MemoryFilter{}) {
		return 0, gathering.Errorf(gathering.EINVALID, "Deleting memories needs a filter.")
	}
	where, args := memoryWhere(f)
	// sqlcheck: where holds only memoryWhere's fixed conditions; values are parameters
	res, err := s.write.ExecContext(ctx, `DELETE FROM memories`+where, args...)
	if err != nil {
		return 0, translate(err, "delete memories")
	}
	n, err := res.RowsAffected()
	return int(n), translate(err, "delete memories")
}

// MemoryList returns the entries that match, newest first (by CreatedAt,
// then id), without their vectors, and the total count of matches. A page
// holds 50 entries when Limit is not positive.
func (s *Store) MemoryList(ctx context.Context, f store.MemoryFilter, p store.Page) ([]store.Memory, int, error) {
	where, args := memoryWhere(f)
	var total int
	// sqlcheck: where holds only memoryWhere's fixed conditions; values are parameters
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM memories`+where, args...).Scan(&total); err != nil {
		return nil, 0, translate(err, "count memories")
	}
	limit, offset := p.Bounds()
	// sqlcheck: where holds only memoryWhere's fixed conditions; values are parameters
	rows, err := s.read.QueryContext(ctx, `SELECT `+memoryColumns+` FROM memories`+where+`
		 ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, translate(err, "list memories")
	}
	list, err := collect(rows, func(row scanner) (store.Memory, error) { return scanMemory(row, false) })
	return list, total, translate(err, "list memories")
}

// MemoryScan calls fn for every entry that matches, with its vector, in id
// order. It reads batches of memoryScanBatch by keyset (id > the last one
// seen) from the read pool, each batch read whole and its rows closed
// before fn sees it, so no connection or transaction is held while fn runs
// and fn may use the store. Entries created during the scan with a higher
// id may be seen.
func (s *Store) MemoryScan(ctx context.Context, f store.MemoryFilter, fn func(store.Memory) error) error {
	return scanBatches(func(after int64) ([]store.Memory, error) { return s.memoryBatch(ctx, f, after) },
		func(m store.Memory) int64 { return m.ID }, fn)
}

// MemoryScanVectors is MemoryScan reading only memoryVectorColumns, batch
// by batch alike.
func (s *Store) MemoryScanVectors(ctx context.Context, f store.MemoryFilter, fn func(store.MemoryVector) error) error {
	return scanBatches(func(after int64) ([]store.MemoryVector, error) { return s.vectorBatch(ctx, f, after) },
		func(v store.MemoryVector) int64 { return v.ID }, fn)
}

// scanBatches calls fn for every item of the batches read returns: read
// gets the id of the last item of the batch before (0 at first) and returns
// at most memoryScanBatch items by id, read whole with their rows closed.
// It stops after a short batch, or at the first error of read or fn.
func scanBatches[T any](read func(after int64) ([]T, error), id func(T) int64, fn func(T) error) error {
	var after int64
	for {
		batch, err := read(after)
		if err != nil {
			return translate(err, "scan memories")
		}
		for _, x := range batch {
			if err := fn(x); err != nil {
				return err
			}
		}
		if len(batch) < memoryScanBatch {
			return nil
		}
		after = id(batch[len(batch)-1])
	}
}

// memoryBatch reads the next batch of MemoryScan: the entries that match f
// with an id above after, with their vectors, by id.
func (s *Store) memoryBatch(ctx context.Context, f store.MemoryFilter, after int64) ([]store.Memory, error) {
	where, args := memoryWhere(f)
	// sqlcheck: where holds only memoryWhere's fixed conditions; values are parameters
	rows, err := s.read.QueryContext(ctx, `SELECT `+memoryColumns+`, vector FROM memories`+where+`
		 AND id > ? ORDER BY id LIMIT ?`, append(args, after, memoryScanBatch)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row scanner) (store.Memory, error) { return scanMemory(row, true) })
}

// vectorBatch reads the next batch of MemoryScanVectors: the ranking
// inputs of the entries that match f with an id above after, by id.
func (s *Store) vectorBatch(ctx context.Context, f store.MemoryFilter, after int64) ([]store.MemoryVector, error) {
	where, args := memoryWhere(f)
	// sqlcheck: where holds only memoryWhere's fixed conditions; values are parameters
	rows, err := s.read.QueryContext(ctx, `SELECT `+memoryVectorColumns+` FROM memories`+where+`
		 AND id > ? ORDER BY id LIMIT ?`, append(args, after, memoryScanBatch)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanMemoryVector)
}

// MemoryGetMany returns the entries with these ids, without vectors, in
// the order of ids, read in one query (the ids as one JSON array);
// missing ids are left out.
func (s *Store) MemoryGetMany(ctx context.Context, ids []int64) ([]store.Memory, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+memoryColumns+` FROM memories WHERE id IN (SELECT value FROM json_each(?))`, jsonIDs(ids))
	if err != nil {
		return nil, translate(err, "get %d memories", len(ids))
	}
	found, err := collect(rows, func(row scanner) (store.Memory, error) { return scanMemory(row, false) })
	if err != nil {
		return nil, translate(err, "get %d memories", len(ids))
	}
	return store.MemoriesInIDOrder(ids, found), nil
}

// memoryWhere builds the WHERE clause of f from fixed conditions, one per
// set field, with the values as parameters. The clause is never empty, so a
// caller may add "AND …" conditions.
func memoryWhere(f store.MemoryFilter) (string, []any) {
	conds := []string{"true"}
	var args []any
	add := func(cond string, value any) {
		conds = append(conds, cond)
		args = append(args, value)
	}
	if f.Scope != "" {
		add("scope = ?", string(f.Scope))
	}
	if f.AgentID != 0 {
		add("agent_id = ?", f.AgentID)
	}
	if f.Type != "" {
		add("type = ?", string(f.Type))
	}
	if f.Category != "" {
		add("category = ?", f.Category)
	}
	if f.DocumentID != "" {
		add("document_id = ?", f.DocumentID)
	}
	if f.Embedder != "" {
		add("embedder = ?", f.Embedder)
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// jsonIDs is the JSON array of ids, the one parameter json_each reads a
// list from.
func jsonIDs(ids []int64) string {
	b, _ := json.Marshal(ids) // marshaling integers cannot fail
	return string(b)
}

// MemoryTouch adds one to the access count of every listed entry and sets
// its last access to at, in one statement; ids that do not exist are
// skipped.
func (s *Store) MemoryTouch(ctx context.Context, ids []int64, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.write.ExecContext(ctx,
		`UPDATE memories SET access_count = access_count + 1, last_accessed_at = ?2
		 WHERE id IN (SELECT value FROM json_each(?1))`, jsonIDs(ids), at.UnixMilli())
	return translate(err, "touch %d memories", len(ids))
}

// MemorySetVector replaces an entry's vector, its dimension and embedder;
// ENOTFOUND.
func (s *Store) MemorySetVector(ctx context.Context, id int64, embedder string, vector []float32) error {
	res, err := s.write.ExecContext(ctx, `UPDATE memories SET embedder = ?, dimension = ?, vector = ? WHERE id = ?`,
		embedder, len(vector), store.EncodeVector(vector), id)
	return affectedOne(res, err, "set the vector of memory %d", id)
}

// MemoryStats counts the entries that match f, by type and by embedder, in
// one grouped query. The maps are never nil.
func (s *Store) MemoryStats(ctx context.Context, f store.MemoryFilter) (store.MemoryStats, error) {
	st := store.MemoryStats{ByType: map[store.MemoryType]int{}, ByEmbedder: map[string]int{}}
	where, args := memoryWhere(f)
	// sqlcheck: where holds only memoryWhere's fixed conditions; values are parameters
	rows, err := s.read.QueryContext(ctx,
		`SELECT type, embedder, count(*) FROM memories`+where+` GROUP BY type, embedder`, args...)
	if err != nil {
		return st, translate(err, "count memories")
	}
	defer rows.Close()
	for rows.Next() {
		var typ store.MemoryType
		var embedder string
		var n int
		if err := rows.Scan(&typ, &embedder, &n); err != nil {
			return st, translate(err, "count memories")
		}
		st.Total += n
		st.ByType[typ] += n
		st.ByEmbedder[embedder] += n
	}
	return st, translate(rows.Err(), "count memories")
}
