package circle

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/background"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// waiting reports whether a task waits for a background task to work on
// it: assigned, or sent back to its assignee, with none.
func waiting(t store.CircleTask) bool {
	return (t.Status == store.TaskAssigned || t.Status == store.TaskInProgress) && t.BackgroundTaskID == ""
}

// startWork starts the background task that works on t when t waits for
// one and its circle runs (read afresh: a status read before a concurrent
// start may be stale), and returns t as it is after that. The task first
// names the background task it will have (a compare-and-set, so one
// instance starts it). When the runner refuses the task for good (its
// agent is gone: EINVALID) the task fails; for a while (its most tasks run,
// or any other failure) the name is taken back and the next background
// task's end, or the next sweep, tries again.
func (s *Service) startWork(ctx context.Context, t store.CircleTask) store.CircleTask {
	if !waiting(t) || s.tasks == nil {
		return t
	}
	c, err := s.db.CircleGetByID(ctx, t.CircleID)
	if err != nil || c.Status != store.CircleRunning {
		s.logFailure("loading a task's circle", err)
		return t
	}
	now := time.Now()
	next := t
	next.Status, next.BackgroundTaskID, next.UpdatedAt = store.TaskInProgress, event.NewID(now), now
	if next.StartedAt.IsZero() {
		next.StartedAt = now
	}
	claimed, err := s.db.CircleTaskChange(ctx, store.CircleTaskChange{Task: next, From: t.Status})
	if err != nil {
		s.logFailure("claiming a task to start", err)
		return t
	}
	_, err = s.tasks.Create(ctx, background.NewTask{ID: claimed.BackgroundTaskID, AgentID: claimed.AssignedAgentID,
		UserID: claimed.CreatedBy, Goal: goal(c.Name, claimed)})
	switch code := gathering.ErrorCode(err); code {
	case "":
		s.publishTask(ctx, "circle.task.started", c.Name, claimed)
		return claimed
	case gathering.EINVALID, gathering.ENOTFOUND:
		return s.fail(ctx, c.Name, claimed, "The work could not start: "+gathering.ErrorMessage(err))
	default:
		s.log.Info("a circle task waits to start", "task_id", t.ID, "err", err)
		return s.release(ctx, claimed)
	}
}

// release takes back the background task a task named but could not
// start, so that it waits again.
func (s *Service) release(ctx context.Context, t store.CircleTask) store.CircleTask {
	next := t
	next.BackgroundTaskID, next.UpdatedAt = "", time.Now()
	got, err := s.db.CircleTaskChange(ctx, store.CircleTaskChange{Task: next, From: t.Status, FromBackgroundTask: t.BackgroundTaskID})
	if err != nil {
		s.logFailure("releasing a task that could not start", err)
		return t
	}
	return got
}

// fail ends an in-progress task failed with why as its result and
// announces it; the caller routes the pending tasks into the freed slot.
func (s *Service) fail(ctx context.Context, circleName string, t store.CircleTask, why string) store.CircleTask {
	now := time.Now()
	next := t
	next.Status, next.Result, next.UpdatedAt, next.CompletedAt = store.TaskFailedOut, clip(why, MaxResult), now, now
	got, err := s.db.CircleTaskChange(ctx, store.CircleTaskChange{Task: next, From: t.Status, FromBackgroundTask: t.BackgroundTaskID})
	if err != nil {
		s.logFailure("failing a task", err)
		return t
	}
	s.publishTask(ctx, "circle.task.failed", circleName, got)
	return got
}

// startCircleWork starts every task of a running circle that waits.
func (s *Service) startCircleWork(ctx context.Context, c store.Circle) {
	if c.Status != store.CircleRunning {
		return
	}
	s.eachTask(ctx, store.CircleTaskFilter{CircleID: c.ID, Active: true}, func(t store.CircleTask) { s.startWork(ctx, t) })
}

// startWaiting starts the tasks that wait, in every running circle.
func (s *Service) startWaiting(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	s.eachTask(ctx, store.CircleTaskFilter{Active: true}, func(t store.CircleTask) { s.startWork(ctx, t) })
}

