package scheduler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/scheduler"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/pgstore"
	"github.com/gathering/gathering/internal/store/pgtest"
	"github.com/gathering/gathering/internal/store/storetest"
)

// solo names the one instance of a test.
var solo = scheduler.Options{Instance: "solo"}

// publish publishes an event of typ on topics with data, or fails the test.
func (r *rig) publish(t *testing.T, typ string, topics []string, data string) event.Event {
	t.Helper()
	e, err := r.bus.Publish(context.Background(), event.Event{Type: typ, Topics: topics, Data: json.RawMessage(data)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// onEvent is an event action calling url on the events trigger matches.
func onEvent(name, url, trigger string) store.ScheduledAction {
	return store.ScheduledAction{Name: name, ActionType: store.ActionCallAPI, ActionConfig: callAPI(url),
		ScheduleType: store.ScheduleEvent, EventTrigger: json.RawMessage(trigger)}
}

// settled waits until an action has want runs, all finished, then a while
// longer, and fails the test when more came meanwhile. It returns the runs,
// oldest first.
func settled(t *testing.T, r *rig, id int64, want int) []store.ScheduleRun {
	t.Helper()
	eventually(t, 15*time.Second, fmt.Sprintf("%d finished runs", want), func() bool {
		runs := r.runs(t, id)
		for _, run := range runs {
			if run.Status == store.ScheduleRunPending || run.Status == store.ScheduleRunRunning {
				return false
			}
		}
		return len(runs) >= want
	})
	time.Sleep(time.Second) // room for a firing too many
	runs := r.runs(t, id)
	if len(runs) != want {
		t.Fatalf("%d runs, want %d: %s", len(runs), want, showRuns(runs))
	}
	return runs
}

// showRuns prints the gist of runs.
func showRuns(runs []store.ScheduleRun) string {
	var b strings.Builder
	for _, r := range runs {
		fmt.Fprintf(&b, "\n%s %s by %s at depth %d, for %s: %s", r.ID, r.Status, r.TriggeredBy, r.Depth,
			r.ScheduledFor.Format(time.RFC3339Nano), r.Error)
	}
	return b.String()
}

// wantTrigger fails the test unless run's trigger data is e at depth.
func wantTrigger(t *testing.T, run store.ScheduleRun, e event.Event, depth int) {
	t.Helper()
	var got struct {
		ID     string          `json:"id"`
		Type   string          `json:"type"`
		Topics []string        `json:"topics"`
		Data   json.RawMessage `json:"data"`
		At     time.Time       `json:"timestamp"`
		Depth  int             `json:"depth"`
	}
	if err := json.Unmarshal(run.TriggerData, &got); err != nil {
		t.Fatalf("trigger data %s: %v", run.TriggerData, err)
	}
	var data bytes.Buffer
	if err := json.Compact(&data, e.Data); err != nil {
		t.Fatal(err)
	}
	if got.ID != e.ID || got.Type != e.Type || !reflect.DeepEqual(got.Topics, e.Topics) || string(got.Data) != data.String() ||
		!got.At.Equal(e.At) || got.Depth != depth {
		t.Errorf("trigger data %s; want the event %+v at depth %d", run.TriggerData, e, depth)
	}
}

func TestEventActionFiresOnMatchingEvents(t *testing.T) {
	t.Parallel()
	r := newRigOn(t, storetest.SQLite(t), true, solo)
	recv := newReceiver(t)
	a := r.create(t, onEvent("on deploy", recv.URL, `{"type": "deploy.*", "topics": ["service:api"]}`))
	if a.Status != store.ActionActive || !a.NextRunAt.IsZero() {
		t.Fatalf("a new event action is %s, next run %v", a.Status, a.NextRunAt)
	}
	r.publish(t, "build.finished", []string{"service:api"}, `{}`)  // another type
	r.publish(t, "deploy.finished", []string{"service:web"}, `{}`) // another topic
	e := r.publish(t, "deploy.finished", []string{"region:eu", "service:api"}, `{"version": "1.2.3"}`)
	runs := settled(t, r, a.ID, 1)
	run := runs[0]
	if run.Status != store.ScheduleRunCompleted || run.TriggeredBy != store.TriggeredByEvent || run.Depth != 1 ||
		!run.ScheduledFor.Equal(e.At.Truncate(time.Millisecond)) {
		t.Errorf("run %+v", run)
	}
	wantTrigger(t, run, e, 1)
	want := fmt.Sprintf("%d:%s", a.ID, run.ScheduledFor.UTC().Format(time.RFC3339Nano))
	if keys := recv.got(); len(keys) != 1 || keys[0] != want {
		t.Errorf("calls carried %v, want one with %q", keys, want)
	}
	if got, _ := r.db.ActionGet(context.Background(), a.ID); got.ExecutionCount != 1 || got.Status != store.ActionActive {
		t.Errorf("after one event the action is %s with %d executions", got.Status, got.ExecutionCount)
	}
}

func TestEventActionHandsTheEventToItsPipeline(t *testing.T) {
	t.Parallel()
	r := newRigOn(t, storetest.SQLite(t), true, solo)
	recv := newReceiver(t)
	p := callingPipeline(t, r, recv.URL)
	a := r.create(t, store.ScheduledAction{Name: "on order", ActionType: store.ActionExecutePipeline,
		ActionConfig: json.RawMessage(fmt.Sprintf(`{"pipeline_id": %d, "trigger_data": {"ignored": true}}`, p.ID)),
		ScheduleType: store.ScheduleEvent, EventTrigger: json.RawMessage(`{"type": "order.placed"}`)})
	e := r.publish(t, "order.placed", []string{"order:7"}, `{"total": 42}`)
	run := settled(t, r, a.ID, 1)[0]
	pr, err := r.db.RunGet(context.Background(), run.PipelineRunID)
	if err != nil || run.Status != store.ScheduleRunCompleted || string(pr.TriggerData) != string(run.TriggerData) {
		t.Fatalf("schedule run %+v; pipeline run %+v, %v", run, pr, err)
	}
	wantTrigger(t, run, e, 1)
}

// callingPipeline creates a pipeline whose one node posts to url.
func callingPipeline(t *testing.T, r *rig, url string) store.Pipeline {
	t.Helper()
	now := time.Now()
	p, err := r.db.PipelineCreate(context.Background(), store.Pipeline{Name: "call " + event.NewID(now), Status: store.PipelineActive,
		Nodes: json.RawMessage(`[{"id": "start", "type": "trigger"}, {"id": "call", "type": "tool", "config": {"tool": "http.request",
			"input": {"method": "POST", "url": "` + url + `", "body": "event"}}}]`),
		Edges: json.RawMessage(`[{"id": "e1", "from": "start", "to": "call"}]`), Settings: json.RawMessage(`{}`), CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEventFiresOnceAcrossInstances runs two instances on one database,
// each hearing every event (as the PostgreSQL bridge delivers them): a
// burst of events, several within one millisecond, fires the action once
// per event.
func TestEventFiresOnceAcrossInstances(t *testing.T) {
	t.Parallel()
	backends := map[string]func(t *testing.T) (store.Store, store.Store){
		"sqlite": func(t *testing.T) (store.Store, store.Store) { db := storetest.SQLite(t); return db, db },
		"postgres": func(t *testing.T) (store.Store, store.Store) {
			url := pgtest.URL(t)
			return openPostgres(t, url), openPostgres(t, url)
		},
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dbA, dbB := open(t)
			a := newRigOn(t, dbA, false, scheduler.Options{Instance: "instance-a"})
			recv := newReceiver(t)
			action := a.create(t, onEvent("on tick", recv.URL, `{"type": "clock.tick"}`))
			b := newRigOn(t, dbB, false, scheduler.Options{Instance: "instance-b"}) // reads the action as it starts
			const events = 5
			for i := range events {
				e := a.publish(t, "clock.tick", nil, fmt.Sprintf(`{"n": %d}`, i))
				b.bus.Deliver(e)
			}
			runs := settled(t, a, action.ID, events)
			seen := map[string]bool{}
			for _, run := range runs {
				seen[run.ScheduledFor.String()] = true
				if run.Status != store.ScheduleRunCompleted {
					t.Errorf("run %+v", run)
				}
			}
			if keys := recv.got(); len(keys) != events || len(seen) != events {
				t.Errorf("%d calls over %d occurrences; want %d of each", len(keys), len(seen), events)
			}
		})
	}
}

// openPostgres opens and migrates a store on url, closed when the test ends.
func openPostgres(t *testing.T, url string) store.Store {
	t.Helper()
	db, err := pgstore.Open(context.Background(), pgstore.Config{URL: url, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestPauseStopsEventFiring(t *testing.T) {
	t.Parallel()
	r := newRigOn(t, storetest.SQLite(t), true, solo)
	recv := newReceiver(t)
	a := r.create(t, onEvent("on push", recv.URL, `{"type": "repo.push"}`))
	r.publish(t, "repo.push", nil, `{"n": 1}`)
	settled(t, r, a.ID, 1)
	if _, err := r.sched.SetStatus(context.Background(), a.ID, store.ActionPaused); err != nil {
		t.Fatal(err)
	}
	r.publish(t, "repo.push", nil, `{"n": 2}`)
	settled(t, r, a.ID, 1)
	if _, err := r.sched.SetStatus(context.Background(), a.ID, store.ActionActive); err != nil {
		t.Fatal(err)
	}
	r.publish(t, "repo.push", nil, `{"n": 3}`)
	settled(t, r, a.ID, 2)
	if n := len(recv.got()); n != 2 {
		t.Errorf("%d calls, want 2: none while paused", n)
	}
}

func TestMaxExecutionsExpiresAnEventAction(t *testing.T) {
	t.Parallel()
	r := newRigOn(t, storetest.SQLite(t), true, solo)
	recv := newReceiver(t)
	action := onEvent("twice", recv.URL, `{"type": "repo.push"}`)
	action.MaxExecutions = 2
	a := r.create(t, action)
	for i := range 3 {
		r.publish(t, "repo.push", nil, fmt.Sprintf(`{"n": %d}`, i))
	}
	settled(t, r, a.ID, 2)
	if got, _ := r.db.ActionGet(context.Background(), a.ID); got.Status != store.ActionExpired || got.ExecutionCount != 2 {
		t.Errorf("action %s after %d executions", got.Status, got.ExecutionCount)
	}
}

// TestSaturatedSchedulerSleeps: while an instance runs as many runs as it
// may, the event runs wait pending and its loop sleeps until a run ends,
// instead of asking the store again and again what is due.
func TestSaturatedSchedulerSleeps(t *testing.T) {
	t.Parallel()
	db := &countingStore{Store: storetest.SQLite(t)}
	opts := solo
	opts.MaxRunning = 1
	r := newRigOn(t, db, true, opts)
	recv := newReceiver(t)
	recv.delay = 2 * time.Second
	a := r.create(t, onEvent("slow", recv.URL, `{"type": "job.queued"}`))
	for i := range 3 {
		r.publish(t, "job.queued", nil, fmt.Sprintf(`{"n": %d}`, i))
	}
	eventually(t, 5*time.Second, "the first call", func() bool { return len(recv.got()) == 1 })
	before := db.calls.Load()
	time.Sleep(500 * time.Millisecond)
	if n := db.calls.Load() - before; n > 20 {
		t.Errorf("a saturated scheduler made %d queries in 0.5 s", n)
	}
	settled(t, r, a.ID, 3)
}

// TestEventChainIsCutAtMaxDepth: an action that fires on the end of any
// schedule run fires on its own, each run one deeper, until the run it
// would start is past MaxEventDepth: that one is recorded skipped.
func TestEventChainIsCutAtMaxDepth(t *testing.T) {
	t.Parallel()
	r := newRigOn(t, storetest.SQLite(t), true, solo)
	recv := newReceiver(t)
	a := r.create(t, onEvent("loop", recv.URL, `{"type": "schedule.run.completed"}`))
	if _, err := r.sched.Trigger(context.Background(), a.ID); err != nil {
		t.Fatal(err)
	}
	wantCutChain(t, r, a.ID)
	if n := len(recv.got()); n != scheduler.MaxEventDepth+1 {
		t.Errorf("%d calls, want %d", n, scheduler.MaxEventDepth+1)
	}
}

// TestPipelineEventChainIsCutAtMaxDepth: an action that starts a pipeline
// fires on the control event every new pipeline run publishes before the
// schedule run links it, so the depth comes from the pipeline run's
// trigger data.
func TestPipelineEventChainIsCutAtMaxDepth(t *testing.T) {
	t.Parallel()
	r := newRigOn(t, storetest.SQLite(t), true, solo)
	recv := newReceiver(t)
	p := callingPipeline(t, r, recv.URL)
	a := r.create(t, store.ScheduledAction{Name: "relaunch", ActionType: store.ActionExecutePipeline,
		ActionConfig: json.RawMessage(fmt.Sprintf(`{"pipeline_id": %d}`, p.ID)),
		ScheduleType: store.ScheduleEvent, EventTrigger: json.RawMessage(fmt.Sprintf(`{"type": "pipeline.run.control", "topics": ["pipeline:%d"]}`, p.ID))})
	if _, err := r.sched.Trigger(context.Background(), a.ID); err != nil {
		t.Fatal(err)
	}
	wantCutChain(t, r, a.ID)
}

// wantCutChain checks that action id ran manually at depth 0, then on
// events at depths 1 to MaxEventDepth, and then recorded one skipped run
// that says the chain was cut, and nothing more.
func wantCutChain(t *testing.T, r *rig, id int64) {
	t.Helper()
	runs := settled(t, r, id, scheduler.MaxEventDepth+2)
	for depth, run := range runs[:scheduler.MaxEventDepth+1] {
		if run.Depth != depth || run.Status != store.ScheduleRunCompleted {
			t.Errorf("run %d: depth %d, %s (%s)", depth, run.Depth, run.Status, run.Error)
		}
	}
	cut := runs[scheduler.MaxEventDepth+1]
	if cut.Status != store.ScheduleRunSkipped || cut.Depth != scheduler.MaxEventDepth+1 ||
		!strings.Contains(cut.Error, fmt.Sprintf("cut at depth %d", scheduler.MaxEventDepth)) || cut.TriggeredBy != store.TriggeredByEvent {
		t.Errorf("last run: %+v", cut)
	}
}

func TestEventActionsAreChecked(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	for _, tc := range []struct {
		name   string
		action store.ScheduledAction
		fields []string
	}{
		{"no trigger", store.ScheduledAction{ScheduleType: store.ScheduleEvent}, []string{"event_trigger"}},
		{"unknown field", store.ScheduledAction{ScheduleType: store.ScheduleEvent,
			EventTrigger: json.RawMessage(`{"type": "a.b", "topic": "x"}`)}, []string{"event_trigger"}},
		{"no type", store.ScheduledAction{ScheduleType: store.ScheduleEvent,
			EventTrigger: json.RawMessage(`{"topics": ["x"]}`)}, []string{"event_trigger/type"}},
		{"bad patterns", store.ScheduledAction{ScheduleType: store.ScheduleEvent,
			EventTrigger: json.RawMessage(`{"type": "Deploy*", "topics": ["ok", ""]}`)}, []string{"event_trigger/type", "event_trigger/topics/1"}},
		{"time fields", store.ScheduledAction{ScheduleType: store.ScheduleEvent, EventTrigger: json.RawMessage(`{"type": "*"}`),
			CronExpression: "* * * * *", IntervalSec: 60, RunAt: time.Now().Add(time.Hour)}, []string{"cron_expression", "interval_seconds", "run_at"}},
		{"trigger of a timed schedule", store.ScheduledAction{ScheduleType: store.ScheduleInterval, IntervalSec: 60,
			EventTrigger: json.RawMessage(`{"type": "*"}`)}, []string{"event_trigger"}},
	} {
		tc.action.Name, tc.action.ActionType, tc.action.ActionConfig = "checked", store.ActionCallAPI, callAPI("http://127.0.0.1:1/")
		_, err := r.sched.Create(context.Background(), tc.action, r.userID)
		var got []string
		for _, f := range gathering.ErrorFields(err) {
			got = append(got, f.Field)
		}
		if !reflect.DeepEqual(got, tc.fields) {
			t.Errorf("%s: problems %v, want fields %v", tc.name, gathering.ErrorFields(err), tc.fields)
		}
	}
}
