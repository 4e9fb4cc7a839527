package circle

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// fileKinds are the project activities that touch a file.
var fileKinds = map[string]bool{store.ActivityFileCreated: true, store.ActivityFileEdited: true, store.ActivityFileDeleted: true}

// activity records the file an agent touched in a project, for its active
// task in each circle linked to the project (the oldest, when it has
// several there), and announces the conflicts that makes.
func (s *Service) activity(ctx context.Context, data json.RawMessage) {
	var a struct {
		ProjectID int64  `json:"project_id"`
		AgentID   int64  `json:"agent_id"`
		Kind      string `json:"kind"`
		Path      string `json:"path"`
	}
	if json.Unmarshal(data, &a) != nil || a.ProjectID == 0 || a.AgentID == 0 || !fileKinds[a.Kind] {
		return
	}
	p := cleanPath(a.Path)
	if p == "" || p == "." || runes(p) > MaxPath {
		return
	}
	done := map[int64]bool{}
	s.eachTask(ctx, store.CircleTaskFilter{ProjectID: a.ProjectID, AgentID: a.AgentID, Active: true}, func(t store.CircleTask) {
		if done[t.CircleID] {
			return
		}
		done[t.CircleID] = true
		c, err := s.db.CircleGetByID(ctx, t.CircleID)
		if err != nil {
			s.logFailure("loading a task's circle", err)
			return
		}
		s.touch(ctx, c.Name, t.ID, []string{p})
	})
}

// touch records paths for task id of the named circle and announces the
// conflicts that opens.
func (s *Service) touch(ctx context.Context, circleName string, id int64, paths []string) {
	opened, err := s.db.CircleTouch(ctx, id, paths, time.Now())
	if err != nil {
		s.logFailure("recording the files of a task", err)
		return
	}
	for _, c := range opened {
		s.publishConflict(ctx, "circle.conflict.detected", circleName, c)
	}
}

// Conflicts returns a page of the named circle's conflicts, by id, and the
// total: all of them (open nil), the open or the resolved ones; ENOTFOUND
// for the circle.
func (s *Service) Conflicts(ctx context.Context, circleName string, open *bool, pg store.Page) ([]store.CircleConflict, int, error) {
	c, err := s.db.CircleGet(ctx, circleName)
	if err != nil {
		return nil, 0, err
	}
	return s.db.CircleConflictList(ctx, c.ID, open, pg)
}

// Resolve resolves an open conflict of the named circle; ENOTFOUND,
// EINVALID on resolution, ECONFLICT when it is resolved already.
func (s *Service) Resolve(ctx context.Context, circleName string, id int64, resolution string) (store.CircleConflict, error) {
	var ps problems
	ps.checkText("resolution", resolution, MaxResolution)
	if err := ps.err("resolution"); err != nil {
		return store.CircleConflict{}, err
	}
	c, err := s.db.CircleGet(ctx, circleName)
	if err != nil {
		return store.CircleConflict{}, err
	}
	got, err := s.db.CircleConflictResolve(ctx, c.ID, id, resolution, time.Now())
	if gathering.ErrorCode(err) == gathering.ECONFLICT {
		err = gathering.Errorf(gathering.ECONFLICT, "The conflict %d is resolved already.", id)
	}
	if err != nil {
		return got, err
	}
	s.publishConflict(ctx, "circle.conflict.resolved", circleName, got)
	return got, nil
}
