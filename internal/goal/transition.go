package goal

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// transition is one status change: from which statuses, to which, and the
// event that announces it.
type transition struct {
	verb  string // what the caller asked: "start"
	event string // goal.<event>: "started"
	from  []store.GoalStatus
	to    store.GoalStatus
}

// unfinished are the statuses a goal can still leave.
var unfinished = []store.GoalStatus{store.GoalPending, store.GoalActive, store.GoalBlocked, store.GoalPaused}

// The transitions.
var (
	startGoal    = transition{"start", "started", []store.GoalStatus{store.GoalPending}, store.GoalActive}
	pauseGoal    = transition{"pause", "paused", []store.GoalStatus{store.GoalActive}, store.GoalPaused}
	resumeGoal   = transition{"resume", "resumed", []store.GoalStatus{store.GoalPaused, store.GoalBlocked}, store.GoalActive}
	blockGoal    = transition{"block", "blocked", []store.GoalStatus{store.GoalPending, store.GoalActive}, store.GoalBlocked}
	completeGoal = transition{"complete", "completed", unfinished, store.GoalCompleted}
	failGoal     = transition{"fail", "failed", unfinished, store.GoalFailed}
	cancelGoal   = transition{"cancel", "cancelled", unfinished, store.GoalCancelled}
)

// Start turns a pending goal active (its StartedAt now) and announces
// goal.started. ENOTFOUND; ECONFLICT when it is not pending, or while it
// depends with blocks on goals that are not completed (the message names
// them).
func (s *Service) Start(ctx context.Context, actor Actor, id int64) (store.Goal, error) {
	return s.move(ctx, actor, id, startGoal, nil)
}

// Pause turns an active goal paused, with reason as its status message
// unless reason is empty, and announces goal.paused. ENOTFOUND; EINVALID
// for a reason too long; ECONFLICT when it is not active.
func (s *Service) Pause(ctx context.Context, actor Actor, id int64, reason string) (store.Goal, error) {
	if err := checkText("reason", reason, MaxStatusMessage); err != nil {
		return store.Goal{}, err
	}
	return s.move(ctx, actor, id, pauseGoal, withMessage(reason))
}

// Resume turns a paused or blocked goal active again and announces
// goal.resumed. ENOTFOUND; ECONFLICT when it is neither, or while it
// depends with blocks on goals that are not completed.
func (s *Service) Resume(ctx context.Context, actor Actor, id int64) (store.Goal, error) {
	return s.move(ctx, actor, id, resumeGoal, nil)
}

// Block turns a pending or active goal blocked (the agent cannot go on),
// with reason as its status message unless reason is empty, and announces
// goal.blocked. ENOTFOUND; EINVALID for a reason too long; ECONFLICT when
// it is neither pending nor active.
func (s *Service) Block(ctx context.Context, actor Actor, id int64, reason string) (store.Goal, error) {
	if err := checkText("reason", reason, MaxStatusMessage); err != nil {
		return store.Goal{}, err
	}
	return s.move(ctx, actor, id, blockGoal, withMessage(reason))
}

// Complete turns an unfinished goal completed at progress 100, with
// summary as its result summary unless summary is empty, and announces
// goal.completed. ENOTFOUND; EINVALID for a summary too long; ECONFLICT
// when it is finished already.
func (s *Service) Complete(ctx context.Context, actor Actor, id int64, summary string) (store.Goal, error) {
	if err := checkText("result_summary", summary, MaxResultSummary); err != nil {
		return store.Goal{}, err
	}
	return s.move(ctx, actor, id, completeGoal, func(g *store.Goal) {
		g.Progress = 100
		if summary != "" {
			g.ResultSummary = summary
		}
	})
}

// Fail turns an unfinished goal failed, with reason as its status message
// and lessons as its lessons learned unless lessons is empty, and
// announces goal.failed. ENOTFOUND; EINVALID for a reason that is empty or
// too long, or lessons too long; ECONFLICT when it is finished already.
func (s *Service) Fail(ctx context.Context, actor Actor, id int64, reason, lessons string) (store.Goal, error) {
	var c checker
	if strings.TrimSpace(reason) == "" {
		c.add("reason", "is required")
	}
	c.text("reason", reason, MaxStatusMessage)
	c.text("lessons_learned", lessons, MaxLessonsLearned)
	if err := c.err(); err != nil {
		return store.Goal{}, err
	}
	return s.move(ctx, actor, id, failGoal, func(g *store.Goal) {
		g.StatusMessage = reason
		if lessons != "" {
			g.LessonsLearned = lessons
		}
	})
}

// Cancel turns an unfinished goal cancelled, with reason as its status
// message unless reason is empty, and announces goal.cancelled; its
// parent's progress no longer counts it. ENOTFOUND; EINVALID for a reason
// too long; ECONFLICT when it is finished already.
func (s *Service) Cancel(ctx context.Context, actor Actor, id int64, reason string) (store.Goal, error) {
	if err := checkText("reason", reason, MaxStatusMessage); err != nil {
		return store.Goal{}, err
	}
	return s.move(ctx, actor, id, cancelGoal, withMessage(reason))
}

// checkText is the EINVALID of a text field longer than limit, or nil.
func checkText(field, s string, limit int) error {
	var c checker
	c.text(field, s, limit)
	return c.err()
}

// withMessage sets a goal's status message to message, unless it is
// empty.
func withMessage(message string) func(g *store.Goal) {
	return func(g *store.Goal) {
		if message != "" {
			g.StatusMessage = message
		}
	}
}

// move makes transition t on goal id, with the changes edit (nil: none)
// makes besides the status and its times: StartedAt when the goal first
// becomes active, CompletedAt when it finishes.
func (s *Service) move(ctx context.Context, actor Actor, id int64, t transition, edit func(g *store.Goal)) (store.Goal, error) {
	return s.change(ctx, actor, id, t.event, func(g *store.Goal, at time.Time) error {
		if !slices.Contains(t.from, g.Status) {
			return gathering.Errorf(gathering.ECONFLICT, "Goal %d is %s; only a goal that is %s can %s.",
				g.ID, g.Status, orList(t.from), t.verb)
		}
		if t.to == store.GoalActive {
			if err := s.unblocked(ctx, *g, t.verb); err != nil {
				return err
			}
		}
		g.Status = t.to
		if t.to == store.GoalActive && g.StartedAt.IsZero() {
			g.StartedAt = at
		}
		if t.to.Final() {
			g.CompletedAt = at
		}
		if edit != nil {
			edit(g)
		}
		return nil
	})
}

// unblocked refuses with ECONFLICT, naming them, while g depends with
// blocks on goals that are not completed. The store checks again in the
// write's transaction.
func (s *Service) unblocked(ctx context.Context, g store.Goal, verb string) error {
	blockers, err := s.db.GoalBlockers(ctx, g.ID)
	if err != nil || len(blockers) == 0 {
		return err
	}
	names := make([]string, len(blockers))
	for i, b := range blockers {
		names[i] = fmt.Sprintf("%d %q (%s)", b.ID, b.Title, b.Status)
	}
	return gathering.Errorf(gathering.ECONFLICT, "Goal %d cannot %s: it is blocked by goals not completed yet: %s.",
		g.ID, verb, strings.Join(names, ", "))
}

// orList joins statuses as "a, b or c".
func orList(statuses []store.GoalStatus) string {
	words := make([]string, len(statuses))
	for i, s := range statuses {
		words[i] = string(s)
	}
	if len(words) == 1 {
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
