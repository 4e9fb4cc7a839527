package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gathering/gathering/internal/store"
)

// conversationColumns are the columns scanConversation reads, in order.
const conversationColumns = `id, topic, circle, agent_ids, selector_agent_id, max_turns, initial_prompt,
	turn_strategy, status, turns_taken, message_count, summary, error_code, error, created_by, created_at, started_at,
	completed_at, owner, epoch, lease_until`

// conversationMessageColumns are the columns scanConversationMessage reads,
// in order.
const conversationMessageColumns = `conversation_id, seq, agent_id, speaker, content, mentions, input_tokens,
	output_tokens, cost, at`

// conversationLeaseHolds matches the conversation of a lease ($1 id, $2
// owner, $3 epoch) while that lease holds: it is active with that owner
// and epoch. An empty owner is no lease.
const conversationLeaseHolds = `id = $1 AND owner = $2 AND owner <> '' AND epoch = $3 AND status = 'active'`

// conversationExists looks up conversation $1.
const conversationExists = `SELECT EXISTS (SELECT 1 FROM conversations WHERE id = $1)`

// The refusals of the conversation store.
const (
	errConversationActive     refusal = "the conversation is active"
	errConversationNotPending refusal = "the conversation is not pending"
	errConversationEnded      refusal = "the conversation has ended"
	errConversationNotGoing   refusal = "the conversation is neither active nor completed"
	errConversationNoTurn     refusal = "the conversation has no turn left"
	errConversationMovedOn    refusal = "a prompt came in: the conversation goes on"
)

// scanConversation reads one conversations row, with its times in UTC.
func scanConversation(row pgx.Row) (store.Conversation, error) {
	var c store.Conversation
	var agents string
	var created time.Time
	var started, completed, lease *time.Time
	err := row.Scan(&c.ID, &c.Topic, &c.Circle, &agents, &c.SelectorAgentID, &c.MaxTurns, &c.InitialPrompt,
		&c.Strategy, &c.Status, &c.TurnsTaken, &c.MessageCount, &c.Summary, &c.ErrorCode, &c.Error, &c.CreatedBy,
		&created, &started, &completed, &c.Owner, &c.Epoch, &lease)
	if err != nil {
		return c, err
	}
	c.CreatedAt, c.StartedAt, c.CompletedAt, c.LeaseUntil = created.UTC(), utc(started), utc(completed), utc(lease)
	return c, json.Unmarshal([]byte(agents), &c.AgentIDs)
}

// scanConversationMessage reads one conversation_messages row, with its
// time in UTC.
func scanConversationMessage(row pgx.Row) (store.ConversationMessage, error) {
	var m store.ConversationMessage
	var mentions string
	var at time.Time
	err := row.Scan(&m.ConversationID, &m.Seq, &m.AgentID, &m.Speaker, &m.Content, &mentions, &m.InputTokens,
		&m.OutputTokens, &m.Cost, &at)
	if err != nil {
		return m, err
	}
	m.At = at.UTC()
	return m, json.Unmarshal([]byte(mentions), &m.Mentions)
}

// idList is the stored form of a list of ids: a JSON array, [] for nil.
func idList(ids []int64) string {
	if ids == nil {
		ids = []int64{}
	}
	b, _ := json.Marshal(ids) // marshaling integers cannot fail
	return string(b)
}

// ConversationCreate inserts a pending conversation with the id, topic,
// circle, agents, selector, turn limit, prompt, strategy, creator and
// creation time of c.
func (s *Store) ConversationCreate(ctx context.Context, c store.Conversation) (store.Conversation, error) {
	if err := c.CheckNew(); err != nil {
		return store.Conversation{}, err
	}
	got, err := scanConversation(s.pool.QueryRow(ctx,
		`INSERT INTO conversations (id, topic, circle, agent_ids, selector_agent_id, max_turns, initial_prompt,
		     turn_strategy, status, turns_taken, message_count, summary, error_code, error, created_by, created_at,
		     owner, epoch)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, 0, '', '', '', $9, $10, '', 0)
		 RETURNING `+conversationColumns, c.ID, c.Topic, c.Circle, idList(c.AgentIDs), c.SelectorAgentID, c.MaxTurns,
		c.InitialPrompt, c.Strategy, c.CreatedBy, c.CreatedAt))
	return got, translate(err, "create conversation %s", c.ID)
}

