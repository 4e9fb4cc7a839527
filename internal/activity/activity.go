// Package activity keeps each project's activity log: what people and
// agents did in it (files created, edited and deleted, commits, commands,
// test runs, builds, discussions). The HTTP layer records what happens
// through its file and git endpoints with Record; the Recorder records what
// agents and people do through the fs, git and shell tools, from the
// tool executions this instance ran. Each entry is announced on the bus as
// workspace.activity on the topic project:<id>.
package activity

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/store"
)

// Type is the event that announces a new activity.
const Type = "workspace.activity"

// Topic is the topic of a project's workspace events.
func Topic(projectID int64) string { return "project:" + strconv.FormatInt(projectID, 10) }

// Record appends a to its project's log and announces it on bus (nil: no
// event).
func Record(ctx context.Context, db store.ProjectStore, bus *event.Bus, a store.Activity) (store.Activity, error) {
	a, err := db.ActivityAdd(ctx, a)
	if err != nil || bus == nil {
		return a, err
	}
	data, _ := json.Marshal(map[string]any{"id": a.ID, "project_id": a.ProjectID, "kind": a.Kind, "summary": a.Summary,
		"path": a.Path, "user_id": a.UserID, "agent_id": a.AgentID, "at": a.At})
	_, err = bus.Publish(context.WithoutCancel(ctx), event.Event{Type: Type, Topics: []string{Topic(a.ProjectID)}, Data: data})
	return a, err
}
