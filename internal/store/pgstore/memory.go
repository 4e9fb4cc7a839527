package pgstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// memoryColumns are the columns scanMemory reads, in order, without the
// vector.
const memoryColumns = `id, scope, agent_id, type, content, title, source, category, document_id, chunk_index,
	importance, tags, metadata, embedder, created_at, last_accessed_at, access_count`

// memoryVectorColumns are the columns scanMemoryVector reads, in order:
// what ranking needs.
const memoryVectorColumns = `id, vector, importance, created_at, last_accessed_at`

// memoryScanBatch is how many entries MemoryScan and MemoryScanVectors read
// at a time.
const memoryScanBatch = 500

// vectorInto scans a stored vector (store.EncodeVector) into *v. As a
// pgtype.BytesScanner it is handed the column's bytes in pgx's own buffer
// and decodes them there, without the copy a []byte destination makes.
type vectorInto struct{ v *[]float32 }

// ScanBytes implements pgtype.BytesScanner.
func (d vectorInto) ScanBytes(b []byte) (err error) {
	*d.v, err = store.DecodeVector(b)
	return err
}

// scanMemory reads one memories row, with its vector when the row has the
// vector column last.
func scanMemory(row pgx.Row, withVector bool) (store.Memory, error) {
	var m store.Memory
	var agent *int64
	var tags string
	var metadata *string
	var created time.Time
	var accessed *time.Time
	dest := []any{&m.ID, &m.Scope, &agent, &m.Type, &m.Content, &m.Title, &m.Source, &m.Category, &m.DocumentID,
		&m.ChunkIndex, &m.Importance, &tags, &metadata, &m.Embedder, &created, &accessed, &m.AccessCount}
	if withVector {
		dest = append(dest, vectorInto{&m.Vector})
	}
	if err := row.Scan(dest...); err != nil {
		return m, err
	}
	m.AgentID, m.Metadata, m.CreatedAt, m.LastAccessedAt = idOf(agent), rawJSON(metadata), created.UTC(), utc(accessed)
	var err error
	m.Tags, err = decodeTags(tags)
	return m, err
}

// scanMemoryVector reads one row of memoryVectorColumns.
func scanMemoryVector(row pgx.CollectableRow) (store.MemoryVector, error) {
	var v store.MemoryVector
	var created time.Time
	var accessed *time.Time
	if err := row.Scan(&v.ID, vectorInto{&v.Vector}, &v.Importance, &created, &accessed); err != nil {
		return v, err
	}
	v.CreatedAt, v.LastAccessedAt = created.UTC(), utc(accessed)
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

// memoryInsert is the statement that stores one entry and returns its id.
const memoryInsert = `INSERT INTO memories (scope, agent_id, type, content, title, source, category, document_id,
	     chunk_index, importance, tags, metadata, embedder, dimension, vector, created_at, last_accessed_at,
	     access_count)
	 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id`

// MemoryCreate inserts the entries in one transaction, sent as one batch,
// and returns them with their ids, in order; EINVALID (and nothing stored)
// when one of them is invalid.
func (s *Store) MemoryCreate(ctx context.Context, ms []store.Memory) ([]store.Memory, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	batch, err := memoryInserts(ms)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(ms)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		results := tx.SendBatch(ctx, batch)
		for i := range out {
			if err := results.QueryRow().Scan(&out[i].ID); err != nil {
				_ = results.Close()
				return err
			}
		}
		return results.Close()
	})
	if err != nil {
		return nil, translate(err, "create %d memories", len(ms))
	}
	return out, nil
}

// memoryInserts checks every entry and queues its insert.
func memoryInserts(ms []store.Memory) (*pgx.Batch, error) {
	batch := &pgx.Batch{}
	for _, m := range ms {
		if err := m.Check(); err != nil {
			return nil, err
		}
		batch.Queue(memoryInsert, m.Scope, nullID(m.AgentID), m.Type, m.Content, m.Title, m.Source, m.Category,
			m.DocumentID, m.ChunkIndex, m.Importance, listJSON(m.Tags), nullJSON(m.Metadata), m.Embedder,
			len(m.Vector), store.EncodeVector(m.Vector), m.CreatedAt, nullTime(m.LastAccessedAt), m.AccessCount)
	}
	return batch, nil
}

// MemoryGet returns one entry with its vector, or ENOTFOUND.
func (s *Store) MemoryGet(ctx context.Context, id int64) (store.Memory, error) {
	m, err := scanMemory(s.pool.QueryRow(ctx, `SELECT `+memoryColumns+`, vector FROM memories WHERE id = $1`, id), true)
	return m, translate(err, "get memory %d", id)
}

