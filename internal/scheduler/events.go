package scheduler

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// MaxEventDepth is the deepest an event run may be in a chain of event
// runs (a run whose end fires an action whose run fires another, …): an
// event that would fire a deeper run is recorded as a skipped run instead.
const MaxEventDepth = 3

// maxSlotTries bounds how often an event run moves its occurrence on by a
// millisecond because another event's run of the same action holds it.
const maxSlotTries = 10

// trigger is the event_trigger of an event action, in the bus's filter
// syntax: a type pattern and, optionally, topic entries of which an
// event's topics must match one.
type trigger struct {
	Type   string   `json:"type"`
	Topics []string `json:"topics"`
}

// parseTrigger reads an event_trigger strictly: unknown fields are errors.
func parseTrigger(raw json.RawMessage) (trigger, error) {
	var t trigger
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(&t)
	return t, err
}

// checkTrigger checks an action's event_trigger against its schedule type:
// required for an event schedule, which has no time fields, and refused
// for the others.
func checkTrigger(a store.ScheduledAction) []gathering.FieldError {
	var ps []gathering.FieldError
	add := func(field, format string, args ...any) {
		ps = append(ps, gathering.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if a.ScheduleType != store.ScheduleEvent {
		if a.EventTrigger != nil {
			add("event_trigger", "is only for event schedules")
		}
		return ps
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"cron_expression", a.CronExpression != ""}, {"interval_seconds", a.IntervalSec != 0}, {"run_at", !a.RunAt.IsZero()}} {
		if f.set {
			add(f.name, "must be absent from an event schedule, which fires on events")
		}
	}
	if a.EventTrigger == nil {
		add("event_trigger", `is required for an event schedule: {"type": <type pattern>, "topics"?: [<topic>, …]}`)
		return ps
	}
	t, err := parseTrigger(a.EventTrigger)
	if err != nil {
		add("event_trigger", `must be {"type": <type pattern>, "topics"?: [<topic>, …]}`)
		return ps
	}
	return append(ps, t.problems()...)
}

// problems lists what is wrong with a decoded trigger's type and topics.
func (t trigger) problems() []gathering.FieldError {
	var ps []gathering.FieldError
	add := func(field, msg string) { ps = append(ps, gathering.FieldError{Field: field, Message: msg}) }
	if t.Type == "" {
		add("event_trigger/type", `is required: an event type, a prefix such as "pipeline.*", or "*"`)
	} else if msg := event.TypePatternProblem(t.Type); msg != "" {
		add("event_trigger/type", msg)
	}
	if len(t.Topics) > event.MaxTopics {
		add("event_trigger/topics", fmt.Sprintf("at most %d topics", event.MaxTopics))
	}
	for i, topic := range t.Topics {
		if topic == "" || len(topic) > event.MaxTopicLen {
			add(fmt.Sprintf("event_trigger/topics/%d", i), fmt.Sprintf("must be 1 to %d characters", event.MaxTopicLen))
		}
	}
	return ps
}

// armed is an active event action and the filter of its trigger.
type armed struct {
	action store.ScheduledAction
	filter event.Filter
}

// listener is the state of the event listener's goroutine, which alone
// touches it: the active event actions, and whether they must be read
// again before the next event.
type listener struct {
	s       *Scheduler
	actions []armed
	stale   bool
}

// listen fires event actions on the events of the bus. It keeps the active
// event actions in memory, read at the start and again before the first
// event after an action changed (on any instance), a firing found its
// action gone or inactive, or events were missed.
func (s *Scheduler) listen(ctx context.Context, frames <-chan event.Frame) {
	l := &listener{s: s}
	l.reload(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case f, ok := <-frames:
			if !ok {
				return
			}
			l.frame(ctx, f)
		}
	}
}