// ConversationGet returns a conversation or ENOTFOUND.
func (s *Store) ConversationGet(ctx context.Context, id string) (store.Conversation, error) {
	c, err := scanConversation(s.pool.QueryRow(ctx, `SELECT `+conversationColumns+` FROM conversations WHERE id = $1`, id))
	return c, translate(err, "get conversation %s", id)
}

// ConversationList returns a page of the conversations that match, newest
// first (by CreatedAt, then ID in byte order), and the total count of
// matches. A page holds 50 conversations when Limit is not positive, and
// at most 500.
func (s *Store) ConversationList(ctx context.Context, f store.ConversationFilter, p store.Page) ([]store.Conversation, int, error) {
	if err := f.Check(); err != nil {
		return nil, 0, err
	}
	var total int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM conversations WHERE $1::text = '' OR status = $1`,
		f.Status).Scan(&total)
	if err != nil {
		return nil, 0, translate(err, "count conversations")
	}
	limit, offset := p.ListBounds()
	rows, err := s.pool.Query(ctx,
		`SELECT `+conversationColumns+` FROM conversations WHERE $1::text = '' OR status = $1
		 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`, f.Status, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list conversations")
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Conversation, error) { return scanConversation(row) })
	return list, total, translate(err, "list conversations")
}

// ConversationDelete removes a conversation that is not active; its
// messages go with it.
func (s *Store) ConversationDelete(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM conversations WHERE id = $1 AND status <> 'active'`, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = s.missingOr(ctx, errConversationActive, conversationExists, id)
	}
	return runError(err, "delete conversation %s", id)
}

// changeConversation runs update, a constant UPDATE of this file taking $1
// id and $2 now and returning conversationColumns, which changes the
// conversation only from the statuses it accepts; when it changes nothing,
// the conversation is missing (ENOTFOUND) or why refuses (ECONFLICT).
func (s *Store) changeConversation(ctx context.Context, id string, now time.Time, update string, why refusal) (store.Conversation, error) {
	// sqlcheck: update is a constant UPDATE of this file; every value is a parameter
	c, err := scanConversation(s.pool.QueryRow(ctx, update, id, now))
	if errors.Is(err, pgx.ErrNoRows) {
		err = s.missingOr(ctx, why, conversationExists, id)
	}
	return c, err
}

// ConversationStart turns a pending conversation active, started at now,
// with no owner.
func (s *Store) ConversationStart(ctx context.Context, id string, now time.Time) (store.Conversation, error) {
	c, err := s.changeConversation(ctx, id, now,
		`UPDATE conversations SET status = 'active', started_at = coalesce(started_at, $2), owner = '', lease_until = NULL
		 WHERE id = $1 AND status = 'pending' RETURNING `+conversationColumns, errConversationNotPending)
	return c, runError(err, "start conversation %s", id)
}

// ConversationCancel turns a pending or active conversation cancelled,
// completed at now, with no owner. Its UPDATE waits for a write under the
// lease in flight.
func (s *Store) ConversationCancel(ctx context.Context, id string, now time.Time) (store.Conversation, error) {
	c, err := s.changeConversation(ctx, id, now,
		`UPDATE conversations SET status = 'cancelled', completed_at = $2, owner = '', lease_until = NULL
		 WHERE id = $1 AND status IN ('pending', 'active') RETURNING `+conversationColumns, errConversationEnded)
	return c, runError(err, "cancel conversation %s", id)
}

