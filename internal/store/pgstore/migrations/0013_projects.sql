-- Projects: the directories people and agents work in, the agents linked
-- to them and their activity log.
-- settings, tags and details are TEXT holding the JSON exactly as written,
-- never JSONB, so that it reads back byte for byte; the store checks that it
-- is valid JSON before writing. tags is a JSON array of strings. Times are
-- NULL where the domain has a zero time. created_by has no foreign key, the
-- project outlives its author; NULL when unknown.
-- version starts at 1 and grows by one at each update: an update names the
-- version it read and matches no row when someone changed it meanwhile
-- (optimistic concurrency). Names are unique whatever their case (the
-- unique index on lower(name)).
CREATE TABLE projects (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            TEXT NOT NULL CHECK (name <> ''),
    description     TEXT NOT NULL,
    repository_path TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'archived')),
    tags            TEXT NOT NULL,
    settings        TEXT NOT NULL,
    created_by      BIGINT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    version         BIGINT NOT NULL CHECK (version >= 1)
);
CREATE UNIQUE INDEX projects_lower_name ON projects (lower(name));
-- Listing the projects of one status, by id.
CREATE INDEX projects_status_id ON projects (status, id);

-- The agents linked to a project. A link goes with its project and with its
-- agent (ON DELETE CASCADE); agent ids are never reused (identity), so a
-- link never names a later agent. The second index lists an agent's
-- projects and serves the cascade from agents.
CREATE TABLE project_agents (
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    agent_id   BIGINT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    linked_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, agent_id)
);
CREATE INDEX project_agents_agent_id ON project_agents (agent_id, project_id);

-- A project's activity log, gone with the project. user_id and agent_id
-- have no foreign key, the log outlives them; NULL when none. path is ''
-- when the activity concerns no file; details is a JSON object.
CREATE TABLE project_activities (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('file_created', 'file_edited', 'file_deleted', 'commit', 'test_run',
                                             'build', 'discussion', 'command_executed')),
    summary    TEXT NOT NULL CHECK (summary <> ''),
    path       TEXT NOT NULL,
    details    TEXT NOT NULL,
    user_id    BIGINT,
    agent_id   BIGINT,
    at         TIMESTAMPTZ NOT NULL
);
-- Listing a project's activities newest first, all of them or of one kind.
CREATE INDEX project_activities_project_at ON project_activities (project_id, at DESC, id DESC);
CREATE INDEX project_activities_project_kind_at ON project_activities (project_id, kind, at DESC, id DESC);
