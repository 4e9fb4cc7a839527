package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gathering/gathering/internal/gathering"
)

// GoalStore keeps agents' goals, their hierarchy and dependencies.
//
// The writes that change what a goal's progress rolls up from (creating,
// updating or deleting a sub-goal) recompute the progress of each of its
// ancestors in the same transaction, nearest first, and return the
// ancestors whose progress changed ("rolled"), as stored after; the rollup
// sets their UpdatedAt to the write's time and leaves their Version. A
// page of a list holds 50 goals when Limit is not positive, and never more
// than 500.
//
// A goal is invalid (EINVALID) without a title, with an unknown status or
// priority, a progress outside 0 to 100, negative or infinite hours, a
// negative id, a context that is not a JSON object (nil included) or tags
// that are not valid UTF-8. Empty Tags read back as nil.
type GoalStore interface {
	// GoalCreate inserts g at version 1, at its parent's depth plus one (0
	// without a parent), keeping every other field but ID, and returns it
	// with its id, and the rolled ancestors. ENOTFOUND when the agent or
	// the parent does not exist; EINVALID for an invalid goal, or (with a
	// field error on parent_id) a parent at MaxGoalDepth or with
	// MaxGoalChildren sub-goals already.
	GoalCreate(ctx context.Context, g Goal) (Goal, []Goal, error)
	// GoalGet returns a goal or ENOTFOUND.
	GoalGet(ctx context.Context, id int64) (Goal, error)
	// GoalList returns a page of the goals that match, by id, and the
	// total; EINVALID for an unknown status.
	GoalList(ctx context.Context, f GoalFilter, p Page) ([]Goal, int, error)
	// GoalCountByStatus counts the goals that match f, whatever f.Status
	// says, by status; the statuses none has are absent.
	GoalCountByStatus(ctx context.Context, f GoalFilter) (map[GoalStatus]int, error)
	// GoalSubtree returns a goal and its sub-goals at every depth, by
	// depth then id, at most limit (at least 1) of them: every goal listed
	// has its parent listed before it. ENOTFOUND when the goal does not
	// exist.
	GoalSubtree(ctx context.Context, id int64, limit int) ([]Goal, error)
	// GoalUpdate replaces CircleID, Title, Description, SuccessCriteria,
	// Status, Priority, Progress, StatusMessage, Deadline, the hours,
	// ResultSummary, LessonsLearned, Tags, Context, the task links,
	// UpdatedAt, StartedAt and CompletedAt only while the stored version
	// is g.Version, and returns the goal with the next version, and the
	// rolled ancestors. A goal whose sub-goals count (see Goal) stores
	// their rollup instead of g.Progress unless it is completed.
	// ENOTFOUND; ECONFLICT when it changed meanwhile, or when it would
	// become active (from another status) while it depends with blocks on
	// goals that are not completed (the message names them); EINVALID for
	// an invalid goal.
	GoalUpdate(ctx context.Context, g Goal) (Goal, []Goal, error)
	// GoalDelete deletes a goal with its sub-goals at every depth and
	// their dependencies, and returns the rolled ancestors (rolled at
	// at). ENOTFOUND; ECONFLICT when it or one of its sub-goals is active.
	GoalDelete(ctx context.Context, id int64, at time.Time) ([]Goal, error)

	// GoalDependencyAdd records that d.GoalID depends on d.DependsOnID
	// and returns the dependency as GoalDependencies reads it. ENOTFOUND
	// when either goal does not exist; ECONFLICT when the dependency
	// exists or would close a cycle (whatever the types); EINVALID for a
	// goal depending on itself (with a field error on depends_on_id), an
	// unknown type, or a goal that depends on MaxGoalDependencies goals
	// already.
	GoalDependencyAdd(ctx context.Context, d GoalDependency) (GoalDependency, error)
	// GoalDependencyRemove deletes a dependency; ENOTFOUND when there is
	// none.
	GoalDependencyRemove(ctx context.Context, goalID, dependsOnID int64) error
	// GoalDependencies returns the dependencies of a goal, by the id of
	// the goal depended on; none for a goal that does not exist.
	GoalDependencies(ctx context.Context, goalID int64) ([]GoalDependency, error)
	// GoalBlockers returns the goals a goal depends on with blocks that
	// are not completed, by id; none for a goal that does not exist.
	GoalBlockers(ctx context.Context, goalID int64) ([]Goal, error)
}