// ConversationAdvance appends a human's prompt and gives the conversation
// more turns, in one transaction that locks it FOR UPDATE first, so that
// no turn takes the same number.
func (s *Store) ConversationAdvance(ctx context.Context, id string, m store.ConversationMessage, turns, maxTurns int) (store.Conversation, store.ConversationMessage, error) {
	if err := m.CheckPrompt(id); err != nil {
		return store.Conversation{}, m, err
	}
	var c store.Conversation
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if c, err = scanConversation(tx.QueryRow(ctx,
			`SELECT `+conversationColumns+` FROM conversations WHERE id = $1 FOR UPDATE`, id)); err != nil {
			return err
		}
		limit, going, err := c.AdvancedLimit(turns, maxTurns)
		if !going {
			return errConversationNotGoing
		}
		if err != nil {
			return err
		}
		m.ConversationID, m.Seq = id, c.MessageCount+1
		if err := insertConversationMessage(ctx, tx, m); err != nil {
			return err
		}
		c, err = scanConversation(tx.QueryRow(ctx,
			`UPDATE conversations SET max_turns = $2, message_count = message_count + 1, completed_at = NULL,
			     owner = CASE status WHEN 'completed' THEN '' ELSE owner END,
			     lease_until = CASE status WHEN 'completed' THEN NULL ELSE lease_until END, status = 'active'
			 WHERE id = $1 RETURNING `+conversationColumns, id, limit))
		return err
	})
	if err != nil {
		return store.Conversation{}, store.ConversationMessage{}, leasedError(err, "advance conversation %s", id)
	}
	return c, m.Stored(), nil
}

// insertConversationMessage inserts m in tx.
func insertConversationMessage(ctx context.Context, tx pgx.Tx, m store.ConversationMessage) error {
	_, err := tx.Exec(ctx,
		`INSERT INTO conversation_messages (`+conversationMessageColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		m.ConversationID, m.Seq, m.AgentID, m.Speaker, m.Content, idList(m.Mentions), m.InputTokens, m.OutputTokens,
		m.Cost, m.At)
	return err
}

// ConversationClaim takes, in one UPDATE, the lease of the oldest active
// conversation that has no owner or whose lease ended before now. The
// subquery locks it FOR UPDATE SKIP LOCKED, so concurrent claims pass over
// a conversation another claim is taking and never take the same one.
func (s *Store) ConversationClaim(ctx context.Context, owner string, now, leaseUntil time.Time) (store.Conversation, error) {
	if err := store.CheckConversationOwner(owner); err != nil {
		return store.Conversation{}, err
	}
	c, err := scanConversation(s.pool.QueryRow(ctx,
		`UPDATE conversations SET owner = $1, epoch = epoch + 1, lease_until = $3
		 WHERE id = (SELECT id FROM conversations
		             WHERE status = 'active' AND (owner = '' OR lease_until < $2)
		             ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
		 RETURNING `+conversationColumns, owner, now, leaseUntil))
	return c, translate(err, "claim a conversation for %s", owner)
}

// ConversationHeartbeat extends, in one UPDATE, every listed lease that
// holds, and returns the ids of the others, sorted.
func (s *Store) ConversationHeartbeat(ctx context.Context, leases []store.Lease, leaseUntil time.Time) ([]string, error) {
	return s.extendLeases(ctx, `UPDATE conversations AS c SET lease_until = $4
		 FROM unnest($1::text[], $2::text[], $3::bigint[]) AS l (id, owner, epoch)
		 WHERE c.id = l.id AND c.owner = l.owner AND c.owner <> '' AND c.epoch = l.epoch AND c.status = 'active'
		 RETURNING c.id, c.owner, c.epoch`, "conversation", leases, leaseUntil)
}

