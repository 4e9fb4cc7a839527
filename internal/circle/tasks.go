package circle

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// NewTask is a task a user, or an agent acting for one, asks a circle
// for. Priority 0 is DefaultPriority; see ParsePriority for the names.
type NewTask struct {
	Title                string
	Description          string
	RequiredCompetencies []string
	Priority             int
	CreatedBy            int64 // the user whose rights the work on it has
}

// CreateTask stores a pending task in the named circle and, with
// auto_route, assigns it to the member best suited (starting it when the
// circle runs), room permitting. It returns the task as it is after that.
// ENOTFOUND for the circle, EINVALID with field details.
func (s *Service) CreateTask(ctx context.Context, circleName string, n NewTask) (store.CircleTask, error) {
	n.Priority = cmp.Or(n.Priority, DefaultPriority)
	var ps problems
	if l := runes(strings.TrimSpace(n.Title)); l < 1 || l > MaxTitle {
		ps.add("title", "must be 1 to %d characters", MaxTitle)
	}
	ps.checkText("description", n.Description, MaxTaskDescription)
	ps.checkCompetencies("required_competencies", n.RequiredCompetencies)
	if n.Priority < minPriority || n.Priority > maxPriority {
		ps.add("priority", "must be a whole number from 1 to 10, or low, medium, high or critical")
	}
	if err := ps.err("task"); err != nil {
		return store.CircleTask{}, err
	}
	c, err := s.db.CircleGet(ctx, circleName)
	if err != nil {
		return store.CircleTask{}, err
	}
	now := time.Now()
	t, err := s.db.CircleTaskCreate(ctx, store.CircleTask{CircleID: c.ID, Title: strings.TrimSpace(n.Title),
		Description: n.Description, RequiredCompetencies: cleanCompetencies(n.RequiredCompetencies), Priority: n.Priority,
		CreatedBy: n.CreatedBy, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return t, err
	}
	s.publishTask(ctx, "circle.task.created", c.Name, t)
	s.route(ctx, c.Name)
	return s.db.CircleTaskGet(ctx, t.ID)
}

// Task returns a task of the named circle with its reviews; ENOTFOUND when
// either does not exist or the task is another circle's.
func (s *Service) Task(ctx context.Context, circleName string, id int64) (store.CircleTask, []store.CircleReview, error) {
	_, t, err := s.taskOf(ctx, circleName, id)
	if err != nil {
		return t, nil, err
	}
	reviews, err := s.db.CircleTaskReviews(ctx, id)
	return t, reviews, err
}

// taskOf loads a circle and one of its tasks; ENOTFOUND when either does
// not exist or the task is another circle's.
func (s *Service) taskOf(ctx context.Context, circleName string, id int64) (store.Circle, store.CircleTask, error) {
	c, err := s.db.CircleGet(ctx, circleName)
	if err != nil {
		return c, store.CircleTask{}, err
	}
	t, err := s.db.CircleTaskGet(ctx, id)
	if err == nil && t.CircleID != c.ID {
		err = gathering.Errorf(gathering.ENOTFOUND, "The circle %s has no task %d.", circleName, id)
	}
	return c, t, err
}

// Tasks returns a page of the named circle's tasks (of one status when
// status is not empty), by id, and the total; ENOTFOUND for the circle.
func (s *Service) Tasks(ctx context.Context, circleName string, status store.TaskState, pg store.Page) ([]store.CircleTask, int, error) {
	c, err := s.db.CircleGet(ctx, circleName)
	if err != nil {
		return nil, 0, err
	}
	return s.db.CircleTaskList(ctx, store.CircleTaskFilter{CircleID: c.ID, Status: status}, pg)
}

// Assign gives a pending task to a member and starts it when the circle
// runs; ENOTFOUND, EINVALID on agent_id when the agent is not a member,
// ECONFLICT when the task is not pending or the circle has its most active
// tasks.
func (s *Service) Assign(ctx context.Context, circleName string, id, agentID int64) (store.CircleTask, error) {
	c, t, err := s.taskOf(ctx, circleName, id)
	if err != nil {
		return t, err
	}
	if t.Status != store.TaskPending {
		return t, gathering.Errorf(gathering.ECONFLICT, "The task %d is %s, not pending.", id, t.Status)
	}
	d, err := s.db.CircleDetail(ctx, circleName)
	if err != nil {
		return t, err
	}
	if _, ok := member(d, agentID); !ok {
		return t, gathering.Invalid("The assignment is invalid.", gathering.FieldError{Field: "agent_id", Message: "is not a member of the circle"})
	}
	t, err = s.assign(ctx, c, t, agentID)
	if gathering.ErrorCode(err) == gathering.ECONFLICT {
		err = gathering.Errorf(gathering.ECONFLICT, "The task %d cannot be assigned: it changed meanwhile, or the circle has its %d active tasks already.",
			id, c.MaxConcurrentTasks)
	}
	return t, err
}

// member finds a member of a circle.
func member(d store.CircleDetail, agentID int64) (store.CircleMemberDetail, bool) {
	i := slices.IndexFunc(d.Members, func(m store.CircleMemberDetail) bool { return m.AgentID == agentID })
	if i < 0 {
		return store.CircleMemberDetail{}, false
	}
	return d.Members[i], true
}

// assign turns a pending task assigned to agentID, announces it and starts
// it when the circle runs.
func (s *Service) assign(ctx context.Context, c store.Circle, t store.CircleTask, agentID int64) (store.CircleTask, error) {
	next := t
	next.Status, next.AssignedAgentID, next.UpdatedAt = store.TaskAssigned, agentID, time.Now()
	t, err := s.db.CircleTaskChange(ctx, store.CircleTaskChange{Task: next, From: store.TaskPending})
	if err != nil {
		return t, err
	}
	s.publishTask(ctx, "circle.task.assigned", c.Name, t)
	return s.startWork(ctx, t), nil
}

// route assigns the named circle's pending tasks, highest priority first,
// while it has room and members, when it routes automatically.
func (s *Service) route(ctx context.Context, circleName string) {
	s.routing.Lock()
	defer s.routing.Unlock()
	d, err := s.db.CircleDetail(ctx, circleName)
	if err != nil || !d.AutoRoute || len(d.Members) == 0 {
		s.logFailure("loading a circle to route its tasks", err)
		return
	}
	room := d.MaxConcurrentTasks - activeCount(d.TaskCounts)
	if room <= 0 {
		return
	}
	pending, err := s.db.CircleTaskPending(ctx, d.ID, room)
	if err != nil {
		s.logFailure("listing pending tasks", err)
		return
	}
	for _, t := range pending {
		best := pick(d.Members, t.RequiredCompetencies)
		if _, err := s.assign(ctx, d.Circle, t, best.AgentID); err != nil {
			s.logFailure("routing a task", err)
			return // the circle filled up or changed meanwhile: the next event or sweep goes on
		}
		d.Members[slices.IndexFunc(d.Members, func(m store.CircleMemberDetail) bool { return m.AgentID == best.AgentID })].Workload++
	}
}

// activeCount adds up the active tasks of a circle's counts.
func activeCount(counts map[store.TaskState]int) int {
	return counts[store.TaskAssigned] + counts[store.TaskInProgress] + counts[store.TaskInReview]
}

// pick is the member best suited to a task requiring required: the one
// whose competencies cover most of them (compared case-insensitively),
// then the one with the fewest active tasks, then the lowest agent id.
// members must not be empty.
func pick(members []store.CircleMemberDetail, required []string) store.CircleMemberDetail {
	best, bestScore := members[0], coverage(members[0].Competencies, required)
	for _, m := range members[1:] {
		score := coverage(m.Competencies, required)
		if score > bestScore || score == bestScore && (m.Workload < best.Workload || m.Workload == best.Workload && m.AgentID < best.AgentID) {
			best, bestScore = m, score
		}
	}
	return best
}

// coverage counts the required competencies a member has, compared
// case-insensitively.
func coverage(has, required []string) int {
	n := 0
	for _, r := range required {
		if slices.ContainsFunc(has, func(h string) bool { return strings.EqualFold(h, r) }) {
			n++
		}
	}
	return n
}

// logFailure logs a failed step of the service's background work;
// ENOTFOUND and ECONFLICT (a circle deleted, a task changed by another
// instance) are expected and only noted.
func (s *Service) logFailure(what string, err error) {
	switch gathering.ErrorCode(err) {
	case "":
	case gathering.ENOTFOUND, gathering.ECONFLICT:
		s.log.Debug(what+" was refused", "err", err)
	default:
		s.log.Warn(what+" failed", "err", err)
	}
}