// backgroundEnded submits or fails the circle task a background task
// worked on, once it has ended.
func (s *Service) backgroundEnded(ctx context.Context, backgroundID string) {
	tasks, _, err := s.db.CircleTaskList(ctx, store.CircleTaskFilter{BackgroundTaskID: backgroundID, Status: store.TaskInProgress}, store.Page{Limit: 1})
	if err != nil || len(tasks) == 0 {
		s.logFailure("finding the circle task of a background task", err)
		return
	}
	bg, err := s.db.TaskGet(ctx, backgroundID)
	if err != nil {
		s.logFailure("loading a background task", err)
		return
	}
	s.workEnded(ctx, tasks[0], bg)
}

// workEnded acts on the end of the background task bg that worked on t:
// a completed one submits t with its result, another end fails t; a
// background task still running or paused changes nothing.
func (s *Service) workEnded(ctx context.Context, t store.CircleTask, bg store.BackgroundTask) {
	if !bg.Status.Final() || t.Status != store.TaskInProgress || t.BackgroundTaskID != bg.ID {
		return
	}
	c, err := s.db.CircleGetByID(ctx, t.CircleID)
	if err != nil {
		s.logFailure("loading a task's circle", err)
		return
	}
	if bg.Status != store.TaskCompleted {
		s.fail(ctx, c.Name, t, fmt.Sprintf("The background task %s ended %s: %s", bg.ID, bg.Status, bg.Error))
		s.route(ctx, c.Name)
		return
	}
	result, err := s.resultOf(ctx, bg)
	if err != nil {
		s.logFailure("reading a background task's result", err)
		return
	}
	if _, err := s.submit(ctx, c, t, result, nil); err != nil {
		s.logFailure("submitting a task's work", err)
	}
}

// resultOf is what a completed background task produced: its result or,
// when that is empty (the agent answered only the completion marker), the
// latest answer of its steps that says something.
func (s *Service) resultOf(ctx context.Context, bg store.BackgroundTask) (string, error) {
	if bg.Result != "" {
		return clip(bg.Result, MaxResult), nil
	}
	steps, err := s.db.TaskSteps(ctx, bg.ID)
	for i := len(steps) - 1; i >= 0 && err == nil; i-- {
		text := strings.TrimSpace(steps[i].Content)
		if done, ok := background.Completed(text); ok {
			text = done
		}
		if text != "" {
			return clip(text, MaxResult), nil
		}
	}
	return "", err
}

// reconcile catches up on the background tasks that ended while no
// instance listened: it submits or fails their circle tasks, and a task
// whose background task does not exist (an instance died between naming
// and creating it) waits to start again.
func (s *Service) reconcile(ctx context.Context) {
	s.eachTask(ctx, store.CircleTaskFilter{Status: store.TaskInProgress}, func(t store.CircleTask) {
		if t.BackgroundTaskID == "" {
			return
		}
		bg, err := s.db.TaskGet(ctx, t.BackgroundTaskID)
		switch {
		case gathering.ErrorCode(err) == gathering.ENOTFOUND && time.Since(t.UpdatedAt) > s.opts.Sweep:
			s.release(ctx, t)
		case err != nil:
			s.logFailure("loading a background task", err)
		default:
			s.workEnded(ctx, t, bg)
		}
	})
}

// cancelBackground cancels a background task that no longer needs to run;
// one that has ended already is not an error.
func (s *Service) cancelBackground(ctx context.Context, id string) {
	if s.tasks == nil {
		return
	}
	if _, err := s.tasks.Cancel(ctx, id); err != nil && gathering.ErrorCode(err) != gathering.ECONFLICT {
		s.logFailure("cancelling a background task", err)
	}
}

// goal is the goal of the background task that works on t: its title,
// description (cut to fit the background task's limit), required
// competencies and, after a rejection, the reviewer's feedback.
func goal(circleName string, t store.CircleTask) string {
	head := fmt.Sprintf("You are a member of the circle %q and work on its task #%d.\n\nTitle: %s\n", circleName, t.ID, t.Title)
	if len(t.RequiredCompetencies) > 0 {
		head += "Required competencies: " + strings.Join(t.RequiredCompetencies, ", ") + "\n"
	}
	var tail string
	if t.Feedback != "" {
		tail = "\nA reviewer sent your previous submission back. Address this feedback:\n" + t.Feedback + "\n"
	}
	desc := ""
	if t.Description != "" {
		const before, after = "\nDescription:\n", "\n"
		room := background.MaxGoalLength - runes(head) - runes(tail) - len(before) - len(after)
		desc = before + clip(t.Description, room) + after
	}
	return head + desc + tail
}

// clip cuts s to at most n characters, ending it with an ellipsis when
// cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	return string(r[:n-1]) + "…"
}
