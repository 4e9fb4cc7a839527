package scheduler

import (
	"cmp"
	"context"
	"encoding/json"
	"time"

	"github.com/gathering/gathering/internal/background"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/tool"
)

// pollEvery is how often a run polls the pipeline run or the background
// task it waits for.
const pollEvery = 250 * time.Millisecond

// dispatch does an occurrence's work and returns its result: the outcome
// of the pipeline run it started, or the output of the tool it called.
func (s *Scheduler) dispatch(ctx context.Context, l store.Lease, a store.ScheduledAction, r store.ScheduleRun) (json.RawMessage, error) {
	switch a.ActionType {
	case store.ActionExecutePipeline:
		return s.runPipeline(ctx, l, a, r)
	case store.ActionSendNotification:
		return s.callTool(ctx, a, r, "notify.webhook")
	case store.ActionRunTask:
		return s.runTask(ctx, l, a, r)
	case store.ActionCallAPI:
		out, err := s.callTool(ctx, a, r, "http.request")
		if err != nil {
			return out, err
		}
		return out, answerError(out)
	}
	return nil, gathering.Errorf(gathering.EUNSUPPORTED, "The action type %q cannot run on this server.", a.ActionType)
}

// pipelineConfig is the action_config of execute_pipeline.
type pipelineConfig struct {
	PipelineID  int64           `json:"pipeline_id"`
	TriggerData json.RawMessage `json:"trigger_data"`
}

// runPipeline starts a run of the configured pipeline with the trigger data
// (the event's, for an event run), links it, and waits for its end: the
// occurrence completes only when the pipeline run completes. Running out of
// time cancels the pipeline run.
func (s *Scheduler) runPipeline(ctx context.Context, l store.Lease, a store.ScheduledAction, r store.ScheduleRun) (json.RawMessage, error) {
	var cfg pipelineConfig
	if err := json.Unmarshal(a.ActionConfig, &cfg); err != nil {
		return nil, gathering.Errorf(gathering.EINVALID, "The action's config is not valid: %v", err)
	}
	trigger := cfg.TriggerData
	if len(r.TriggerData) > 0 {
		trigger = r.TriggerData
	}
	run, err := s.pipelines.Submit(ctx, cfg.PipelineID, trigger, a.CreatedBy)
	if err != nil {
		return nil, err
	}
	if err := s.db.ScheduleRunLink(ctx, l, run.ID, ""); err != nil {
		return nil, err
	}
	run, err = await(ctx, run, func(r store.PipelineRun) bool { return r.Status.Final() },
		func(ctx context.Context) (store.PipelineRun, error) { return s.db.RunGet(ctx, run.ID) },
		func(ctx context.Context) { _, _ = s.pipelines.Cancel(ctx, run.ID) })
	if err != nil {
		return nil, err
	}
	out, _ := json.Marshal(map[string]any{"pipeline_run_id": run.ID, "status": run.Status})
	if run.Status != store.RunCompleted {
		return out, gathering.Errorf(gathering.EUNAVAILABLE, "The pipeline run %s ended %s: %s", run.ID, run.Status, run.Error)
	}
	return out, nil
}

// taskConfig is the action_config of run_task: the task's goal and
// limits (zero: the defaults).
type taskConfig struct {
	Goal               string `json:"goal"`
	MaxSteps           int    `json:"max_steps"`
	TimeoutSeconds     int64  `json:"timeout_seconds"`
	CheckpointInterval int    `json:"checkpoint_interval"`
}