// ConversationRelease frees a lease that holds: no owner, the lease ended
// at now. Its conditional UPDATE waits for a write under the lease in
// flight. A lease that does not hold is left alone.
func (s *Store) ConversationRelease(ctx context.Context, l store.Lease, now time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE conversations SET owner = '', lease_until = $4 WHERE `+conversationLeaseHolds,
		l.RunID, l.Owner, l.Epoch, now)
	return translate(err, "release conversation %s", l.RunID)
}

// conversationLost explains the pgx.ErrNoRows of a write under l:
// ENOTFOUND when the conversation is missing, else the lease no longer
// holds. Other errors pass.
func (s *Store) conversationLost(ctx context.Context, l store.Lease, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return s.missingOr(ctx, errLeaseLost, conversationExists, l.RunID)
	}
	return err
}

// ConversationTurn records an agent's turn as the next message, in one
// transaction that locks the conversation FOR UPDATE while the lease holds
// and checks the turn limit first.
func (s *Store) ConversationTurn(ctx context.Context, l store.Lease, m store.ConversationMessage) (store.ConversationMessage, error) {
	if err := m.CheckTurn(l); err != nil {
		return m, err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var taken, limit, count int
		err := tx.QueryRow(ctx, `SELECT turns_taken, max_turns, message_count FROM conversations WHERE `+
			conversationLeaseHolds+` FOR UPDATE`, l.RunID, l.Owner, l.Epoch).Scan(&taken, &limit, &count)
		if err != nil {
			return err
		}
		if taken >= limit {
			return errConversationNoTurn
		}
		m.Seq = count + 1
		if err := insertConversationMessage(ctx, tx, m); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE conversations SET turns_taken = turns_taken + 1,
		     message_count = message_count + 1 WHERE id = $1`, l.RunID)
		return err
	})
	if err != nil {
		return m, runError(s.conversationLost(ctx, l, err), "record a turn of conversation %s", l.RunID)
	}
	return m.Stored(), nil
}

// ConversationFinish ends a conversation under its lease in one
// transaction that locks it FOR UPDATE while the lease holds, then ends it
// when its message count is end.Messages (else a prompt came in).
func (s *Store) ConversationFinish(ctx context.Context, l store.Lease, end store.ConversationEnd) (store.Conversation, error) {
	if err := end.Check(l.RunID); err != nil {
		return store.Conversation{}, err
	}
	var c store.Conversation
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var count int
		err := tx.QueryRow(ctx, `SELECT message_count FROM conversations WHERE `+conversationLeaseHolds+` FOR UPDATE`,
			l.RunID, l.Owner, l.Epoch).Scan(&count)
		if err != nil {
			return err
		}
		if count != end.Messages {
			return errConversationMovedOn
		}
		c, err = scanConversation(tx.QueryRow(ctx,
			`UPDATE conversations SET status = $2, summary = $3, error_code = $4, error = $5, completed_at = $6,
			     lease_until = $6
			 WHERE id = $1 RETURNING `+conversationColumns,
			l.RunID, end.Status, end.Summary, end.ErrorCode, end.Error, end.At))
		return err
	})
	if err != nil {
		return store.Conversation{}, runError(s.conversationLost(ctx, l, err), "finish conversation %s", l.RunID)
	}
	return c, nil
}

// ConversationMessages returns a page of a conversation's messages by Seq
// and their total. A page holds 50 messages when Limit is not positive,
// and at most 500.
func (s *Store) ConversationMessages(ctx context.Context, id string, p store.Page) ([]store.ConversationMessage, int, error) {
	var total int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM conversation_messages WHERE conversation_id = $1`, id).Scan(&total)
	if err != nil {
		return nil, 0, translate(err, "count messages of conversation %s", id)
	}
	limit, offset := p.ListBounds()
	rows, err := s.pool.Query(ctx,
		`SELECT `+conversationMessageColumns+` FROM conversation_messages WHERE conversation_id = $1
		 ORDER BY seq LIMIT $2 OFFSET $3`, id, limit, offset)
	if err != nil {
		return nil, 0, translate(err, "list messages of conversation %s", id)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.ConversationMessage, error) {
		return scanConversationMessage(row)
	})
	return list, total, translate(err, "list messages of conversation %s", id)
}
