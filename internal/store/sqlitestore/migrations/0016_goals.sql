-- Goals: what agents set out to achieve, split into sub-goals, and the
-- dependencies between goals.
-- Times are unix milliseconds, UTC; NULL where the domain has a zero time.
-- tags and context are TEXT holding the JSON exactly as written, so that it
-- reads back byte for byte (the same as on PostgreSQL, where JSONB would
-- reorder keys). tags is a JSON array of strings, context a JSON object.
-- A goal goes with its agent and with its parent (ON DELETE CASCADE; the
-- store's connections turn foreign keys on), so deleting a goal deletes its
-- sub-goals at every depth, and their dependencies with them. circle_id,
-- circle_task_id and background_task_id have no foreign key: a goal keeps the
-- id of a circle or a task that is gone; NULL when none. created_by names who
-- created it as events name actors ('user:3', 'agent:7').
-- depth is the parent's plus one (0 without a parent), at most 5; the store
-- bounds the sub-goals of one goal (50) in the write transaction that adds
-- one.
-- progress (percent) of a goal with sub-goals is theirs rolled up: the mean
-- of their progress (round half up), a completed one counting 100 and a
-- cancelled one left out; a completed goal keeps its own. The store
-- recomputes it up the ancestor chain in the write transaction that changes a
-- sub-goal; SQLite has one writer, so concurrent changes never interleave.
-- version starts at 1 and grows by one at each update: an update names the
-- version it read and matches no row when someone changed it meanwhile
-- (optimistic concurrency). The rollup leaves it. AUTOINCREMENT: the id of a
-- deleted goal is never reused, as on PostgreSQL.
CREATE TABLE goals (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id           INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    circle_id          INTEGER,
    parent_id          INTEGER REFERENCES goals (id) ON DELETE CASCADE,
    depth              INTEGER NOT NULL CHECK (depth BETWEEN 0 AND 5),
    title              TEXT NOT NULL CHECK (title <> ''),
    description        TEXT NOT NULL,
    success_criteria   TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'active', 'blocked', 'paused', 'completed', 'failed',
                                                       'cancelled')),
    priority           TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    progress           INTEGER NOT NULL CHECK (progress BETWEEN 0 AND 100),
    status_message     TEXT NOT NULL,
    deadline           INTEGER,
    estimated_hours    REAL NOT NULL CHECK (estimated_hours >= 0),
    actual_hours       REAL NOT NULL CHECK (actual_hours >= 0),
    result_summary     TEXT NOT NULL,
    lessons_learned    TEXT NOT NULL,
    tags               TEXT NOT NULL CHECK (json_valid(tags) AND json_type(tags) = 'array'),
    context            TEXT NOT NULL CHECK (json_valid(context) AND json_type(context) = 'object'),
    circle_task_id     INTEGER,
    background_task_id TEXT,
    created_by         TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    started_at         INTEGER,
    completed_at       INTEGER,
    version            INTEGER NOT NULL CHECK (version >= 1)
) STRICT;
-- Listing an agent's, a circle's, a goal's sub-goals and the goals of one
-- status, by id; the parent index also serves the rollup and the cascade.
CREATE INDEX goals_agent_id ON goals (agent_id, id);
CREATE INDEX goals_circle_id ON goals (circle_id, id);
CREATE INDEX goals_parent_id ON goals (parent_id, id);
CREATE INDEX goals_status_id ON goals (status, id);

-- goal_id depends on depends_on_id. A dependency goes with either goal (ON
-- DELETE CASCADE). A goal never depends on itself, and the dependencies never
-- form a cycle: adding one checks that in its write transaction, which the
-- one writer serializes with every other write.
CREATE TABLE goal_dependencies (
    goal_id       INTEGER NOT NULL REFERENCES goals (id) ON DELETE CASCADE,
    depends_on_id INTEGER NOT NULL REFERENCES goals (id) ON DELETE CASCADE,
    type          TEXT NOT NULL CHECK (type IN ('blocks', 'informs', 'enhances')),
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (goal_id, depends_on_id),
    CHECK (goal_id <> depends_on_id)
) STRICT;
-- Finding the goals that depend on one, and serving the cascade.
CREATE INDEX goal_dependencies_depends_on_id ON goal_dependencies (depends_on_id, goal_id);
