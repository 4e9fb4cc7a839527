-- Goals: what agents set out to achieve, split into sub-goals, and the
-- dependencies between goals.
-- tags and context are TEXT holding the JSON exactly as written, never JSONB,
-- so that it reads back byte for byte; the store checks that it is valid JSON
-- before writing. tags is a JSON array of strings, context a JSON object.
-- Times are NULL where the domain has a zero time.
-- A goal goes with its agent and with its parent (ON DELETE CASCADE), so
-- deleting a goal deletes its sub-goals at every depth, and their
-- dependencies with them. circle_id, circle_task_id and background_task_id
-- have no foreign key: a goal keeps the id of a circle or a task that is gone;
-- NULL when none. created_by names who created it as events name actors
-- ('user:3', 'agent:7').
-- depth is the parent's plus one (0 without a parent), at most 5; the store
-- bounds the sub-goals of one goal (50) while it holds the parent's row lock.
-- progress (percent) of a goal with sub-goals is theirs rolled up: the mean
-- of their progress (round half up), a completed one counting 100 and a
-- cancelled one left out; a completed goal keeps its own. The store
-- recomputes it up the ancestor chain in the transaction that changes a
-- sub-goal, locking each row from the changed goal upward, so concurrent
-- changes of siblings serialize on their parent and never lose an update.
-- version starts at 1 and grows by one at each update: an update names the
-- version it read and matches no row when someone changed it meanwhile
-- (optimistic concurrency). The rollup leaves it.
CREATE TABLE goals (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id           BIGINT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    circle_id          BIGINT,
    parent_id          BIGINT REFERENCES goals (id) ON DELETE CASCADE,
    depth              INTEGER NOT NULL CHECK (depth BETWEEN 0 AND 5),
    title              TEXT NOT NULL CHECK (title <> ''),
    description        TEXT NOT NULL,
    success_criteria   TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'active', 'blocked', 'paused', 'completed', 'failed',
                                                       'cancelled')),
    priority           TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    progress           INTEGER NOT NULL CHECK (progress BETWEEN 0 AND 100),
    status_message     TEXT NOT NULL,
    deadline           TIMESTAMPTZ,
    estimated_hours    DOUBLE PRECISION NOT NULL CHECK (estimated_hours >= 0),
    actual_hours       DOUBLE PRECISION NOT NULL CHECK (actual_hours >= 0),
    result_summary     TEXT NOT NULL,
    lessons_learned    TEXT NOT NULL,
    tags               TEXT NOT NULL,
    context            TEXT NOT NULL,
    circle_task_id     BIGINT,
    background_task_id TEXT,
    created_by         TEXT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    started_at         TIMESTAMPTZ,
    completed_at       TIMESTAMPTZ,
    version            BIGINT NOT NULL CHECK (version >= 1)
);
-- Listing an agent's, a circle's, a goal's sub-goals and the goals of one
-- status, by id; the parent index also serves the rollup and the cascade.
CREATE INDEX goals_agent_id ON goals (agent_id, id);
CREATE INDEX goals_circle_id ON goals (circle_id, id);
CREATE INDEX goals_parent_id ON goals (parent_id, id);
CREATE INDEX goals_status_id ON goals (status, id);

-- goal_id depends on depends_on_id. A dependency goes with either goal (ON
-- DELETE CASCADE). A goal never depends on itself, and the dependencies never
-- form a cycle: adding one checks that, under a transaction advisory lock
-- (see goalDependencyLock in goal.go) that every addition and every goal
-- becoming active hold, so a goal never becomes active past a blocks
-- dependency added meanwhile.
CREATE TABLE goal_dependencies (
    goal_id       BIGINT NOT NULL REFERENCES goals (id) ON DELETE CASCADE,
    depends_on_id BIGINT NOT NULL REFERENCES goals (id) ON DELETE CASCADE,
    type          TEXT NOT NULL CHECK (type IN ('blocks', 'informs', 'enhances')),
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (goal_id, depends_on_id),
    CHECK (goal_id <> depends_on_id)
);
-- Finding the goals that depend on one, and serving the cascade.
CREATE INDEX goal_dependencies_depends_on_id ON goal_dependencies (depends_on_id, goal_id);
