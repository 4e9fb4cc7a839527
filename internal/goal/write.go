package goal

import (
	"cmp"
	"context"
	"encoding/json"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// maxAttempts bounds how often a change starts over because another write
// to the same goal came in between its read and its write.
const maxAttempts = 3

// Create validates n and stores it as a pending goal at progress 0,
// created by actor, and announces goal.created (and goal.progress for the
// ancestors whose progress the new sub-goal rolled down). A sub-goal
// without a circle takes its parent's. EINVALID with field errors, among
// them an agent_id or parent_id that names nothing, and (on parent_id) a
// parent at the deepest depth or with the most sub-goals.
func (s *Service) Create(ctx context.Context, actor Actor, n NewGoal) (store.Goal, error) {
	if err := checker(n.Check()).err(); err != nil {
		return store.Goal{}, err
	}
	if _, err := s.db.AgentGet(ctx, n.AgentID); err != nil {
		return store.Goal{}, missingAs(err, "agent_id", "no such agent")
	}
	if n.ParentID != 0 {
		parent, err := s.db.GoalGet(ctx, n.ParentID)
		if err != nil {
			return store.Goal{}, missingAs(err, "parent_id", "no such goal")
		}
		n.CircleID = cmp.Or(n.CircleID, parent.CircleID)
	}
	at := now()
	g, rolled, err := s.db.GoalCreate(ctx, store.Goal{
		AgentID: n.AgentID, CircleID: n.CircleID, ParentID: n.ParentID, Title: n.Title, Description: n.Description,
		SuccessCriteria: n.SuccessCriteria, Status: store.GoalPending, Priority: cmp.Or(n.Priority, store.GoalMedium),
		Deadline: n.Deadline, EstimatedHours: n.EstimatedHours, Tags: n.Tags, Context: objectOrEmpty(n.Context),
		CircleTaskID: n.CircleTaskID, BackgroundTaskID: n.BackgroundTaskID, CreatedBy: actor.String(),
		CreatedAt: at, UpdatedAt: at,
	})
	if err != nil {
		return store.Goal{}, err
	}
	s.announce(ctx, actor, "created", g, rolled)
	return g, nil
}

// objectOrEmpty is raw, or {} when there is none.
func objectOrEmpty(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return json.RawMessage("{}")
	}
	return raw
}

// Update applies p to goal id and announces goal.updated. ENOTFOUND;
// EINVALID with field errors; ECONFLICT when p.Version is set and the goal
// is at another version, or when p.Progress is set on a goal whose
// sub-goals count or that is finished.
func (s *Service) Update(ctx context.Context, actor Actor, id int64, p Patch) (store.Goal, error) {
	if err := checker(p.Check()).err(); err != nil {
		return store.Goal{}, err
	}
	return s.change(ctx, actor, id, "updated", func(g *store.Goal, _ time.Time) error {
		if p.Version != 0 && g.Version != p.Version {
			return gathering.Errorf(gathering.ECONFLICT, "Goal %d is at version %d, not %d: it changed since you read it.",
				g.ID, g.Version, p.Version)
		}
		if p.Progress != nil {
			if err := s.progressSettable(ctx, *g); err != nil {
				return err
			}
		}
		p.apply(g)
		return nil
	})
}

// apply writes the fields p sets into g.
func (p Patch) apply(g *store.Goal) {
	set(&g.Title, p.Title)
	set(&g.Description, p.Description)
	set(&g.SuccessCriteria, p.SuccessCriteria)
	set(&g.Priority, p.Priority)
	set(&g.Progress, p.Progress)
	set(&g.StatusMessage, p.StatusMessage)
	set(&g.Deadline, p.Deadline)
	set(&g.EstimatedHours, p.EstimatedHours)
	set(&g.ActualHours, p.ActualHours)
	set(&g.ResultSummary, p.ResultSummary)
	set(&g.LessonsLearned, p.LessonsLearned)
	set(&g.CircleID, p.CircleID)
	set(&g.CircleTaskID, p.CircleTaskID)
	set(&g.BackgroundTaskID, p.BackgroundTaskID)
	if p.Tags != nil {
		g.Tags = p.Tags
	}
	if p.Context != nil {
		g.Context = p.Context
	}
}

