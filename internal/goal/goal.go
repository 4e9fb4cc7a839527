// Package goal keeps agents' goals: a hierarchy of sub-goals whose
// progress rolls up, with a status that moves through transitions
// (start, pause, resume, block, complete, fail, cancel), dependencies
// between goals and links to circle tasks and background tasks.
//
// The Service is the one path for people (through the HTTP API) and agents
// (through the gathering.* tools): it validates the input, checks each
// transition against the goal's status, writes through the store (which
// rolls progress up and refuses to activate a blocked goal in the same
// transaction) and announces every change on the bus, on the topics
// goal:<id> and agent:<agent id>:
//
//	goal.created, goal.updated, goal.deleted
//	goal.started, goal.paused, goal.resumed, goal.blocked,
//	goal.completed, goal.failed, goal.cancelled
//	goal.progress (also for each ancestor whose progress rolled up)
//	goal.dependency_added, goal.dependency_removed
//
// The service starts no goroutine.
package goal

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// Actor is who acts on a goal: a user, or an agent acting for one. Events
// name the agent when there is one, else the user.
type Actor struct {
	UserID  int64
	AgentID int64
}

// String names the actor as events do: "agent:7", "user:3", or "" for
// nobody.
func (a Actor) String() string {
	switch {
	case a.AgentID != 0:
		return "agent:" + strconv.FormatInt(a.AgentID, 10)
	case a.UserID != 0:
		return "user:" + strconv.FormatInt(a.UserID, 10)
	}
	return ""
}

// Options configure a Service; the zero value is a useful default.
type Options struct {
	// Logger reports the events that could not be published (the change
	// itself is stored); nil discards.
	Logger *slog.Logger
}

// Service keeps goals. Its methods are safe for concurrent use.
type Service struct {
	db   store.Store
	bus  *event.Bus
	opts Options
}

// New returns a Service on db that publishes on bus (nil: no events).
func New(db store.Store, bus *event.Bus, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, bus: bus, opts: opts}
}

// now is the time the service stamps its writes with, to the millisecond
// that both stores keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// Topic is the event topic of a goal.
func Topic(id int64) string { return "goal:" + strconv.FormatInt(id, 10) }

// goalEvent is the data of a goal's events.
type goalEvent struct {
	ID       int64  `json:"id"`
	AgentID  int64  `json:"agent_id"`
	ParentID int64  `json:"parent_id,omitempty"`
	CircleID int64  `json:"circle_id,omitempty"`
	Title    string `json:"title"`
	Status   string `json:"status"`
	Progress int    `json:"progress_percent"`
	Message  string `json:"status_message,omitempty"`
	Version  int64  `json:"version"`
	Rollup   bool   `json:"rollup,omitempty"` // a goal.progress of an ancestor, rolled up from a sub-goal
	// DependsOnID and DependencyType describe a dependency added or
	// removed.
	DependsOnID    int64  `json:"depends_on_id,omitempty"`
	DependencyType string `json:"dependency_type,omitempty"`
}

// eventOf is the event data of g.
func eventOf(g store.Goal) goalEvent {
	return goalEvent{ID: g.ID, AgentID: g.AgentID, ParentID: g.ParentID, CircleID: g.CircleID, Title: g.Title,
		Status: string(g.Status), Progress: g.Progress, Message: g.StatusMessage, Version: g.Version}
}

// publish announces goal.<typ> with data on the goal's topics.
func (s *Service) publish(ctx context.Context, actor Actor, typ string, g store.Goal, data goalEvent) {
	if s.bus == nil {
		return
	}
	raw, err := json.Marshal(data)
	if err == nil {
		topics := []string{Topic(g.ID), "agent:" + strconv.FormatInt(g.AgentID, 10)}
		_, err = s.bus.Publish(context.WithoutCancel(ctx), event.Event{Type: "goal." + typ, Topics: topics,
			Actor: actor.String(), Data: raw})
	}
	if err != nil {
		s.opts.Logger.Warn("publishing a goal event failed", "type", typ, "goal_id", g.ID, "err", err)
	}
}

// announce publishes goal.<typ> about g, then goal.progress about each
// ancestor whose progress rolled up.
func (s *Service) announce(ctx context.Context, actor Actor, typ string, g store.Goal, rolled []store.Goal) {
	s.publish(ctx, actor, typ, g, eventOf(g))
	s.announceRolled(ctx, actor, rolled)
}

// announceRolled publishes goal.progress about each ancestor whose
// progress rolled up.
func (s *Service) announceRolled(ctx context.Context, actor Actor, rolled []store.Goal) {
	for _, r := range rolled {
		data := eventOf(r)
		data.Rollup = true
		s.publish(ctx, actor, "progress", r, data)
	}
}

// missingAs turns the ENOTFOUND of a goal or an agent that a request
// names into a field-level EINVALID.
func missingAs(err error, field, message string) error {
	if gathering.ErrorCode(err) == gathering.ENOTFOUND {
		return gathering.Invalid("The goal is invalid.", gathering.FieldError{Field: field, Message: message})
	}
	return err
}