// newTask is the background task an occurrence of a run_task action asks
// for, as the action's creator; an event run's goal ends with the event.
func newTask(a store.ScheduledAction, r store.ScheduleRun) (background.NewTask, error) {
	var cfg taskConfig
	if err := json.Unmarshal(a.ActionConfig, &cfg); err != nil {
		return background.NewTask{}, gathering.Errorf(gathering.EINVALID, "The action's config is not valid: %v", err)
	}
	if len(r.TriggerData) > 0 {
		event := string(r.TriggerData)
		if room := background.MaxGoalLength - len([]rune(cfg.Goal)) - 40; len([]rune(event)) > room {
			event = string([]rune(event)[:max(room, 0)]) + "…"
		}
		cfg.Goal += "\n\nThe event that started this task:\n" + event
	}
	return background.NewTask{AgentID: a.AgentID, UserID: a.CreatedBy, Goal: cfg.Goal, MaxSteps: cfg.MaxSteps,
		TimeoutSec: cfg.TimeoutSeconds, CheckpointInterval: cfg.CheckpointInterval}, nil
}

// runTask starts a background task, links it (before it is announced, so
// that the events it causes carry this run's depth), and waits for its
// end: the occurrence completes only when the task completes. Running out
// of time cancels the task.
func (s *Scheduler) runTask(ctx context.Context, l store.Lease, a store.ScheduledAction, r store.ScheduleRun) (json.RawMessage, error) {
	n, err := newTask(a, r)
	if err != nil {
		return nil, err
	}
	n.ID = event.NewID(time.Now())
	if err := s.db.ScheduleRunLink(ctx, l, "", n.ID); err != nil {
		return nil, err
	}
	t, err := s.tasks.Create(ctx, n)
	if err != nil {
		_ = s.db.ScheduleRunLink(ctx, l, "", "") // no task was created
		return nil, err
	}
	t, err = await(ctx, t, func(t store.BackgroundTask) bool { return t.Status.Final() },
		func(ctx context.Context) (store.BackgroundTask, error) { return s.db.TaskGet(ctx, t.ID) },
		func(ctx context.Context) { _, _ = s.tasks.Cancel(ctx, t.ID) })
	if err != nil {
		return nil, err
	}
	out, _ := json.Marshal(map[string]any{"background_task_id": t.ID, "status": t.Status, "result": t.Result})
	if t.Status != store.TaskCompleted {
		return out, gathering.Errorf(gathering.EUNAVAILABLE, "The background task %s ended %s: %s", t.ID, t.Status, t.Error)
	}
	return out, nil
}

// await polls what an occurrence started, every pollEvery, until it is
// final; when ctx ends first, it cancels it and returns ctx's cause.
func await[T any](ctx context.Context, v T, final func(T) bool, get func(context.Context) (T, error), cancel func(context.Context)) (T, error) {
	for !final(v) {
		select {
		case <-ctx.Done():
			cancel(context.WithoutCancel(ctx))
			return v, context.Cause(ctx)
		case <-time.After(pollEvery):
		}
		var err error
		if v, err = get(ctx); err != nil {
			return v, err
		}
	}
	return v, nil
}

// callTool calls a tool with the action's config as its input, as the
// action's creator and with the occurrence's idempotency key, and waits for
// a background execution to end.
func (s *Scheduler) callTool(ctx context.Context, a store.ScheduledAction, r store.ScheduleRun, name string) (json.RawMessage, error) {
	ctx = tool.WithIdempotencyKey(ctx, idempotencyKey(r))
	e, err := s.tools.ExecuteAndWait(ctx, tool.Request{Tool: name, Input: a.ActionConfig, Caller: s.callerOf(ctx, a), UserID: a.CreatedBy})
	if err != nil {
		return nil, err
	}
	if e.Status != store.ToolSucceeded {
		return nil, gathering.Errorf(cmp.Or(e.ErrorCode, gathering.EINTERNAL), "The tool %s ended %s: %s", name, e.Status, e.Error)
	}
	return e.Output, nil
}

// answerError turns an http.request answer of 400 or more into the
// occurrence's failure.
func answerError(out json.RawMessage) error {
	var resp struct{ Status int }
	_ = json.Unmarshal(out, &resp)
	if resp.Status >= 400 {
		return gathering.Errorf(gathering.EUNAVAILABLE, "The API answered with status %d.", resp.Status)
	}
	return nil
}