// reload reads the active event actions; on failure it keeps the ones it
// has and tries again before the next event.
func (l *listener) reload(ctx context.Context) {
	list, err := l.s.db.ActionsByEvent(ctx)
	if err != nil {
		if l.stale = true; ctx.Err() == nil {
			l.s.opts.Logger.Warn("reading the event actions failed", "err", err)
		}
		return
	}
	l.actions, l.stale = l.actions[:0], false
	for _, a := range list {
		if t, err := parseTrigger(a.EventTrigger); err == nil {
			l.actions = append(l.actions, armed{action: a, filter: event.Filter{Types: []string{t.Type}, Topics: t.Topics}})
		}
	}
}

// frame handles one frame of the subscription.
func (l *listener) frame(ctx context.Context, f event.Frame) {
	switch f.Kind {
	case event.KindEvent:
		l.event(ctx, f.Event)
	case event.KindBatch:
		for _, e := range f.Batch {
			l.event(ctx, e)
		}
	case event.KindLagged:
		l.s.opts.Logger.Warn("the scheduler missed events; event actions did not fire on them", "missed", f.Missed)
		l.stale = true
	case event.KindReset:
		l.stale = true
	}
}

// event fires the actions e matches, then wakes the loop to claim their
// runs. A change of an action makes the actions stale; the change event
// itself may fire actions too.
func (l *listener) event(ctx context.Context, e event.Event) {
	if e.Type == changedType {
		l.stale = true
	}
	if l.stale {
		l.reload(ctx)
	}
	matched := l.matching(e)
	if len(matched) == 0 {
		return
	}
	depth, err := l.s.causeDepth(ctx, e)
	if err != nil {
		l.s.opts.Logger.Warn("an event could not fire its actions: its chain depth is unknown", "event_id", e.ID,
			"event_type", e.Type, "err", err)
		return
	}
	data := triggerData(e, depth+1)
	for _, a := range matched {
		err := l.s.fire(ctx, a, e, data, depth+1)
		if gathering.ErrorCode(err) == gathering.ENOTFOUND {
			l.stale = true // deleted, paused or out of executions since it was read
		} else if err != nil && ctx.Err() == nil {
			l.s.opts.Logger.Warn("firing an event action failed", "action_id", a.ID, "event_id", e.ID, "err", err)
		}
	}
	l.s.signal()
}

// matching lists the actions e fires: its type and topics match their
// trigger, and it happened within their start and end dates.
func (l *listener) matching(e event.Event) []store.ScheduledAction {
	var out []store.ScheduledAction
	for _, c := range l.actions {
		a := c.action
		if c.filter.Match(e) && (a.StartDate.IsZero() || !e.At.Before(a.StartDate)) &&
			(a.EndDate.IsZero() || !e.At.After(a.EndDate)) {
			out = append(out, a)
		}
	}
	return out
}

// causeData is what causeDepth reads of an event's data.
type causeData struct {
	Depth  int    `json:"depth"`
	RunID  string `json:"run_id"`
	TaskID string `json:"task_id"`
}

// causeDepth is the depth of the schedule run that caused e: the run a
// schedule.run event is about, the run that started the pipeline run or
// background task a pipeline or background_task event is about; 0 when no
// schedule run caused it.
func (s *Scheduler) causeDepth(ctx context.Context, e event.Event) (int, error) {
	var d causeData
	_ = json.Unmarshal(e.Data, &d) // data of another shape causes nothing
	switch {
	case strings.HasPrefix(e.Type, "schedule.run."):
		return max(d.Depth, 0), nil
	case strings.HasPrefix(e.Type, "pipeline.") && d.RunID != "":
		return s.pipelineDepth(ctx, d.RunID)
	case strings.HasPrefix(e.Type, "background_task.") && d.TaskID != "":
		return linkedDepth(s.db.ScheduleRunDepthOf(ctx, "", d.TaskID))
	}
	return 0, nil
}

