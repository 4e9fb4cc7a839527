package circle

import (
	"context"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// Submission is the work done on a task.
type Submission struct {
	Result        string
	FilesModified []string // paths inside the circle's project
}

// Submit hands in the work on an assigned or in-progress task: in review
// with a reviewer picked when the circle requires reviews, else completed.
// A background task still working on it is cancelled. ENOTFOUND, EINVALID
// with field details, ECONFLICT when the task is in another status.
func (s *Service) Submit(ctx context.Context, circleName string, id int64, sub Submission) (store.CircleTask, error) {
	var ps problems
	ps.checkText("result", sub.Result, MaxResult)
	files := ps.cleanPaths("files_modified", sub.FilesModified)
	if err := ps.err("submission"); err != nil {
		return store.CircleTask{}, err
	}
	c, t, err := s.taskOf(ctx, circleName, id)
	if err != nil {
		return t, err
	}
	if t.Status != store.TaskAssigned && t.Status != store.TaskInProgress {
		return t, gathering.Errorf(gathering.ECONFLICT, "The task %d is %s; only an assigned or in-progress task can be submitted.", id, t.Status)
	}
	got, err := s.submit(ctx, c, t, sub.Result, files)
	if err != nil {
		return got, changed(err, id)
	}
	if t.BackgroundTaskID != "" {
		s.cancelBackground(ctx, t.BackgroundTaskID)
	}
	return got, nil
}

// changed explains the store's ECONFLICT about a task to a caller.
func changed(err error, id int64) error {
	if gathering.ErrorCode(err) == gathering.ECONFLICT {
		return gathering.Errorf(gathering.ECONFLICT, "The task %d changed meanwhile; load it again.", id)
	}
	return err
}

// submit records the files t's assignee modified (opening the conflicts
// they make), then turns t in review with a reviewer, or completed, with
// result; it announces the submission and, for a completed task, routes
// the pending tasks into the freed slot.
func (s *Service) submit(ctx context.Context, c store.Circle, t store.CircleTask, result string, files []string) (store.CircleTask, error) {
	if len(files) > 0 {
		s.touch(ctx, c.Name, t.ID, files)
	}
	now := time.Now()
	next := t
	next.Result, next.UpdatedAt = result, now
	if files != nil {
		next.FilesModified = files
	}
	if c.RequireReview {
		d, err := s.db.CircleDetail(ctx, c.Name)
		if err != nil {
			return t, err
		}
		next.Status, next.ReviewerID = store.TaskInReview, pickReviewer(d.Members, t.AssignedAgentID)
	} else {
		next.Status, next.CompletedAt = store.TaskDone, now
	}
	got, err := s.db.CircleTaskChange(ctx, store.CircleTaskChange{Task: next, From: t.Status, FromBackgroundTask: t.BackgroundTaskID})
	if err != nil {
		return t, err
	}
	s.publishTask(ctx, "circle.task.submitted", c.Name, got)
	if got.Status == store.TaskDone {
		s.publishTask(ctx, "circle.task.completed", c.Name, got)
		s.route(ctx, c.Name)
	}
	return got, nil
}

// pickReviewer is the member who reviews a task of assignee: one who can
// review, other than the assignee, with the fewest active tasks and
// reviews, then the lowest agent id; 0 when there is none.
func pickReviewer(members []store.CircleMemberDetail, assignee int64) int64 {
	var best store.CircleMemberDetail
	for _, m := range members {
		if !m.CanReview || m.AgentID == assignee {
			continue
		}
		if best.AgentID == 0 || m.Workload+m.Reviewing < best.Workload+best.Reviewing {
			best = m
		}
	}
	return best.AgentID
}

// Review is a reviewer's decision on a task in review.
type Review struct {
	ReviewerID int64
	Comment    string // approve: optional comments; reject: the reason, required
}

// Approve completes a task in review; the reviewer must be a member who
// can review, other than the assignee. ENOTFOUND, EINVALID on reviewer_id
// or comments, ECONFLICT when the task is not in review.
func (s *Service) Approve(ctx context.Context, circleName string, id int64, r Review) (store.CircleTask, error) {
	var ps problems
	ps.checkText("comments", r.Comment, MaxComment)
	return s.review(ctx, circleName, id, r, true, ps)
}

// Reject sends a task in review back to its assignee with the reason as
// feedback: in progress again, and a new background task starts when the
// circle runs. The reviewer must be a member who can review, other than
// the assignee. ENOTFOUND, EINVALID on reviewer_id or reason (required),
// ECONFLICT when the task is not in review.
func (s *Service) Reject(ctx context.Context, circleName string, id int64, r Review) (store.CircleTask, error) {
	var ps problems
	if n := runes(strings.TrimSpace(r.Comment)); n < 1 || n > MaxComment {
		ps.add("reason", "must be 1 to %d characters", MaxComment)
	}
	return s.review(ctx, circleName, id, r, false, ps)
}

// review records an approval or a rejection.
func (s *Service) review(ctx context.Context, circleName string, id int64, r Review, approved bool, ps problems) (store.CircleTask, error) {
	c, t, err := s.taskOf(ctx, circleName, id)
	if err != nil {
		return t, err
	}
	d, err := s.db.CircleDetail(ctx, circleName)
	if err != nil {
		return t, err
	}
	checkReviewer(&ps, d, t, r.ReviewerID)
	if err := ps.err("review"); err != nil {
		return t, err
	}
	if t.Status != store.TaskInReview {
		return t, gathering.Errorf(gathering.ECONFLICT, "The task %d is %s, not in review.", id, t.Status)
	}
	now := time.Now()
	next := t
	next.ReviewerID, next.UpdatedAt = r.ReviewerID, now
	if approved {
		next.Status, next.CompletedAt = store.TaskDone, now
	} else {
		next.Status, next.Feedback, next.BackgroundTaskID = store.TaskInProgress, strings.TrimSpace(r.Comment), ""
	}
	got, err := s.db.CircleTaskChange(ctx, store.CircleTaskChange{Task: next, From: t.Status, FromBackgroundTask: t.BackgroundTaskID,
		Review: &store.CircleReview{AssigneeID: t.AssignedAgentID, ReviewerID: r.ReviewerID, Approved: approved, Comment: r.Comment, At: now}})
	if err != nil {
		return got, changed(err, id)
	}
	return s.reviewed(ctx, c, got), nil
}

// checkReviewer records why reviewerID may not review t, if it may not.
func checkReviewer(ps *problems, d store.CircleDetail, t store.CircleTask, reviewerID int64) {
	m, ok := member(d, reviewerID)
	switch {
	case !ok:
		ps.add("reviewer_id", "is not a member of the circle")
	case !m.CanReview:
		ps.add("reviewer_id", "is a member who cannot review")
	case reviewerID == t.AssignedAgentID:
		ps.add("reviewer_id", "a member cannot review their own task")
	}
}

// reviewed announces a review and what follows it: the freed slot of a
// completed task goes to the pending tasks, a rejected task starts again.
func (s *Service) reviewed(ctx context.Context, c store.Circle, t store.CircleTask) store.CircleTask {
	if t.Status == store.TaskDone {
		s.publishTask(ctx, "circle.task.approved", c.Name, t)
		s.publishTask(ctx, "circle.task.completed", c.Name, t)
		s.route(ctx, c.Name)
		return t
	}
	s.publishTask(ctx, "circle.task.rejected", c.Name, t)
	return s.startWork(ctx, t)
}
