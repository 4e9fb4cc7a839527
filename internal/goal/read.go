package goal

import (
	"context"
	"slices"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// Detail is a goal with what its page shows beside it.
type Detail struct {
	store.Goal
	AgentName         string
	Subgoals          int          // its sub-goals, whatever their status
	CompletedSubgoals int          // those completed
	Blocking          []store.Goal // the goals it depends on with blocks that are not completed, by id
	// BackgroundTaskStatus is the status of the linked background task;
	// "" when it links none or the task is gone.
	BackgroundTaskStatus store.TaskStatus
}

// Get returns goal id with its detail; ENOTFOUND.
func (s *Service) Get(ctx context.Context, id int64) (Detail, error) {
	g, err := s.db.GoalGet(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Goal: g}
	agent, err := s.db.AgentGet(ctx, g.AgentID)
	if err != nil {
		return Detail{}, err
	}
	d.AgentName = agent.Name
	counts, err := s.db.GoalCountByStatus(ctx, store.GoalFilter{ParentID: id})
	if err != nil {
		return Detail{}, err
	}
	for _, n := range counts {
		d.Subgoals += n
	}
	d.CompletedSubgoals = counts[store.GoalCompleted]
	if d.Blocking, err = s.db.GoalBlockers(ctx, id); err != nil {
		return Detail{}, err
	}
	d.BackgroundTaskStatus, err = s.taskStatus(ctx, g.BackgroundTaskID)
	return d, err
}

// taskStatus is the status of background task id; "" for none or one that
// is gone.
func (s *Service) taskStatus(ctx context.Context, id string) (store.TaskStatus, error) {
	if id == "" {
		return "", nil
	}
	t, err := s.db.TaskGet(ctx, id)
	if gathering.ErrorCode(err) == gathering.ENOTFOUND {
		return "", nil
	}
	return t.Status, err
}

// Page is a page of goals, the total that match and their counts by
// status (whatever the filter's status).
type Page struct {
	Goals  []store.Goal
	Total  int
	Counts map[store.GoalStatus]int
}

// List returns a page of the goals that match f, by id. EINVALID (with
// field errors) for an unknown status, or a parent with RootOnly.
func (s *Service) List(ctx context.Context, f store.GoalFilter, pg store.Page) (Page, error) {
	var c checker
	if f.Status != "" && !slices.Contains(store.GoalStatuses, f.Status) {
		c.add("status", "must be pending, active, blocked, paused, completed, failed or cancelled")
	}
	if f.RootOnly && f.ParentID != 0 {
		c.add("root_only", "cannot go with parent_id: top-level goals have no parent")
	}
	if err := c.err(); err != nil {
		return Page{}, err
	}
	goals, total, err := s.db.GoalList(ctx, f, pg)
	if err != nil {
		return Page{}, err
	}
	counts, err := s.db.GoalCountByStatus(ctx, f)
	return Page{Goals: goals, Total: total, Counts: counts}, err
}

// Subgoals returns the sub-goals of goal id, by id; ENOTFOUND.
func (s *Service) Subgoals(ctx context.Context, id int64) ([]store.Goal, error) {
	if _, err := s.db.GoalGet(ctx, id); err != nil {
		return nil, err
	}
	goals, _, err := s.db.GoalList(ctx, store.GoalFilter{ParentID: id}, store.Page{Limit: store.MaxGoalChildren})
	return goals, err
}

// Tree is a goal with its sub-goals, each with theirs.
type Tree struct {
	store.Goal
	Subgoals []Tree // by id
}

// Tree returns goal id with its sub-goals at every depth, at most
// MaxTreeGoals of them; truncated tells that the deepest were left out.
// ENOTFOUND.
func (s *Service) Tree(ctx context.Context, id int64) (tree Tree, truncated bool, err error) {
	goals, err := s.db.GoalSubtree(ctx, id, MaxTreeGoals+1)
	if err != nil {
		return Tree{}, false, err
	}
	if truncated = len(goals) > MaxTreeGoals; truncated {
		goals = goals[:MaxTreeGoals]
	}
	children := map[int64][]store.Goal{}
	for _, g := range goals[1:] {
		children[g.ParentID] = append(children[g.ParentID], g)
	}
	return grow(goals[0], children), truncated, nil
}

// grow builds the tree of g from the sub-goals of each goal.
func grow(g store.Goal, children map[int64][]store.Goal) Tree {
	t := Tree{Goal: g, Subgoals: make([]Tree, 0, len(children[g.ID]))}
	for _, c := range children[g.ID] {
		t.Subgoals = append(t.Subgoals, grow(c, children))
	}
	return t
}