// Limits the goal store enforces in the transaction that would pass them.
const (
	// MaxGoalDepth is the deepest a sub-goal may be: a goal without a
	// parent has depth 0, a sub-goal its parent's depth plus one.
	MaxGoalDepth = 5
	// MaxGoalChildren is how many sub-goals one goal may have.
	MaxGoalChildren = 50
	// MaxGoalDependencies is how many goals one goal may depend on.
	MaxGoalDependencies = 20
)

// GoalStatus is where a goal is in its life.
type GoalStatus string

// The goal statuses; the last three are final.
const (
	GoalPending   GoalStatus = "pending"
	GoalActive    GoalStatus = "active"
	GoalBlocked   GoalStatus = "blocked"
	GoalPaused    GoalStatus = "paused"
	GoalCompleted GoalStatus = "completed"
	GoalFailed    GoalStatus = "failed"
	GoalCancelled GoalStatus = "cancelled"
)

// GoalStatuses lists every goal status.
var GoalStatuses = []GoalStatus{GoalPending, GoalActive, GoalBlocked, GoalPaused, GoalCompleted, GoalFailed, GoalCancelled}

// Final reports whether s is a finished goal's status.
func (s GoalStatus) Final() bool { return s == GoalCompleted || s == GoalFailed || s == GoalCancelled }

// GoalPriority is how much a goal matters.
type GoalPriority string

// The goal priorities, lowest first.
const (
	GoalLow      GoalPriority = "low"
	GoalMedium   GoalPriority = "medium"
	GoalHigh     GoalPriority = "high"
	GoalCritical GoalPriority = "critical"
)

// GoalPriorities lists every goal priority, lowest first.
var GoalPriorities = []GoalPriority{GoalLow, GoalMedium, GoalHigh, GoalCritical}

// Goal is something an agent sets out to achieve, possibly split into
// sub-goals.
//
// The progress of a goal that has sub-goals is theirs rolled up: the mean
// of its sub-goals' progress, a completed one counting 100 and a cancelled
// one left out. The store keeps it so in the transaction that changes a
// sub-goal (its progress or status, or adding or removing one), all the
// way up. A completed goal keeps the progress it was given; a goal whose
// sub-goals are all cancelled keeps its own.
type Goal struct {
	ID               int64
	AgentID          int64 // the agent responsible for it
	CircleID         int64 // 0: none; the circle is not checked, the goal keeps the id
	ParentID         int64 // 0: a top-level goal
	Depth            int   // 0 for a top-level goal; set by the store
	Title            string
	Description      string
	SuccessCriteria  string
	Status           GoalStatus
	Priority         GoalPriority
	Progress         int // percent, 0 to 100
	StatusMessage    string
	Deadline         time.Time // zero: none
	EstimatedHours   float64
	ActualHours      float64
	ResultSummary    string
	LessonsLearned   string
	Tags             []string
	Context          json.RawMessage // JSON object, verbatim
	CircleTaskID     int64           // 0: none; not checked
	BackgroundTaskID string          // "": none; not checked
	CreatedBy        string          // who created it, as events name actors: "user:3", "agent:7"
	CreatedAt        time.Time
	UpdatedAt        time.Time
	StartedAt        time.Time // zero until it first became active
	CompletedAt      time.Time // zero until it completed, failed or was cancelled
	Version          int64     // grows at each GoalUpdate; the rollup leaves it
}

// GoalFilter selects goals; zero fields match everything. RootOnly keeps
// the top-level goals.
type GoalFilter struct {
	AgentID  int64
	CircleID int64
	ParentID int64
	RootOnly bool
	Status   GoalStatus
}

// GoalDependencyType says how one goal depends on another.
type GoalDependencyType string

// The dependency types. Only blocks keeps a goal from becoming active
// while the goal it depends on is not completed.
const (
	GoalBlocks   GoalDependencyType = "blocks"
	GoalInforms  GoalDependencyType = "informs"
	GoalEnhances GoalDependencyType = "enhances"
)

// GoalDependencyTypes lists every dependency type.
var GoalDependencyTypes = []GoalDependencyType{GoalBlocks, GoalInforms, GoalEnhances}

// GoalDependency says that GoalID depends on DependsOnID.
type GoalDependency struct {
	GoalID      int64
	DependsOnID int64
	Type        GoalDependencyType
	CreatedAt   time.Time
	// The title and status of the goal depended on, as GoalDependencies
	// reads them; GoalDependencyAdd ignores them.
	DependsOnTitle  string
	DependsOnStatus GoalStatus
}

