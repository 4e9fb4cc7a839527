package store

import (
	"context"
	"slices"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// CircleStore keeps circles (teams of agents), their members, their tasks
// and the conflicts noticed between members.
//
// Every status change of a circle or a task is a compare-and-set on the
// status the writer read (and, for a task, the background task working on
// it), so that two instances reacting to the same event make a change once:
// the second gets ECONFLICT. A page of a list holds 50 items when Limit is
// not positive, and never more than 500.
type CircleStore interface {
	// CircleCreate inserts a circle and returns it with its id. ECONFLICT
	// when another circle has the name (compared case-insensitively; SQLite
	// folds ASCII letters only), ENOTFOUND when its project does not exist,
	// EINVALID for a name that is not 1 to 64 letters, digits, '.', '_' or
	// '-' starting with a letter or a digit, an unknown status, or
	// MaxConcurrentTasks outside 1 to 100.
	CircleCreate(ctx context.Context, c Circle) (Circle, error)
	// CircleGet returns the circle of that name, compared whatever its case
	// (as names are unique), or ENOTFOUND.
	CircleGet(ctx context.Context, name string) (Circle, error)
	// CircleGetByID returns a circle or ENOTFOUND.
	CircleGetByID(ctx context.Context, id int64) (Circle, error)
	// CircleList returns a page of the circles that match, by id, and the
	// total; EINVALID for an unknown status.
	CircleList(ctx context.Context, f CircleFilter, pg Page) ([]Circle, int, error)
	// CircleUpdate replaces the circle's Description, RequireReview,
	// AutoRoute, MaxConcurrentTasks, ProjectID and UpdatedAt (by ID) and
	// returns it; ENOTFOUND when it or its project does not exist, EINVALID
	// as CircleCreate.
	CircleUpdate(ctx context.Context, c Circle) (Circle, error)
	// CircleSetStatus turns a circle whose status is from into to, at at
	// (StartedAt = at when to is running), and returns it; ECONFLICT when
	// its status is not from, ENOTFOUND, EINVALID for an unknown status.
	CircleSetStatus(ctx context.Context, id int64, from, to CircleStatus, at time.Time) (Circle, error)
	// CircleDelete deletes a circle with its members, tasks, reviews and
	// conflicts; ENOTFOUND.
	CircleDelete(ctx context.Context, id int64) error
	// CircleDetail returns the circle of that name (whatever its case) with its members
	// (by agent id), their agents and personas, each member's workload,
	// the circle's task counts by status and its open conflicts, in one
	// query; ENOTFOUND.
	CircleDetail(ctx context.Context, name string) (CircleDetail, error)

	// CircleMemberAdd adds an agent to a circle while it has fewer than
	// maxMembers members and returns the membership; ENOTFOUND when the
	// circle or the agent does not exist, ECONFLICT when the agent is a
	// member already or the circle is full.
	CircleMemberAdd(ctx context.Context, m CircleMember, maxMembers int) (CircleMember, error)
	// CircleMemberRemove removes an agent from a circle; ENOTFOUND when it
	// is not a member, ECONFLICT while it is the assignee or the reviewer
	// of an active task of the circle.
	CircleMemberRemove(ctx context.Context, circleID, agentID int64) error

	// CircleTaskCreate inserts a pending task (no assignee, reviewer,
	// result, files, feedback or background task; Status, StartedAt and
	// CompletedAt are ignored) and returns it with its id; ENOTFOUND when
	// the circle does not exist, EINVALID for an empty title or a priority
	// outside 1 to 10.
	CircleTaskCreate(ctx context.Context, t CircleTask) (CircleTask, error)
	// CircleTaskGet returns a task or ENOTFOUND.
	CircleTaskGet(ctx context.Context, id int64) (CircleTask, error)
	// CircleTaskList returns a page of the tasks that match, by id, and the
	// total; EINVALID for an unknown status.
	CircleTaskList(ctx context.Context, f CircleTaskFilter, pg Page) ([]CircleTask, int, error)
	// CircleTaskPending returns up to limit pending tasks of a circle in
	// the order they are routed: highest priority first, then oldest.
	CircleTaskPending(ctx context.Context, circleID int64, limit int) ([]CircleTask, error)
	// CircleTaskChange writes c.Task's Status, AssignedAgentID, ReviewerID,
	// Result, FilesModified, Feedback, BackgroundTaskID, UpdatedAt,
	// StartedAt and CompletedAt (by ID) only while the stored task still
	// has status c.From and background task c.FromBackgroundTask, with
	// c.Review (when not nil) in the same transaction, and returns the task.
	// A change that makes a pending task active applies only while fewer
	// than the circle's MaxConcurrentTasks tasks are active. ECONFLICT when
	// the task changed meanwhile or the circle is full, ENOTFOUND, EINVALID
	// for an unknown status or a pending task with an assignee (or another
	// without).
	CircleTaskChange(ctx context.Context, c CircleTaskChange) (CircleTask, error)
	// CircleTaskReviews returns a task's reviews, oldest first.
	CircleTaskReviews(ctx context.Context, taskID int64) ([]CircleReview, error)

	// CircleTouch records that the assignee of an active task touched
	// paths at at, and opens a conflict for each path another member
	// touched for another active task of the same circle, unless one is
	// open for that path and pair. It returns the conflicts it opened (none
	// when the task is not active). ENOTFOUND when the task does not exist.
	CircleTouch(ctx context.Context, taskID int64, paths []string, at time.Time) ([]CircleConflict, error)
	// CircleConflictList returns a page of a circle's conflicts, by id,
	// and the total: all, the open ones (open true) or the resolved ones
	// (open false).
	CircleConflictList(ctx context.Context, circleID int64, open *bool, pg Page) ([]CircleConflict, int, error)
	// CircleConflictResolve resolves an open conflict of a circle at at
	// and returns it; ENOTFOUND when the circle has no such conflict,
	// ECONFLICT when it is resolved already.
	CircleConflictResolve(ctx context.Context, circleID, id int64, resolution string, at time.Time) (CircleConflict, error)

	// CircleMetrics returns, in one query, each member of a circle (by
	// agent id) with its tasks completed and failed, its workload, the
	// reviews of its work and how many approved it, and what its provider
	// calls since it joined cost (the usage ledger).
	CircleMetrics(ctx context.Context, circleID int64) ([]CircleMemberMetrics, error)
}

// CircleStatus says whether a circle's members work on its tasks.
type CircleStatus string

// The circle statuses.
const (
	CircleStopped CircleStatus = "stopped"
	CircleRunning CircleStatus = "running"
)

// Circle is a team of agents that takes tasks.
type Circle struct {
	ID                 int64
	Name               string
	Description        string
	RequireReview      bool  // a submitted task waits for a member's review
	AutoRoute          bool  // a new task goes to the member best suited
	MaxConcurrentTasks int   // active tasks at most
	ProjectID          int64 // 0: none
	Status             CircleStatus
	CreatedBy          int64 // 0: unknown
	CreatedAt          time.Time
	UpdatedAt          time.Time
	StartedAt          time.Time // zero until first started
}

// Check refuses with EINVALID a circle the schema would refuse: a name
// ValidCircleName refuses, an unknown status, or MaxConcurrentTasks outside
// 1 to 100.
func (c Circle) Check() error {
	switch {
	case !ValidCircleName(c.Name):
		return gathering.Errorf(gathering.EINVALID, "circle %q: the name is not 1 to 64 letters, digits, '.', '_' or '-'", c.Name)
	case !c.Status.known():
		return gathering.Errorf(gathering.EINVALID, "circle %q: status %q is unknown", c.Name, c.Status)
	case c.MaxConcurrentTasks < 1 || c.MaxConcurrentTasks > 100:
		return gathering.Errorf(gathering.EINVALID, "circle %q: max_concurrent_tasks %d is not 1 to 100", c.Name, c.MaxConcurrentTasks)
	}
	return nil
}

// Check refuses with EINVALID an unknown circle status.
func (s CircleStatus) Check() error {
	if !s.known() {
		return gathering.Errorf(gathering.EINVALID, "circle status %q is unknown", s)
	}
	return nil
}

// known reports whether s is a circle status.
func (s CircleStatus) known() bool { return s == CircleStopped || s == CircleRunning }

// CircleFilter selects circles; zero fields match everything.
type CircleFilter struct {
	Status    CircleStatus
	ProjectID int64
}

// Check refuses with EINVALID a filter of an unknown status.
func (f CircleFilter) Check() error {
	if f.Status == "" {
		return nil
	}
	return f.Status.Check()
}

// CircleMember is an agent's membership of a circle.
type CircleMember struct {
	CircleID     int64
	AgentID      int64
	Competencies []string // read back empty, never nil
	CanReview    bool
	JoinedAt     time.Time
}

// CircleMemberDetail is a member with its agent, persona and workload.
type CircleMemberDetail struct {
	CircleMember
	AgentName   string
	Provider    string
	Model       string
	PersonaID   int64
	PersonaName string
	Workload    int // its active tasks in the circle
	Reviewing   int // the tasks of the circle in review it is the reviewer of
}

// CircleDetail is a circle with its members and counts.
type CircleDetail struct {
	Circle
	Members       []CircleMemberDetail // by agent id; empty, never nil
	TaskCounts    map[TaskState]int    // the statuses it has no task of are absent
	OpenConflicts int
}

// TaskState is where a circle task is in its life.
type TaskState string

// The circle task statuses; assigned, in_progress and in_review are active,
// completed and failed final.
const (
	TaskPending    TaskState = "pending"
	TaskAssigned   TaskState = "assigned"
	TaskInProgress TaskState = "in_progress"
	TaskInReview   TaskState = "in_review"
	TaskDone       TaskState = "completed"
	TaskFailedOut  TaskState = "failed"
)

// TaskStates lists every circle task status.
var TaskStates = []TaskState{TaskPending, TaskAssigned, TaskInProgress, TaskInReview, TaskDone, TaskFailedOut}

// Active reports whether a task of this status counts against its
// circle's MaxConcurrentTasks.
func (s TaskState) Active() bool {
	return s == TaskAssigned || s == TaskInProgress || s == TaskInReview
}

// CircleTask is a task of a circle.
type CircleTask struct {
	ID                   int64
	CircleID             int64
	Title                string
	Description          string
	RequiredCompetencies []string // read back empty, never nil
	Priority             int      // 1 to 10
	Status               TaskState
	AssignedAgentID      int64 // 0 while pending
	ReviewerID           int64 // 0: none
	Result               string
	FilesModified        []string // read back empty, never nil
	Feedback             string   // the last rejection's reason
	BackgroundTaskID     string   // "": no background task works on it
	CreatedBy            int64    // the user; 0: unknown
	CreatedAt            time.Time
	UpdatedAt            time.Time
	StartedAt            time.Time // zero until first in progress
	CompletedAt          time.Time // zero until completed or failed
}

// Check refuses with EINVALID a task the schema would refuse: without a
// title, of a priority outside 1 to 10 or an unknown status, or pending
// with an assignee (or not pending without one).
func (t CircleTask) Check() error {
	switch {
	case t.Title == "":
		return gathering.Errorf(gathering.EINVALID, "circle task: the title is empty")
	case t.Priority < 1 || t.Priority > 10:
		return gathering.Errorf(gathering.EINVALID, "circle task %q: priority %d is not 1 to 10", t.Title, t.Priority)
	case !slices.Contains(TaskStates, t.Status):
		return gathering.Errorf(gathering.EINVALID, "circle task %q: status %q is unknown", t.Title, t.Status)
	case (t.Status == TaskPending) != (t.AssignedAgentID == 0):
		return gathering.Errorf(gathering.EINVALID, "circle task %q: a task has an assignee unless it is pending", t.Title)
	}
	return nil
}

// CircleTaskFilter selects circle tasks; zero fields match everything.
// Active selects the assigned, in progress and in review tasks.
type CircleTaskFilter struct {
	CircleID         int64
	Status           TaskState
	Active           bool
	AgentID          int64 // the assignee
	ProjectID        int64 // the tasks of the circles linked to the project
	BackgroundTaskID string
	AfterID          int64 // the tasks of higher ids: a cursor for walking every task
}

// Check refuses with EINVALID a filter of an unknown status.
func (f CircleTaskFilter) Check() error {
	if f.Status != "" && !slices.Contains(TaskStates, f.Status) {
		return gathering.Errorf(gathering.EINVALID, "circle task status %q is unknown", f.Status)
	}
	return nil
}

// CircleTaskChange is a compare-and-set of a task; see CircleTaskChange.
type CircleTaskChange struct {
	Task               CircleTask // the task as it becomes
	From               TaskState  // the status it must still have
	FromBackgroundTask string     // the background task it must still have ("": none)
	Review             *CircleReview
}

// CircleReview is one review of a task.
type CircleReview struct {
	ID         int64
	TaskID     int64
	CircleID   int64
	AssigneeID int64 // whose work was reviewed
	ReviewerID int64
	Approved   bool
	Comment    string
	At         time.Time
}

// CircleConflict is two members working on the same file of a circle,
// each for an active task. AgentA < AgentB.
type CircleConflict struct {
	ID         int64
	CircleID   int64
	Path       string
	AgentA     int64
	TaskA      int64
	AgentB     int64
	TaskB      int64
	DetectedAt time.Time
	ResolvedAt time.Time // zero while open
	Resolution string
}

// CircleMemberMetrics is what a member did in a circle and what it cost.
type CircleMemberMetrics struct {
	AgentID      int64
	AgentName    string
	JoinedAt     time.Time
	Completed    int
	Failed       int
	Workload     int
	Reviews      int // reviews of its work
	Approvals    int // of which approved it
	InputTokens  int64
	OutputTokens int64
	Cost         float64
}

// MaxCircleName is the length limit of a circle's name.
const MaxCircleName = 64

// ValidCircleName reports whether name may name a circle: 1 to 64 ASCII
// letters, digits, '.', '_' and '-', starting with a letter or a digit, so
// that it reads well in a URL path.
func ValidCircleName(name string) bool {
	if name == "" || len(name) > MaxCircleName || !alnum(name[0]) {
		return false
	}
	for i := range len(name) {
		if c := name[i]; !alnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// alnum reports whether c is an ASCII letter or digit.
func alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
