package store

import (
	"context"
	"encoding/json"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/gathering/gathering/internal/gathering"
)

// ProjectStore keeps projects, the agents linked to them and their
// activity log.
type ProjectStore interface {
	// ProjectCreate inserts a project and returns it with its id and
	// version 1; every other field is stored as given. ECONFLICT when
	// another project has the same name (compared case-insensitively;
	// SQLite folds ASCII letters only), EINVALID for an empty name, an
	// unknown status, settings that are not a JSON object (nil included) or
	// tags that are not valid UTF-8. Empty Tags read back as nil.
	ProjectCreate(ctx context.Context, p Project) (Project, error)
	// ProjectGet returns a project or ENOTFOUND.
	ProjectGet(ctx context.Context, id int64) (Project, error)
	// ProjectList returns a page of projects by id and the total; the
	// filter's zero fields match everything, Tag matches the projects whose
	// Tags hold it. EINVALID for an unknown status.
	ProjectList(ctx context.Context, f ProjectFilter, pg Page) ([]Project, int, error)
	// ProjectUpdate replaces Name, Description, RepositoryPath, Status,
	// Tags, Settings and UpdatedAt only while the stored version is
	// p.Version, and returns the project with the next version: ENOTFOUND,
	// ECONFLICT when it changed meanwhile or the name is taken, EINVALID as
	// ProjectCreate.
	ProjectUpdate(ctx context.Context, p Project) (Project, error)
	// ProjectDelete deletes a project with its agent links and its
	// activity; ENOTFOUND.
	ProjectDelete(ctx context.Context, id int64) error

	// ProjectAgentLink links an agent to a project (linking it again is not
	// an error and keeps the first link's time); ENOTFOUND when either does
	// not exist.
	ProjectAgentLink(ctx context.Context, projectID, agentID int64, at time.Time) error
	// ProjectAgentUnlink removes the link; ENOTFOUND when there is none.
	ProjectAgentUnlink(ctx context.Context, projectID, agentID int64) error
	// ProjectAgents returns the ids of the agents linked to a project,
	// sorted; none (and no error) for a project that does not exist.
	ProjectAgents(ctx context.Context, projectID int64) ([]int64, error)
	// AgentProjects returns the ids of the projects an agent is linked to,
	// sorted; none (and no error) for an agent that does not exist.
	AgentProjects(ctx context.Context, agentID int64) ([]int64, error)

	// ActivityAdd appends an activity to a project's log and returns it
	// with its id; ENOTFOUND when the project does not exist, EINVALID for
	// an unknown kind, an empty summary, or details that are not a JSON
	// object (nil is stored as {}).
	ActivityAdd(ctx context.Context, a Activity) (Activity, error)
	// ActivityList returns a page of a project's activities, newest first
	// (by At, then ID), and the total of those that match; EINVALID for an
	// unknown kind. A project that does not exist has none (no error).
	ActivityList(ctx context.Context, f ActivityFilter, pg Page) ([]Activity, int, error)
	// ActivityStats counts a project's activities by kind, within the
	// filter's times (Kind, UserID, AgentID and Path are ignored); the
	// kinds it has none of are absent from the map.
	ActivityStats(ctx context.Context, f ActivityFilter) (map[string]int, error)
}

// The project statuses.
const (
	ProjectActive   = "active"
	ProjectArchived = "archived"
)

// projectStatuses are the statuses a project may have.
var projectStatuses = []string{ProjectActive, ProjectArchived}

// Project is a directory people and agents work in, usually a git
// repository.
type Project struct {
	ID             int64
	Name           string
	Description    string
	RepositoryPath string // "" : the project's own directory under the workspace base
	Status         string
	Tags           []string
	Settings       json.RawMessage // JSON object, verbatim
	CreatedBy      int64           // 0: unknown
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Version        int64
}

// ProjectFilter selects projects; zero fields match everything.
type ProjectFilter struct {
	Status string
	Tag    string
}

// The activity kinds.
const (
	ActivityFileCreated     = "file_created"
	ActivityFileEdited      = "file_edited"
	ActivityFileDeleted     = "file_deleted"
	ActivityCommit          = "commit"
	ActivityTestRun         = "test_run"
	ActivityBuild           = "build"
	ActivityDiscussion      = "discussion"
	ActivityCommandExecuted = "command_executed"
)

// ActivityKinds lists every activity kind.
var ActivityKinds = []string{ActivityFileCreated, ActivityFileEdited, ActivityFileDeleted, ActivityCommit,
	ActivityTestRun, ActivityBuild, ActivityDiscussion, ActivityCommandExecuted}

// Activity is one entry of a project's activity log.
type Activity struct {
	ID        int64
	ProjectID int64
	Kind      string
	Summary   string
	Path      string          // the file it concerns; "" when none
	Details   json.RawMessage // JSON object
	UserID    int64           // 0: none
	AgentID   int64           // 0: none
	At        time.Time
}

// ActivityFilter selects a project's activities; zero fields match
// everything, Since and Until bound At (Since inclusive, Until exclusive).
type ActivityFilter struct {
	ProjectID int64
	Kind      string
	UserID    int64
	AgentID   int64
	Path      string
	Since     time.Time
	Until     time.Time
}

// Check refuses with EINVALID a project without a name, of an unknown
// status, whose settings are not a JSON object or whose tags are not valid
// UTF-8.
func (p Project) Check() error {
	switch {
	case p.Name == "":
		return gathering.Errorf(gathering.EINVALID, "project: the name is empty")
	case !slices.Contains(projectStatuses, p.Status):
		return gathering.Errorf(gathering.EINVALID, "project %q: status %q is unknown", p.Name, p.Status)
	case !JSONObject(p.Settings):
		return gathering.Errorf(gathering.EINVALID, "project %q: its settings are not a JSON object", p.Name)
	case slices.ContainsFunc(p.Tags, func(t string) bool { return !utf8.ValidString(t) }):
		return gathering.Errorf(gathering.EINVALID, "project %q: a tag is not valid UTF-8", p.Name)
	}
	return nil
}

// Check refuses with EINVALID a filter of an unknown status.
func (f ProjectFilter) Check() error {
	if f.Status != "" && !slices.Contains(projectStatuses, f.Status) {
		return gathering.Errorf(gathering.EINVALID, "project status %q is unknown", f.Status)
	}
	return nil
}

// Check refuses with EINVALID an activity of an unknown kind, without a
// summary, or whose details are neither nil nor a JSON object.
func (a Activity) Check() error {
	switch {
	case !slices.Contains(ActivityKinds, a.Kind):
		return gathering.Errorf(gathering.EINVALID, "activity: kind %q is unknown", a.Kind)
	case a.Summary == "":
		return gathering.Errorf(gathering.EINVALID, "activity: the summary is empty")
	case a.Details != nil && !JSONObject(a.Details):
		return gathering.Errorf(gathering.EINVALID, "activity: its details are not a JSON object")
	}
	return nil
}

// Check refuses with EINVALID a filter of an unknown kind.
func (f ActivityFilter) Check() error {
	if f.Kind != "" && !slices.Contains(ActivityKinds, f.Kind) {
		return gathering.Errorf(gathering.EINVALID, "activity kind %q is unknown", f.Kind)
	}
	return nil
}