// pipelineDepth is the depth of the schedule run that started pipeline run
// id: the run linked to it or, before the link is recorded (a schedule run
// links its pipeline run just after submitting it, when the run's first
// events are out), the depth in the pipeline run's trigger data, which is
// an event run's own trigger data; 0 when no schedule run started it.
func (s *Scheduler) pipelineDepth(ctx context.Context, id string) (int, error) {
	depth, err := s.db.ScheduleRunDepthOf(ctx, id, "")
	if gathering.ErrorCode(err) != gathering.ENOTFOUND {
		return depth, err
	}
	run, err := s.db.RunGet(ctx, id)
	if err != nil {
		return linkedDepth(0, err)
	}
	var d causeData
	_ = json.Unmarshal(run.TriggerData, &d) // another trigger carries no depth
	return max(d.Depth, 0), nil
}

// linkedDepth is a depth looked up by a link, 0 when nothing is linked.
func linkedDepth(depth int, err error) (int, error) {
	if gathering.ErrorCode(err) == gathering.ENOTFOUND {
		return 0, nil
	}
	return depth, err
}

// triggerData is the trigger data of the runs e fires at depth: the event
// as clients see it ({id, type, topics, actor, data, timestamp}) and the
// depth, which a pipeline run started by such a run inherits.
func triggerData(e event.Event, depth int) json.RawMessage {
	raw, _ := json.Marshal(struct {
		event.Event
		Depth int `json:"depth"`
	}{e, depth})
	return raw
}

// fire records that e fires action a at depth: a pending event run that
// any instance claims, or, past MaxEventDepth, a skipped run saying that
// the chain was cut. Its id comes from the action and the event, so the
// instances that all hear e record it once.
func (s *Scheduler) fire(ctx context.Context, a store.ScheduledAction, e event.Event, data json.RawMessage, depth int) error {
	r := store.ScheduleRun{ID: e.ID + "-" + strconv.FormatInt(a.ID, 10), ActionID: a.ID, ScheduledFor: e.At,
		TriggeredBy: store.TriggeredByEvent, Status: store.ScheduleRunPending, TriggerData: data, Depth: depth}
	if depth > MaxEventDepth {
		r.Status, r.FinishedAt = store.ScheduleRunSkipped, time.Now()
		r.Error = fmt.Sprintf("The chain of event-triggered runs was cut at depth %d: the event %s (%s) would have run this action at depth %d.",
			MaxEventDepth, e.ID, e.Type, depth)
	}
	inserted, err := s.insertEventRun(ctx, r)
	if inserted && r.Status == store.ScheduleRunSkipped {
		s.opts.Logger.Info("an event-triggered chain was cut", "action_id", a.ID, "event_id", e.ID,
			"event_type", e.Type, "depth", depth, "max_depth", MaxEventDepth)
	}
	return err
}

// insertEventRun inserts r and reports whether it did: not when another
// instance already recorded the same run. While another event's run of the
// action holds r's occurrence (events within a millisecond, which is what
// SQLite keeps), r moves on by a millisecond.
func (s *Scheduler) insertEventRun(ctx context.Context, r store.ScheduleRun) (bool, error) {
	for range maxSlotTries {
		_, err := s.db.ActionFire(ctx, r)
		if gathering.ErrorCode(err) != gathering.ECONFLICT {
			return err == nil, err
		}
		_, err = s.db.ScheduleRunGet(ctx, r.ID)
		if gathering.ErrorCode(err) != gathering.ENOTFOUND {
			return false, err // nil: another instance recorded it
		}
		r.ScheduledFor = r.ScheduledFor.Add(time.Millisecond)
	}
	return false, gathering.Errorf(gathering.ECONFLICT, "The action %d has runs at every millisecond after the event.", r.ActionID)
}

// eventExpiry is an active event action, expired when no event can fire
// it any more: its end date has passed or its executions are spent.
func eventExpiry(a store.ScheduledAction, now time.Time) store.ScheduledAction {
	if !a.EndDate.IsZero() && now.After(a.EndDate) || a.MaxExecutions > 0 && a.ExecutionCount >= a.MaxExecutions {
		a.Status = store.ActionExpired
	}
	return a
}