// set stores *v in *field when v is not nil.
func set[T any](field *T, v *T) {
	if v != nil {
		*field = *v
	}
}

// SetProgress sets the progress of goal id to percent (and its status
// message, unless message is empty) and announces goal.progress.
// ENOTFOUND; EINVALID for a percent outside 0 to 100 or a message too
// long; ECONFLICT when the goal is finished, or when its progress rolls
// up from sub-goals that count.
func (s *Service) SetProgress(ctx context.Context, actor Actor, id int64, percentage int, message string) (store.Goal, error) {
	var c checker
	percent(&c, "percent", percentage)
	c.text("message", message, MaxStatusMessage)
	if err := c.err(); err != nil {
		return store.Goal{}, err
	}
	return s.change(ctx, actor, id, "progress", func(g *store.Goal, _ time.Time) error {
		if err := s.progressSettable(ctx, *g); err != nil {
			return err
		}
		g.Progress = percentage
		if message != "" {
			g.StatusMessage = message
		}
		return nil
	})
}

// progressSettable refuses with ECONFLICT to set the progress of a
// finished goal, or of one whose progress rolls up from sub-goals that
// count (not cancelled).
func (s *Service) progressSettable(ctx context.Context, g store.Goal) error {
	if g.Status.Final() {
		return gathering.Errorf(gathering.ECONFLICT, "Goal %d is %s; its progress no longer changes.", g.ID, g.Status)
	}
	counts, err := s.db.GoalCountByStatus(ctx, store.GoalFilter{ParentID: g.ID})
	if err != nil {
		return err
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	if counting := total - counts[store.GoalCancelled]; counting > 0 {
		return gathering.Errorf(gathering.ECONFLICT,
			"Goal %d has %d sub-goals: its progress rolls up from theirs and cannot be set.", g.ID, counting)
	}
	return nil
}

// change reads goal id, lets edit refuse or change it (at is the time of
// the write), writes it at the version read and announces goal.<typ>.
// When another write came in between (the store refuses and the goal's
// version moved), it starts over, at most maxAttempts times.
func (s *Service) change(ctx context.Context, actor Actor, id int64, typ string,
	edit func(g *store.Goal, at time.Time) error) (store.Goal, error) {
	for attempt := 1; ; attempt++ {
		g, err := s.db.GoalGet(ctx, id)
		if err != nil {
			return store.Goal{}, err
		}
		read, at := g.Version, now()
		if err := edit(&g, at); err != nil {
			return store.Goal{}, err
		}
		g.UpdatedAt = at
		got, rolled, err := s.db.GoalUpdate(ctx, g)
		if gathering.ErrorCode(err) == gathering.ECONFLICT && attempt < maxAttempts && s.moved(ctx, id, read) {
			continue
		}
		if err != nil {
			return store.Goal{}, err
		}
		s.announce(ctx, actor, typ, got, rolled)
		return got, nil
	}
}

// moved reports whether goal id is no longer at version read.
func (s *Service) moved(ctx context.Context, id, read int64) bool {
	g, err := s.db.GoalGet(ctx, id)
	return err == nil && g.Version != read
}

// Delete deletes goal id with its sub-goals at every depth and their
// dependencies, and announces goal.deleted (and goal.progress for the
// ancestors whose progress rolled up). ENOTFOUND; ECONFLICT when it or one
// of its sub-goals is active.
func (s *Service) Delete(ctx context.Context, actor Actor, id int64) error {
	g, err := s.db.GoalGet(ctx, id)
	if err != nil {
		return err
	}
	rolled, err := s.db.GoalDelete(ctx, id, now())
	if err != nil {
		return err
	}
	s.announce(ctx, actor, "deleted", g, rolled)
	return nil
}
