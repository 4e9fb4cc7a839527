-- Circles: teams of agents that take tasks, route them to the member best
-- suited, review each other's work and notice when two members work on the
-- same file.
-- Times are unix milliseconds, UTC, NULL where the domain has a zero time.
-- Lists (competencies, required_competencies, files_modified) are TEXT
-- holding a JSON array of strings, as on PostgreSQL. Booleans are 0 or 1.
-- created_by, assigned_agent_id, reviewer_id and the agents of reviews and
-- conflicts have no foreign key: the record outlives the user or agent.
-- AUTOINCREMENT: ids only grow and are never reused, as on PostgreSQL.

-- Circles, addressed by name in URLs: 1 to 64 characters of letters,
-- digits, '.', '_' and '-', starting with a letter or a digit; unique
-- whatever their case (the unique index on lower(name)). A circle's link to
-- a project goes with the project (ON DELETE SET NULL; the store's
-- connections turn foreign keys on). status says whether its members work
-- on its tasks; started_at is when it last started.
CREATE TABLE circles (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    name                 TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64 AND name GLOB '[A-Za-z0-9]*'
                                              AND name NOT GLOB '*[^A-Za-z0-9._-]*'),
    description          TEXT NOT NULL,
    require_review       INTEGER NOT NULL CHECK (require_review IN (0, 1)),
    auto_route           INTEGER NOT NULL CHECK (auto_route IN (0, 1)),
    max_concurrent_tasks INTEGER NOT NULL CHECK (max_concurrent_tasks BETWEEN 1 AND 100),
    project_id           INTEGER REFERENCES projects (id) ON DELETE SET NULL,
    status               TEXT NOT NULL CHECK (status IN ('stopped', 'running')),
    created_by           INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    started_at           INTEGER
) STRICT;
CREATE UNIQUE INDEX circles_lower_name ON circles (lower(name));
CREATE INDEX circles_project_id ON circles (project_id);

-- The members of a circle: agents, with the competencies they bring to it
-- and whether they review others' work. A membership goes with its circle
-- and with its agent (ON DELETE CASCADE). The second index lists an agent's
-- circles and serves the cascade from agents.
CREATE TABLE circle_members (
    circle_id    INTEGER NOT NULL REFERENCES circles (id) ON DELETE CASCADE,
    agent_id     INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    competencies TEXT NOT NULL CHECK (json_valid(competencies) AND json_type(competencies) = 'array'),
    can_review   INTEGER NOT NULL CHECK (can_review IN (0, 1)),
    joined_at    INTEGER NOT NULL,
    PRIMARY KEY (circle_id, agent_id)
) STRICT;
CREATE INDEX circle_members_agent_id ON circle_members (agent_id, circle_id);

-- A circle's tasks. pending tasks have no assignee, every other status has
-- one. assigned, in_progress and in_review are active and count against the
-- circle's max_concurrent_tasks. background_task_id names the background
-- task working on it; NULL while none does (an assigned task, or one sent
-- back by a reviewer, waits for one). feedback is the last rejection's
-- reason. Every status change is a compare-and-set on the status (and the
-- background task) the writer read.
CREATE TABLE circle_tasks (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    circle_id             INTEGER NOT NULL REFERENCES circles (id) ON DELETE CASCADE,
    title                 TEXT NOT NULL CHECK (title <> ''),
    description           TEXT NOT NULL,
    required_competencies TEXT NOT NULL CHECK (json_valid(required_competencies)
                                               AND json_type(required_competencies) = 'array'),
    priority              INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 10),
    status                TEXT NOT NULL CHECK (status IN ('pending', 'assigned', 'in_progress', 'in_review',
                                                          'completed', 'failed')),
    assigned_agent_id     INTEGER,
    reviewer_id           INTEGER,
    result                TEXT NOT NULL,
    files_modified        TEXT NOT NULL CHECK (json_valid(files_modified) AND json_type(files_modified) = 'array'),
    feedback              TEXT NOT NULL,
    background_task_id    TEXT,
    created_by            INTEGER,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    started_at            INTEGER,
    completed_at          INTEGER,
    CHECK ((status = 'pending') = (assigned_agent_id IS NULL))
) STRICT;
-- Listing a circle's tasks (of one status), and the pending ones to route
-- by priority.
CREATE INDEX circle_tasks_circle_status ON circle_tasks (circle_id, status, priority DESC, id);
-- A member's workload and the tasks an agent works on.
CREATE INDEX circle_tasks_assignee ON circle_tasks (assigned_agent_id, status);
-- The circle task a background task works on.
CREATE INDEX circle_tasks_background_task_id ON circle_tasks (background_task_id)
    WHERE background_task_id IS NOT NULL;

-- Every review of a task: who reviewed whose work and what they decided;
-- the approval rates of the metrics come from here. Gone with the task.
CREATE TABLE circle_task_reviews (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id     INTEGER NOT NULL REFERENCES circle_tasks (id) ON DELETE CASCADE,
    circle_id   INTEGER NOT NULL,
    assignee_id INTEGER NOT NULL,
    reviewer_id INTEGER NOT NULL,
    approved    INTEGER NOT NULL CHECK (approved IN (0, 1)),
    comment     TEXT NOT NULL,
    at          INTEGER NOT NULL
) STRICT;
CREATE INDEX circle_task_reviews_task_id ON circle_task_reviews (task_id, id);
CREATE INDEX circle_task_reviews_assignee ON circle_task_reviews (circle_id, assignee_id);

-- The files a task's assignee touched while it was active (from the
-- project's activity and from what it submitted): where conflicts come
-- from. Gone with the task.
CREATE TABLE circle_task_files (
    task_id INTEGER NOT NULL REFERENCES circle_tasks (id) ON DELETE CASCADE,
    path    TEXT NOT NULL CHECK (path <> ''),
    at      INTEGER NOT NULL,
    PRIMARY KEY (task_id, path)
) STRICT;
CREATE INDEX circle_task_files_path ON circle_task_files (path);

-- Two members working on the same file, each for an active task of the
-- circle: the pair is stored in order (agent_a < agent_b) so that the
-- partial unique index keeps one open conflict per circle, path and pair.
-- resolved_at is NULL while open.
CREATE TABLE circle_conflicts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    circle_id   INTEGER NOT NULL REFERENCES circles (id) ON DELETE CASCADE,
    path        TEXT NOT NULL CHECK (path <> ''),
    agent_a     INTEGER NOT NULL,
    task_a      INTEGER NOT NULL,
    agent_b     INTEGER NOT NULL,
    task_b      INTEGER NOT NULL,
    detected_at INTEGER NOT NULL,
    resolved_at INTEGER,
    resolution  TEXT NOT NULL,
    CHECK (agent_a < agent_b)
) STRICT;
CREATE UNIQUE INDEX circle_conflicts_open ON circle_conflicts (circle_id, path, agent_a, agent_b)
    WHERE resolved_at IS NULL;
CREATE INDEX circle_conflicts_circle_id ON circle_conflicts (circle_id, id);
