package main

import (
	"log/slog"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/background"
	"github.com/gathering/gathering/internal/circle"
	"github.com/gathering/gathering/internal/config"
	"github.com/gathering/gathering/internal/conversation"
	"github.com/gathering/gathering/internal/engine"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/goal"
	"github.com/gathering/gathering/internal/scheduler"
	"github.com/gathering/gathering/internal/servertools"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// team is what agents work together through: circles, conversations and
// goals.
type team struct {
	circles       *circle.Service
	conversations *conversation.Service
	goals         *goal.Service
}

// teamDeps are the services a team is built on.
type teamDeps struct {
	agents    *agent.Service
	tasks     *background.Runner
	pipelines *engine.Engine
	scheduler *scheduler.Scheduler
	tools     *tool.Executor
	bus       *event.Bus
}

// newTeam builds circles, conversations and goals, and offers agents the
// gathering.* tools that act through them and through the engine and the
// scheduler.
func newTeam(cfg *config.Config, db store.Store, d teamDeps, log *slog.Logger) (team, error) {
	t := team{
		circles: circle.New(db, d.tasks, d.bus, circle.Options{Logger: log}),
		goals:   goal.New(db, d.bus, goal.Options{Logger: log}),
	}
	t.conversations = conversation.New(db, d.agents, t.circles, d.bus, conversation.Options{Instance: d.bus.Instance(),
		Lease: cfg.ConversationLease, Exclusive: db.Backend() == store.SQLite, Logger: log})
	reg := d.tools.Registry()
	for _, tl := range servertools.Tools(servertools.Deps{Users: db, Pipelines: d.pipelines, Scheduler: d.scheduler,
		Circles: t.circles, Goals: t.goals}) {
		if err := reg.Register(tl); err != nil {
			return team{}, err
		}
	}
	return t, nil
}
