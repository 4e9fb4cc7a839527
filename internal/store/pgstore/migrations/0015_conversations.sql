-- Conversations: agents talking turn by turn on a topic, and the messages
-- they wrote (agents' turns and humans' prompts). A message goes with its
-- conversation (ON DELETE CASCADE).
-- Ids are compared in byte order (COLLATE "C"), as on SQLite, so lists sort
-- alike on both. Times are NULL where the domain has a zero time.
-- agent_ids (the participants, in round-robin order) and mentions (the
-- participants a message names with @name) are TEXT holding a JSON array of
-- agent ids, never JSONB, so that they read back as written. agent_ids,
-- selector_agent_id (0: none), created_by and a message's agent_id (0: a
-- human's prompt) have no foreign key, the record outlives them; circle is
-- the circle's name, '' when none.
-- An active conversation is run by the instance that holds its lease: owner
-- names it ('' for none: the next claim takes the conversation), lease_until
-- is when the lease ends, and epoch grows by one at each claim. Every write
-- the instance makes names the owner and epoch it claimed, and applies only
-- while the conversation still has them and is active (fencing); such a
-- write locks the conversation row first, so a cancel or a prompt waits for
-- it, or it for them.
-- turns_taken counts the agents' turns, bounded by max_turns; message_count
-- counts every message, and the next message is numbered message_count + 1.
-- completed_at is when the conversation ended (completed, cancelled or
-- failed).
CREATE TABLE conversations (
    id                TEXT COLLATE "C" PRIMARY KEY,
    topic             TEXT NOT NULL CHECK (topic <> ''),
    circle            TEXT NOT NULL,
    agent_ids         TEXT NOT NULL,
    selector_agent_id BIGINT NOT NULL,
    max_turns         INTEGER NOT NULL CHECK (max_turns >= 1),
    initial_prompt    TEXT NOT NULL,
    turn_strategy     TEXT NOT NULL CHECK (turn_strategy IN ('round_robin', 'mention_based', 'free_form', 'selector')),
    status            TEXT NOT NULL CHECK (status IN ('pending', 'active', 'completed', 'cancelled', 'failed')),
    turns_taken       INTEGER NOT NULL CHECK (turns_taken >= 0 AND turns_taken <= max_turns),
    message_count     INTEGER NOT NULL CHECK (message_count >= turns_taken),
    summary           TEXT NOT NULL,
    error_code        TEXT NOT NULL,
    error             TEXT NOT NULL,
    created_by        BIGINT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    started_at        TIMESTAMPTZ,
    completed_at      TIMESTAMPTZ,
    owner             TEXT NOT NULL DEFAULT '',
    epoch             BIGINT NOT NULL CHECK (epoch >= 0),
    lease_until       TIMESTAMPTZ
);
-- Listing newest first, everyone's or by status.
CREATE INDEX conversations_created_at ON conversations (created_at, id);
CREATE INDEX conversations_status_created_at ON conversations (status, created_at, id);

-- One row per message, numbered from 1 in the order written.
CREATE TABLE conversation_messages (
    conversation_id TEXT COLLATE "C" NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL CHECK (seq >= 1),
    agent_id        BIGINT NOT NULL CHECK (agent_id >= 0),
    speaker         TEXT NOT NULL,
    content         TEXT NOT NULL,
    mentions        TEXT NOT NULL,
    input_tokens    BIGINT NOT NULL,
    output_tokens   BIGINT NOT NULL,
    cost            DOUBLE PRECISION NOT NULL,
    at              TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
