package scheduler_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/builtin/web"
	"github.com/gathering/gathering/internal/engine"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/netguard"
	"github.com/gathering/gathering/internal/scheduler"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/storetest"
	"github.com/gathering/gathering/internal/tool"
)

// receiver is a webhook endpoint that records the Idempotency-Key of each
// request, answering status.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	keys   []string
	status int
	delay  time.Duration
}

func newReceiver(t testing.TB) *receiver {
	r := &receiver{status: 200}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.keys = append(r.keys, req.Header.Get("Idempotency-Key"))
		status, delay := r.status, r.delay
		r.mu.Unlock()
		select {
		case <-time.After(delay):
		case <-req.Context().Done():
			return
		}
		w.WriteHeader(status)
		w.Write([]byte(`{"ok": true}`))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.keys...)
}

func (r *receiver) answer(status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = status
}

// rig is a scheduler over a fresh SQLite store with the web tools (allowed
// to reach loopback) and a pipeline engine.
type rig struct {
	db     store.Store
	bus    *event.Bus // named after the instance, so that another rig's bus accepts its events
	sched  *scheduler.Scheduler
	userID int64
}

func newRig(t testing.TB) *rig { return newRigOn(t, storetest.SQLite(t), true, scheduler.Options{}) }

// newRigOn is a rig on db whose scheduler has opts (instance "test" and a
// 3 s lease unless they say otherwise); exclusive says db has no other
// instance.
func newRigOn(t testing.TB, db store.Store, exclusive bool, opts scheduler.Options) *rig {
	t.Helper()
	opts.Instance = cmp.Or(opts.Instance, "test")
	opts.Lease = cmp.Or(opts.Lease, 3*time.Second)
	instance := opts.Instance
	allow, err := netguard.ParseAllowList("127.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	reg := tool.NewRegistry()
	for _, tl := range web.Tools(web.Options{AllowList: allow}) {
		if err := reg.Register(tl); err != nil {
			t.Fatal(err)
		}
	}
	bus := event.NewBus(event.Config{Instance: instance})
	exec := tool.NewExecutor(reg, db, bus, tool.ExecutorOptions{Instance: instance, Exclusive: exclusive})
	eng := engine.New(db, exec, nil, bus, engine.Options{Instance: instance, Poll: 50 * time.Millisecond, Exclusive: exclusive})
	s := scheduler.New(db, eng, nil, exec, bus, opts)
	services := []interface {
		Start(context.Context) error
		Stop(context.Context) error
	}{bus, exec, eng, s}
	for _, svc := range services {
		if err := svc.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for i := len(services) - 1; i >= 0; i-- {
			if err := services[i].Stop(ctx); err != nil {
				t.Errorf("stop: %v", err)
			}
		}
	})
	u, err := db.UserCreate(context.Background(), store.UserCreateParams{Email: "planner-" + event.NewID(time.Now()) + "@example.com", Name: "Planner",
		Role: gathering.RoleMember, PasswordHash: "x", IsActive: true, At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{db: db, bus: bus, sched: s, userID: u.ID}
}

// create creates an action, failing the test on an error.
func (r *rig) create(t testing.TB, a store.ScheduledAction) store.ScheduledAction {
	t.Helper()
	a, err := r.sched.Create(context.Background(), a, r.userID)
	if err != nil {
		t.Fatalf("Create: %v %v", err, gathering.ErrorFields(err))
	}
	return a
}

// runs returns an action's runs, oldest first.
func (r *rig) runs(t testing.TB, id int64) []store.ScheduleRun {
	t.Helper()
	list, _, err := r.db.ScheduleRunList(context.Background(), id, store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

// eventually polls cond for up to limit.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
	}
}

func callAPI(url string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"method": "POST", "url": %q, "body": {"hello": "world"}}`, url))
}

func TestIntervalCallsTheAPIOnTimeWithIdempotencyKeys(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	recv := newReceiver(t)
	a := r.create(t, store.ScheduledAction{Name: "ping", ActionType: store.ActionCallAPI, ActionConfig: callAPI(recv.URL),
		ScheduleType: store.ScheduleInterval, IntervalSec: 1})
	eventually(t, 10*time.Second, "three calls", func() bool { return len(recv.got()) >= 3 })
	runs := r.runs(t, a.ID)
	keys := recv.got()
	for i, run := range runs[:3] {
		want := fmt.Sprintf("%d:%s", a.ID, run.ScheduledFor.UTC().Format(time.RFC3339Nano))
		if keys[i] != want {
			t.Errorf("call %d carried key %q, want %q", i, keys[i], want)
		}
		if lag := run.StartedAt.Sub(run.ScheduledFor); lag < 0 || lag > time.Second {
			t.Errorf("run %d started %s after it was due", i, lag)
		}
	}
	eventually(t, 5*time.Second, "a completed run", func() bool { return r.runs(t, a.ID)[0].Status == store.ScheduleRunCompleted })
	if got := r.runs(t, a.ID)[0]; !strings.Contains(string(got.Result), `"status":200`) && !strings.Contains(string(got.Result), `"status": 200`) {
		t.Errorf("result %s", got.Result)
	}
}

func TestOnceNotifiesAndExpires(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	recv := newReceiver(t)
	a := r.create(t, store.ScheduledAction{Name: "once", ActionType: store.ActionSendNotification,
		ActionConfig: json.RawMessage(fmt.Sprintf(`{"url": %q, "payload": {"n": 1}}`, recv.URL)),
		ScheduleType: store.ScheduleOnce, RunAt: time.Now().Add(300 * time.Millisecond)})
	eventually(t, 5*time.Second, "completed", func() bool {
		runs := r.runs(t, a.ID)
		return len(runs) == 1 && runs[0].Status == store.ScheduleRunCompleted
	})
	time.Sleep(500 * time.Millisecond)
	got, _ := r.db.ActionGet(context.Background(), a.ID)
	if len(recv.got()) != 1 || got.Status != store.ActionExpired || got.ExecutionCount != 1 {
		t.Errorf("%d calls; action %s after %d executions", len(recv.got()), got.Status, got.ExecutionCount)
	}
}

func TestPipelineActionCompletesWithItsRun(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	recv := newReceiver(t)
	now := time.Now()
	p, err := r.db.PipelineCreate(context.Background(), store.Pipeline{Name: "nightly", Status: store.PipelineActive,
		Nodes: json.RawMessage(`[{"id": "start", "type": "trigger"}, {"id": "call", "type": "tool", "config": {"tool": "http.request",
			"input": {"method": "POST", "url": "` + recv.URL + `", "body": "{{ trigger.report }}"}}}]`),
		Edges: json.RawMessage(`[{"id": "e1", "from": "start", "to": "call"}]`), Settings: json.RawMessage(`{}`), CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	a := r.create(t, store.ScheduledAction{Name: "nightly", ActionType: store.ActionExecutePipeline,
		ActionConfig: json.RawMessage(fmt.Sprintf(`{"pipeline_id": %d, "trigger_data": {"report": "daily"}}`, p.ID)),
		ScheduleType: store.ScheduleCron, CronExpression: "0 3 * * *"})
	run, err := r.sched.Trigger(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the occurrence completes", func() bool {
		got, _ := r.db.ScheduleRunGet(context.Background(), run.ID)
		return got.Status == store.ScheduleRunCompleted
	})
	got, _ := r.db.ScheduleRunGet(context.Background(), run.ID)
	pr, err := r.db.RunGet(context.Background(), got.PipelineRunID)
	if err != nil || pr.Status != store.RunCompleted || string(pr.TriggerData) != `{"report": "daily"}` || got.TriggeredBy != store.TriggeredByManual {
		t.Fatalf("pipeline run %+v (%v), schedule run %+v", pr, err, got)
	}
	if len(recv.got()) != 1 {
		t.Errorf("the pipeline's node called %d times", len(recv.got()))
	}
}

func TestRetriesThenFailsAndPauses(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	recv := newReceiver(t)
	recv.answer(503)
	a := r.create(t, store.ScheduledAction{Name: "flaky", ActionType: store.ActionCallAPI, ActionConfig: callAPI(recv.URL),
		ScheduleType: store.ScheduleCron, CronExpression: "0 3 * * *", MaxRetries: 2, PauseAfterFailures: 1})
	run, err := r.sched.Trigger(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the run fails", func() bool {
		got, _ := r.db.ScheduleRunGet(context.Background(), run.ID)
		return got.Status == store.ScheduleRunFailed
	})
	got, _ := r.db.ScheduleRunGet(context.Background(), run.ID)
	action, _ := r.db.ActionGet(context.Background(), a.ID)
	if got.Attempt != 3 || len(recv.got()) != 3 || !strings.Contains(got.Error, "503") {
		t.Errorf("attempt %d after %d calls: %q", got.Attempt, len(recv.got()), got.Error)
	}
	if action.Status != store.ActionPaused || action.ConsecutiveFailures != 1 || !action.NextRunAt.IsZero() {
		t.Errorf("action %s, %d failures, next %v", action.Status, action.ConsecutiveFailures, action.NextRunAt)
	}
}

func TestPauseStopsFiring(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	recv := newReceiver(t)
	a := r.create(t, store.ScheduledAction{Name: "tick", ActionType: store.ActionCallAPI, ActionConfig: callAPI(recv.URL),
		ScheduleType: store.ScheduleInterval, IntervalSec: 1})
	eventually(t, 5*time.Second, "a first call", func() bool { return len(recv.got()) >= 1 })
	if _, err := r.sched.SetStatus(context.Background(), a.ID, store.ActionPaused); err != nil {
		t.Fatal(err)
	}
	n := len(recv.got())
	time.Sleep(2500 * time.Millisecond)
	if got := len(recv.got()); got > n {
		t.Errorf("%d calls after the pause", got-n)
	}
	if _, err := r.sched.SetStatus(context.Background(), a.ID, store.ActionActive); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "calls after resuming", func() bool { return len(recv.got()) > n })
}

func TestInvalidActionsNameTheirFields(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	_, err := r.sched.Create(context.Background(), store.ScheduledAction{Name: "", ActionType: store.ActionCallAPI,
		ActionConfig: json.RawMessage(`{"method": "FETCH"}`), ScheduleType: store.ScheduleCron, CronExpression: "61 * * * *",
		TimeZone: "Mars/Base", OverlapPolicy: "sometimes", MaxRetries: 99}, r.userID)
	fields := map[string]bool{}
	for _, f := range gathering.ErrorFields(err) {
		fields[f.Field] = true
	}
	for _, want := range []string{"name", "cron_expression", "timezone", "overlap_policy", "max_retries", "action_config/method", "action_config/url"} {
		if !fields[want] {
			t.Errorf("no problem for %s in %v", want, gathering.ErrorFields(err))
		}
	}
	_, err = r.sched.Create(context.Background(), store.ScheduledAction{Name: "task", ActionType: store.ActionRunTask,
		ActionConfig: json.RawMessage(`{"goal": "x"}`), ScheduleType: store.ScheduleInterval, IntervalSec: 60}, r.userID)
	if fs := gathering.ErrorFields(err); len(fs) != 1 || fs[0].Field != "action_type" {
		t.Errorf("run_task: %v", fs)
	}
}

// TestStopReleasesRunsItCannotFinish stops a scheduler while its run waits
// on a slow API: past the stop deadline the run is released, and another
// scheduler on the same database runs it again with the same key.
func TestStopReleasesRunsItCannotFinish(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	first := newRigOn(t, db, true, scheduler.Options{})
	recv := newReceiver(t)
	recv.delay = 2 * time.Second
	a := first.create(t, store.ScheduledAction{Name: "slow", ActionType: store.ActionCallAPI, ActionConfig: callAPI(recv.URL),
		ScheduleType: store.ScheduleCron, CronExpression: "0 3 * * *"})
	run, err := first.sched.Trigger(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the call arrives", func() bool { return len(recv.got()) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := first.sched.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	released, _ := db.ScheduleRunGet(context.Background(), run.ID)
	if released.Status != store.ScheduleRunPending || released.Owner != "" {
		t.Fatalf("after Stop the run is %s, owned by %q", released.Status, released.Owner)
	}
	recv.mu.Lock()
	recv.delay = 0
	recv.mu.Unlock()
	newRigOn(t, db, true, scheduler.Options{})
	eventually(t, 10*time.Second, "the second scheduler completes it", func() bool {
		got, _ := db.ScheduleRunGet(context.Background(), run.ID)
		return got.Status == store.ScheduleRunCompleted
	})
	if keys := recv.got(); len(keys) != 2 || keys[0] != keys[1] {
		t.Errorf("calls carried %v, want the same key twice", keys)
	}
}