// Check refuses with EINVALID a goal without a title, of an unknown status
// or priority, with a progress outside 0 to 100, negative or infinite
// hours, a negative id, a context that is not a JSON object or tags that
// are not valid UTF-8.
func (g Goal) Check() error {
	switch {
	case g.Title == "":
		return gathering.Errorf(gathering.EINVALID, "goal: the title is empty")
	case !slices.Contains(GoalStatuses, g.Status):
		return gathering.Errorf(gathering.EINVALID, "goal %q: status %q is unknown", g.Title, g.Status)
	case !slices.Contains(GoalPriorities, g.Priority):
		return gathering.Errorf(gathering.EINVALID, "goal %q: priority %q is unknown", g.Title, g.Priority)
	case g.Progress < 0 || g.Progress > 100:
		return gathering.Errorf(gathering.EINVALID, "goal %q: progress %d is not 0 to 100", g.Title, g.Progress)
	case !hours(g.EstimatedHours) || !hours(g.ActualHours):
		return gathering.Errorf(gathering.EINVALID, "goal %q: hours must be finite and not negative", g.Title)
	case g.CircleID < 0 || g.ParentID < 0 || g.CircleTaskID < 0:
		return gathering.Errorf(gathering.EINVALID, "goal %q: an id is negative", g.Title)
	case !JSONObject(g.Context):
		return gathering.Errorf(gathering.EINVALID, "goal %q: its context is not a JSON object", g.Title)
	case slices.ContainsFunc(g.Tags, func(t string) bool { return !utf8.ValidString(t) }):
		return gathering.Errorf(gathering.EINVALID, "goal %q: a tag is not valid UTF-8", g.Title)
	}
	return nil
}

// hours reports whether h is a number of hours a goal may hold.
func hours(h float64) bool { return h >= 0 && !math.IsInf(h, 1) }

// Check refuses with EINVALID a filter of an unknown status.
func (f GoalFilter) Check() error {
	if f.Status != "" && !slices.Contains(GoalStatuses, f.Status) {
		return gathering.Errorf(gathering.EINVALID, "goal status %q is unknown", f.Status)
	}
	return nil
}

// CheckGoalParent refuses with EINVALID, on the field parent_id, a new
// goal's parent (parentID) at depth MaxGoalDepth or with MaxGoalChildren
// sub-goals (children) already.
func CheckGoalParent(parentID int64, depth, children int) error {
	switch {
	case depth >= MaxGoalDepth:
		return gathering.Invalid(fmt.Sprintf("Goal %d is at depth %d, the deepest; it cannot have sub-goals.", parentID, depth),
			gathering.FieldError{Field: "parent_id", Message: fmt.Sprintf("sub-goals go at most %d levels deep", MaxGoalDepth)})
	case children >= MaxGoalChildren:
		return gathering.Invalid(fmt.Sprintf("Goal %d has %d sub-goals, the most it may have.", parentID, children),
			gathering.FieldError{Field: "parent_id", Message: fmt.Sprintf("a goal has at most %d sub-goals", MaxGoalChildren)})
	}
	return nil
}

// GoalBlockedError is the ECONFLICT of goal id, which cannot become active
// while blockers (the goals it depends on with blocks) are not completed;
// its message names them.
func GoalBlockedError(id int64, blockers []Goal) error {
	ids := make([]string, len(blockers))
	for i, b := range blockers {
		ids[i] = strconv.FormatInt(b.ID, 10)
	}
	return gathering.Errorf(gathering.ECONFLICT, "goal %d cannot become active: it is blocked by goals %s, not completed",
		id, strings.Join(ids, ", "))
}

// Check refuses with EINVALID a goal depending on itself (on the field
// depends_on_id) or a dependency of an unknown type.
func (d GoalDependency) Check() error {
	switch {
	case d.GoalID == d.DependsOnID:
		return gathering.Invalid(fmt.Sprintf("Goal %d cannot depend on itself.", d.GoalID),
			gathering.FieldError{Field: "depends_on_id", Message: "must be another goal"})
	case !slices.Contains(GoalDependencyTypes, d.Type):
		return gathering.Errorf(gathering.EINVALID, "goal dependency type %q is unknown", d.Type)
	}
	return nil
}

// CheckGoalDependencyCount refuses with EINVALID, on the field
// depends_on_id, the dependency d of a goal that depends on count goals,
// MaxGoalDependencies or more, already.
func CheckGoalDependencyCount(d GoalDependency, count int) error {
	if count >= MaxGoalDependencies {
		return gathering.Invalid(fmt.Sprintf("Goal %d depends on %d goals, the most it may.", d.GoalID, count),
			gathering.FieldError{Field: "depends_on_id", Message: fmt.Sprintf("a goal depends on at most %d goals", MaxGoalDependencies)})
	}
	return nil
}
