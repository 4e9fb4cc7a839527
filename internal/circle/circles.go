package circle

import (
	"cmp"
	"context"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// NewCircle is a circle a caller asks for; a zero MaxConcurrentTasks is
// DefaultMaxConcurrent.
type NewCircle struct {
	Name               string
	Description        string
	RequireReview      bool
	AutoRoute          bool
	MaxConcurrentTasks int
	ProjectID          int64 // 0: none
	CreatedBy          int64
}

// Patch changes a circle; nil fields stay as they are, a ProjectID of 0
// unlinks the project.
type Patch struct {
	Description        *string
	RequireReview      *bool
	AutoRoute          *bool
	MaxConcurrentTasks *int
	ProjectID          *int64
}

// Create stores a stopped circle; EINVALID with field details (project_id
// when the project does not exist), ECONFLICT when the name is taken.
func (s *Service) Create(ctx context.Context, n NewCircle) (store.Circle, error) {
	n.MaxConcurrentTasks = cmp.Or(n.MaxConcurrentTasks, DefaultMaxConcurrent)
	var ps problems
	ps.checkName(n.Name)
	ps.checkText("description", n.Description, MaxDescription)
	ps.checkMaxConcurrent(n.MaxConcurrentTasks)
	if n.ProjectID < 0 {
		ps.add("project_id", "must be a project's id")
	}
	if err := ps.err("circle"); err != nil {
		return store.Circle{}, err
	}
	now := time.Now()
	c, err := s.db.CircleCreate(ctx, store.Circle{Name: n.Name, Description: n.Description, RequireReview: n.RequireReview,
		AutoRoute: n.AutoRoute, MaxConcurrentTasks: n.MaxConcurrentTasks, ProjectID: n.ProjectID, Status: store.CircleStopped,
		CreatedBy: n.CreatedBy, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return c, projectMissing(err)
	}
	s.publishCircle(ctx, "circle.created", c)
	return c, nil
}

// projectMissing turns the store's ENOTFOUND about a circle's project into
// a field error.
func projectMissing(err error) error {
	if gathering.ErrorCode(err) == gathering.ENOTFOUND {
		return gathering.Invalid("The circle is invalid.", gathering.FieldError{Field: "project_id", Message: "no project has this id"})
	}
	return err
}

// Circle returns a circle with its members, their agents and personas,
// its task counts and open conflicts; ENOTFOUND.
func (s *Service) Circle(ctx context.Context, name string) (store.CircleDetail, error) {
	return s.db.CircleDetail(ctx, name)
}

// List returns a page of circles, by id, and the total.
func (s *Service) List(ctx context.Context, f store.CircleFilter, pg store.Page) ([]store.Circle, int, error) {
	return s.db.CircleList(ctx, f, pg)
}

// Update changes a circle and routes its pending tasks, which a higher
// limit or auto_route may let in; ENOTFOUND, EINVALID with field details.
func (s *Service) Update(ctx context.Context, name string, p Patch) (store.Circle, error) {
	c, err := s.db.CircleGet(ctx, name)
	if err != nil {
		return c, err
	}
	c.Description = deref(p.Description, c.Description)
	c.RequireReview = deref(p.RequireReview, c.RequireReview)
	c.AutoRoute = deref(p.AutoRoute, c.AutoRoute)
	c.MaxConcurrentTasks = deref(p.MaxConcurrentTasks, c.MaxConcurrentTasks)
	c.ProjectID = deref(p.ProjectID, c.ProjectID)
	var ps problems
	ps.checkText("description", c.Description, MaxDescription)
	ps.checkMaxConcurrent(c.MaxConcurrentTasks)
	if c.ProjectID < 0 {
		ps.add("project_id", "must be a project's id, or 0 for none")
	}
	if err := ps.err("circle"); err != nil {
		return store.Circle{}, err
	}
	c.UpdatedAt = time.Now()
	if c, err = s.db.CircleUpdate(ctx, c); err != nil {
		return c, projectMissing(err)
	}
	s.publishCircle(ctx, "circle.updated", c)
	s.route(ctx, c.Name)
	return c, nil
}

// deref is *p, or old when p is nil.
func deref[T any](p *T, old T) T {
	if p == nil {
		return old
	}
	return *p
}

// Delete deletes a circle with its members, tasks and conflicts, and
// cancels the background tasks still working on its tasks; ENOTFOUND.
func (s *Service) Delete(ctx context.Context, name string) error {
	c, err := s.db.CircleGet(ctx, name)
	if err != nil {
		return err
	}
	var working []string
	s.eachTask(ctx, store.CircleTaskFilter{CircleID: c.ID, Status: store.TaskInProgress}, func(t store.CircleTask) {
		if t.BackgroundTaskID != "" {
			working = append(working, t.BackgroundTaskID)
		}
	})
	if err := s.db.CircleDelete(ctx, c.ID); err != nil {
		return err
	}
	for _, id := range working {
		s.cancelBackground(ctx, id)
	}
	s.publishCircle(ctx, "circle.deleted", c)
	return nil
}

// StartCircle turns a stopped circle running: its assigned tasks start
// and its pending tasks are routed. ECONFLICT when it is running,
// ENOTFOUND.
func (s *Service) StartCircle(ctx context.Context, name string) (store.Circle, error) {
	c, err := s.setStatus(ctx, name, store.CircleStopped, store.CircleRunning)
	if err != nil {
		return c, err
	}
	s.publishCircle(ctx, "circle.started", c)
	s.startCircleWork(ctx, c)
	s.route(ctx, c.Name)
	return c, nil
}

// StopCircle turns a running circle stopped: no new work starts, while
// the background tasks already running go on and their results are
// submitted. ECONFLICT when it is stopped, ENOTFOUND.
func (s *Service) StopCircle(ctx context.Context, name string) (store.Circle, error) {
	c, err := s.setStatus(ctx, name, store.CircleRunning, store.CircleStopped)
	if err == nil {
		s.publishCircle(ctx, "circle.stopped", c)
	}
	return c, err
}

// setStatus turns the named circle from one status into another.
func (s *Service) setStatus(ctx context.Context, name string, from, to store.CircleStatus) (store.Circle, error) {
	c, err := s.db.CircleGet(ctx, name)
	if err != nil {
		return c, err
	}
	if c.Status != from {
		return c, gathering.Errorf(gathering.ECONFLICT, "The circle %s is %s already.", name, to)
	}
	c, err = s.db.CircleSetStatus(ctx, c.ID, from, to, time.Now())
	if gathering.ErrorCode(err) == gathering.ECONFLICT {
		err = gathering.Errorf(gathering.ECONFLICT, "The circle %s is %s already.", name, to)
	}
	return c, err
}

// NewMember is an agent joining a circle. Nil Competencies and CanReview
// take the agent's own.
type NewMember struct {
	AgentID      int64
	Competencies []string
	CanReview    *bool
}

// AddMember adds an agent to a circle and routes the pending tasks that
// waited for members; ENOTFOUND for the circle, EINVALID with field
// details (agent_id when the agent does not exist), ECONFLICT when it is
// a member already or the circle has MaxMembers.
func (s *Service) AddMember(ctx context.Context, name string, n NewMember) (store.CircleMember, error) {
	var ps problems
	ps.checkCompetencies("competencies", n.Competencies)
	if err := ps.err("member"); err != nil {
		return store.CircleMember{}, err
	}
	c, err := s.db.CircleGet(ctx, name)
	if err != nil {
		return store.CircleMember{}, err
	}
	a, err := s.db.AgentGet(ctx, n.AgentID)
	if err != nil {
		return store.CircleMember{}, agentMissing(err)
	}
	m := store.CircleMember{CircleID: c.ID, AgentID: a.ID, Competencies: cleanCompetencies(n.Competencies),
		CanReview: deref(n.CanReview, a.CanReview), JoinedAt: time.Now()}
	if m.Competencies == nil {
		m.Competencies = a.Competencies
	}
	if m, err = s.db.CircleMemberAdd(ctx, m, MaxMembers); err != nil {
		return m, agentMissing(err)
	}
	s.publish(ctx, "circle.member.added", name, map[string]any{"agent_id": m.AgentID, "competencies": m.Competencies,
		"can_review": m.CanReview}, m.AgentID)
	s.route(ctx, name)
	return m, nil
}

// agentMissing turns ENOTFOUND about an agent into a field error.
func agentMissing(err error) error {
	if gathering.ErrorCode(err) == gathering.ENOTFOUND {
		return gathering.Invalid("The member is invalid.", gathering.FieldError{Field: "agent_id", Message: "no agent has this id"})
	}
	return err
}

// RemoveMember removes an agent from a circle; ENOTFOUND when the circle
// does not exist or the agent is not a member, ECONFLICT while it is the
// assignee or the reviewer of an active task of the circle.
func (s *Service) RemoveMember(ctx context.Context, name string, agentID int64) error {
	c, err := s.db.CircleGet(ctx, name)
	if err != nil {
		return err
	}
	if err := s.db.CircleMemberRemove(ctx, c.ID, agentID); err != nil {
		return err
	}
	s.publish(ctx, "circle.member.removed", name, map[string]any{"agent_id": agentID}, agentID)
	return nil
}

// MemberAgentIDs returns the ids of a circle's member agents, sorted;
// ENOTFOUND for an unknown circle.
func (s *Service) MemberAgentIDs(ctx context.Context, name string) ([]int64, error) {
	d, err := s.db.CircleDetail(ctx, name)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(d.Members))
	for i, m := range d.Members {
		ids[i] = m.AgentID
	}
	return ids, nil
}