// MemoryDelete deletes one entry; ENOTFOUND.
func (s *Store) MemoryDelete(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM memories WHERE id = $1`, id)
	return affectedOne(tag.RowsAffected(), err, "delete memory %d", id)
}

// MemoryDeleteMatching deletes every entry that matches f in one statement
// and returns how many; an empty filter is EINVALID.
func (s *Store) MemoryDeleteMatching(ctx context.Context, f store.MemoryFilter) (int, error) {
	if f == (store.MemoryFilter{}) {
		return 0, gathering.Errorf(gathering.EINVALID, "Deleting memories needs a filter.")
	}
	where, args := memoryWhere(f)
	// sqlcheck: where holds only memoryWhere's fixed conditions; values are parameters
	tag, err := s.pool.Exec(ctx, `DELETE FROM memories`+where, args...)
	if err != nil {
		return 0, translate(err, "delete memories")
	}
	return int(tag.RowsAffected()), nil
}

// MemoryList returns the entries that match, newest first (by CreatedAt,
// then id), without their vectors, and the total count of matches. A page
// holds 50 entries when Limit is not positive.
func (s *Store) MemoryList(ctx context.Context, f store.MemoryFilter, p store.Page) ([]store.Memory, int, error) {
	where, args := memoryWhere(f)
	var total int
	// sqlcheck: where holds only memoryWhere's fixed conditions; values are parameters
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM memories`+where, args...).Scan(&total); err != nil {
		return nil, 0, translate(err, "count memories")
	}
	limit, offset := p.Bounds()
	args = append(args, limit, offset)
	// sqlcheck: the format fills in only the fixed WHERE conditions built above and $N placeholder numbers; every value is a parameter
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT `+memoryColumns+` FROM memories%s
		 ORDER BY created_at DESC, id DESC LIMIT $%d OFFSET $%d`, where, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, translate(err, "list memories")
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Memory, error) { return scanMemory(row, false) })
	return list, total, translate(err, "list memories")
}

// MemoryScan calls fn for every entry that matches, with its vector, in id
// order. It reads batches of memoryScanBatch by keyset (id > the last one
// seen), each batch read whole and its rows closed before fn sees it, so no
// connection or transaction is held while fn runs and fn may use the store.
// Entries created during the scan with a higher id may be seen.
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
	args = append(args, after, memoryScanBatch)
	// sqlcheck: the format fills in only the fixed WHERE conditions built above and $N placeholder numbers; every value is a parameter
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT `+memoryColumns+`, vector FROM memories%s
		 AND id > $%d ORDER BY id LIMIT $%d`, where, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Memory, error) { return scanMemory(row, true) })
}

// vectorBatch reads the next batch of MemoryScanVectors: the ranking
// inputs of the entries that match f with an id above after, by id.
func (s *Store) vectorBatch(ctx context.Context, f store.MemoryFilter, after int64) ([]store.MemoryVector, error) {
	where, args := memoryWhere(f)
	args = append(args, after, memoryScanBatch)
	// sqlcheck: the format fills in only the fixed WHERE conditions built above and $N placeholder numbers; every value is a parameter
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT `+memoryVectorColumns+` FROM memories%s
		 AND id > $%d ORDER BY id LIMIT $%d`, where, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanMemoryVector)
}

// MemoryGetMany returns the entries with these ids, without vectors, in
// the order of ids, read in one query; missing ids are left out.
func (s *Store) MemoryGetMany(ctx context.Context, ids []int64) ([]store.Memory, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+memoryColumns+` FROM memories WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, translate(err, "get %d memories", len(ids))
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Memory, error) { return scanMemory(row, false) })
	if err != nil {
		return nil, translate(err, "get %d memories", len(ids))
	}
	return store.MemoriesInIDOrder(ids, found), nil
}

// memoryWhere builds the WHERE clause of f from fixed conditions, one per
// set field, with the values as parameters $1…. The clause is never empty,
// so a caller may add "AND …" conditions numbered after args.
func memoryWhere(f store.MemoryFilter) (string, []any) {
	conds := []string{"true"}
	var args []any
	add := func(cond string, value any) {
		args = append(args, value)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.Scope != "" {
		add("scope = $%d", f.Scope)
	}
	if f.AgentID != 0 {
		add("agent_id = $%d", f.AgentID)
	}
	if f.Type != "" {
		add("type = $%d", f.Type)
	}
	if f.Category != "" {
		add("category = $%d", f.Category)
	}
	if f.DocumentID != "" {
		add("document_id = $%d", f.DocumentID)
	}
	if f.Embedder != "" {
		add("embedder = $%d", f.Embedder)
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// MemoryTouch adds one to the access count of every listed entry and sets
// its last access to at, in one statement; ids that do not exist are
// skipped.
func (s *Store) MemoryTouch(ctx context.Context, ids []int64, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx,
		`UPDATE memories SET access_count = access_count + 1, last_accessed_at = $2 WHERE id = ANY($1)`, ids, at)
	return translate(err, "touch %d memories", len(ids))
}

// MemorySetVector replaces an entry's vector, its dimension and embedder;
// ENOTFOUND.
func (s *Store) MemorySetVector(ctx context.Context, id int64, embedder string, vector []float32) error {
	tag, err := s.pool.Exec(ctx, `UPDATE memories SET embedder = $2, dimension = $3, vector = $4 WHERE id = $1`,
		id, embedder, len(vector), store.EncodeVector(vector))
	return affectedOne(tag.RowsAffected(), err, "set the vector of memory %d", id)
}

// MemoryStats counts the entries that match f, by type and by embedder, in
// one grouped query. The maps are never nil.
func (s *Store) MemoryStats(ctx context.Context, f store.MemoryFilter) (store.MemoryStats, error) {
	st := store.MemoryStats{ByType: map[store.MemoryType]int{}, ByEmbedder: map[string]int{}}
	where, args := memoryWhere(f)
	// sqlcheck: where holds only memoryWhere's fixed conditions; values are parameters
	rows, err := s.pool.Query(ctx, `SELECT type, embedder, count(*) FROM memories`+where+` GROUP BY type, embedder`, args...)
	if err != nil {
		return st, translate(err, "count memories")
	}
	var (
		typ      store.MemoryType
		embedder string
		n        int
	)
	_, err = pgx.ForEachRow(rows, []any{&typ, &embedder, &n}, func() error {
		st.Total += n
		st.ByType[typ] += n
		st.ByEmbedder[embedder] += n
		return nil
	})
	return st, translate(err, "count memories")
}
