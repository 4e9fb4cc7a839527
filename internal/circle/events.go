package circle

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/store"
)

// Topic is the topic of a circle's events.
func Topic(name string) string { return "circle:" + name }

// agentTopic is the topic of an agent's events.
func agentTopic(id int64) string { return "agent:" + strconv.FormatInt(id, 10) }

// publish announces typ on the circle's topic and on the topics of the
// agents it concerns (0s are skipped), with data and the circle's name.
func (s *Service) publish(ctx context.Context, typ, circle string, data map[string]any, agents ...int64) {
	if s.bus == nil {
		return
	}
	topics := []string{Topic(circle)}
	for _, id := range agents {
		if id != 0 {
			topics = append(topics, agentTopic(id))
		}
	}
	data["circle"] = circle
	raw, _ := json.Marshal(data)
	if _, err := s.bus.Publish(context.WithoutCancel(ctx), event.Event{Type: typ, Topics: topics, Data: raw}); err != nil {
		s.log.Warn("publishing a circle event failed", "type", typ, "circle", circle, "err", err)
	}
}

// publishCircle announces a change of the circle itself.
func (s *Service) publishCircle(ctx context.Context, typ string, c store.Circle) {
	s.publish(ctx, typ, c.Name, map[string]any{"circle_id": c.ID, "status": c.Status, "require_review": c.RequireReview,
		"auto_route": c.AutoRoute, "max_concurrent_tasks": c.MaxConcurrentTasks, "project_id": c.ProjectID})
}

// publishTask announces a change of a task, on its assignee's topic too.
func (s *Service) publishTask(ctx context.Context, typ, circle string, t store.CircleTask) {
	data := map[string]any{"task_id": t.ID, "title": t.Title, "status": t.Status, "priority": t.Priority,
		"agent_id": t.AssignedAgentID, "reviewer_id": t.ReviewerID, "background_task_id": t.BackgroundTaskID}
	if typ == "circle.task.rejected" {
		data["feedback"] = t.Feedback
	}
	s.publish(ctx, typ, circle, data, t.AssignedAgentID)
}

// publishConflict announces a conflict, on both agents' topics too.
func (s *Service) publishConflict(ctx context.Context, typ, circle string, c store.CircleConflict) {
	s.publish(ctx, typ, circle, map[string]any{"conflict_id": c.ID, "path": c.Path, "agent_ids": []int64{c.AgentA, c.AgentB},
		"task_ids": []int64{c.TaskA, c.TaskB}, "resolution": c.Resolution}, c.AgentA, c.AgentB)
}
