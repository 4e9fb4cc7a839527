-- Conversations: agents talking turn by turn on a topic, and the messages
-- they wrote (agents' turns and humans' prompts). A message goes with its
-- conversation (ON DELETE CASCADE; the store's connections turn foreign keys
-- on).
-- Times are unix milliseconds, UTC; NULL where the domain has a zero time.
-- agent_ids (the participants, in round-robin order) and mentions (the
-- participants a message names with @name) are TEXT holding a JSON array of
-- agent ids. agent_ids, selector_agent_id (0: none), created_by and a
-- message's agent_id (0: a human's prompt) have no foreign key, the record
-- outlives them; circle is the circle's name, '' when none.
-- An active conversation is run by the instance that holds its lease: owner
-- names it ('' for none: the next claim takes the conversation), lease_until
-- is when the lease ends, and epoch grows by one at each claim. Every write
-- the instance makes names the owner and epoch it claimed, and applies only
-- while the conversation still has them and is active (fencing). SQLite has
-- one writer, and each such write is one write transaction, so a cancel or a
-- prompt never lands in the middle of one.
-- turns_taken counts the agents' turns, bounded by max_turns; message_count
-- counts every message, and the next message is numbered message_count + 1.
-- completed_at is when the conversation ended (completed, cancelled or
-- failed).
CREATE TABLE conversations (
    id                TEXT PRIMARY KEY,
    topic             TEXT NOT NULL CHECK (topic <> ''),
    circle            TEXT NOT NULL,
    agent_ids         TEXT NOT NULL CHECK (json_valid(agent_ids)),
    selector_agent_id INTEGER NOT NULL,
    max_turns         INTEGER NOT NULL CHECK (max_turns >= 1),
    initial_prompt    TEXT NOT NULL,
    turn_strategy     TEXT NOT NULL CHECK (turn_strategy IN ('round_robin', 'mention_based', 'free_form', 'selector')),
    status            TEXT NOT NULL CHECK (status IN ('pending', 'active', 'completed', 'cancelled', 'failed')),
    turns_taken       INTEGER NOT NULL CHECK (turns_taken >= 0 AND turns_taken <= max_turns),
    message_count     INTEGER NOT NULL CHECK (message_count >= turns_taken),
    summary           TEXT NOT NULL,
    error_code        TEXT NOT NULL,
    error             TEXT NOT NULL,
    created_by        INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    started_at        INTEGER,
    completed_at      INTEGER,
    owner             TEXT NOT NULL DEFAULT '',
    epoch             INTEGER NOT NULL CHECK (epoch >= 0),
    lease_until       INTEGER
) STRICT;
-- Listing newest first, everyone's or by status.
CREATE INDEX conversations_created_at ON conversations (created_at, id);
CREATE INDEX conversations_status_created_at ON conversations (status, created_at, id);

-- One row per message, numbered from 1 in the order written.
CREATE TABLE conversation_messages (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL CHECK (seq >= 1),
    agent_id        INTEGER NOT NULL CHECK (agent_id >= 0),
    speaker         TEXT NOT NULL,
    content         TEXT NOT NULL,
    mentions        TEXT NOT NULL CHECK (json_valid(mentions)),
    input_tokens    INTEGER NOT NULL,
    output_tokens   INTEGER NOT NULL,
    cost            REAL NOT NULL,
    at              INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) STRICT;
