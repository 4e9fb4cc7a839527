package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// exerciseSchedules runs the ScheduleStore part of the suite, each test on
// a fresh migrated store.
func exerciseSchedules(t *testing.T, migrated func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"ActionRoundTrip", testActionRoundTrip},
		{"ActionCreateRefuses", testActionCreateRefuses},
		{"ActionList", testActionList},
		{"ActionUpdate", testActionUpdate},
		{"ActionDelete", testActionDelete},
		{"ActionNextDue", testActionNextDue},
		{"ActionsByEvent", testActionsByEvent},
		{"ActionClaimDue", testActionClaimDue},
		{"ActionClaimDueLimit", testActionClaimDueLimit},
		{"ActionClaimDueCollision", testActionClaimDueCollision},
		{"ActionClaimDueRefusedPlan", testActionClaimDueRefusedPlan},
		{"ActionClaimDueConcurrent", testActionClaimDueConcurrent},
		{"ActionFire", testActionFire},
		{"ActionFireSkipped", testActionFireSkipped},
		{"ActionFireCountsEventRuns", testActionFireCountsEventRuns},
		{"ActionFireEventRunRefused", testActionFireEventRunRefused},
		{"ScheduleRunDepthOf", testScheduleRunDepthOf},
		{"ScheduleRunClaim", testScheduleRunClaim},
		{"ScheduleRunClaimConcurrent", testScheduleRunClaimConcurrent},
		{"ScheduleRunHeartbeat", testScheduleRunHeartbeat},
		{"ScheduleRunRelease", testScheduleRunRelease},
		{"ScheduleRunRetry", testScheduleRunRetry},
		{"ScheduleRunLink", testScheduleRunLink},
		{"ScheduleRunFinish", testScheduleRunFinish},
		{"ScheduleRunFinishPauses", testScheduleRunFinishPauses},
		{"ScheduleRunList", testScheduleRunList},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { t.Parallel(); tt.test(t, migrated(t)) })
	}
}

// JSON no library would write this way (see oddNodes): an action config,
// an event trigger and a run's result.
const (
	oddConfig       = "{ \"prompt\" : \"caf\\u00e9 \\ud83d\\ude00 ✓\",\n\t\"k\":1,\"k\":2, \"n\":[1e2, -0.50, \"a\\/b\"] }"
	oddEventTrigger = "\t{\"type\" : \"webhook\",\"topics\":[ \"b\", \"a\" ]}\r\n"
	oddResult       = " [ {\"z\":null, \"a\":{}}, 1E-3 ]\n"
)

// newAction is an active hourly run_task action named name, next due at
// minute next, created at minute 0.
func newAction(name string, next int) store.ScheduledAction {
	return store.ScheduledAction{
		Name: name, ActionType: store.ActionRunTask, ActionConfig: json.RawMessage(`{"task":"report"}`),
		ScheduleType: store.ScheduleInterval, IntervalSec: 3600, Status: store.ActionActive, OverlapPolicy: "allow",
		CatchupPolicy: "skip", NextRunAt: minutes(next), CreatedAt: minutes(0), UpdatedAt: minutes(0),
	}
}

// unscheduled is newAction with no NextRunAt.
func unscheduled(name string) store.ScheduledAction {
	a := newAction(name, 0)
	a.NextRunAt = time.Time{}
	return a
}

// createAction stores a or fails the test.
func createAction(t *testing.T, s store.Store, a store.ScheduledAction) store.ScheduledAction {
	t.Helper()
	got, err := s.ActionCreate(t.Context(), a)
	if err != nil {
		t.Fatalf("ActionCreate(%s): %v", a.Name, err)
	}
	return got
}

// getAction returns a stored action, or fails the test.
func getAction(t *testing.T, s store.Store, id int64) store.ScheduledAction {
	t.Helper()
	a, err := s.ActionGet(t.Context(), id)
	if err != nil {
		t.Fatalf("ActionGet(%d): %v", id, err)
	}
	return a
}

// wantAction fails the test unless the stored action equals want, every
// field, byte for byte and with UTC times.
func wantAction(t *testing.T, op string, s store.Store, want store.ScheduledAction) {
	t.Helper()
	got, err := s.ActionGet(t.Context(), want.ID)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: ActionGet = %s, %v;\nwant %s", op, showAction(got), err, showAction(want))
	}
}

// showAction prints an action with its JSON as text.
func showAction(a store.ScheduledAction) string {
	config, trigger, nilTrigger := string(a.ActionConfig), string(a.EventTrigger), a.EventTrigger == nil
	a.ActionConfig, a.EventTrigger = nil, nil
	return fmt.Sprintf("%+v Config:%q Trigger:%q (nil %t)", a, config, trigger, nilTrigger)
}

// fireRun stores r with ActionFire, or fails the test.
func fireRun(t *testing.T, s store.Store, r store.ScheduleRun) store.ScheduleRun {
	t.Helper()
	got, err := s.ActionFire(t.Context(), r)
	if err != nil {
		t.Fatalf("ActionFire(%s): %v", r.ID, err)
	}
	return got
}

// pendingRun is a pending manual run id of action, scheduled for minute at.
func pendingRun(action int64, id string, at int) store.ScheduleRun {
	return store.ScheduleRun{ID: id, ActionID: action, ScheduledFor: minutes(at), TriggeredBy: store.TriggeredByManual,
		Status: store.ScheduleRunPending}
}

// startedRun fires a manual run id of action at minute at, running and
// leased to instance-a for ten minutes, or fails the test.
func startedRun(t *testing.T, s store.Store, action int64, id string, at int) store.ScheduleRun {
	t.Helper()
	r := pendingRun(action, id, at)
	r.Status, r.Owner, r.LeaseUntil, r.StartedAt = store.ScheduleRunRunning, "instance-a", minutes(at+10), minutes(at)
	return fireRun(t, s, r)
}

// claimScheduleRun claims a run for owner at minute now with a lease until
// minute until, or fails the test.
func claimScheduleRun(t *testing.T, s store.Store, owner string, now, until int) store.ScheduleRun {
	t.Helper()
	r, err := s.ScheduleRunClaim(t.Context(), owner, minutes(now), minutes(until))
	if err != nil {
		t.Fatalf("ScheduleRunClaim(%s at minute %d): %v", owner, now, err)
	}
	return r
}

// finishScheduleRun records r's outcome under its lease, or fails the test.
func finishScheduleRun(t *testing.T, s store.Store, r store.ScheduleRun) {
	t.Helper()
	if err := s.ScheduleRunFinish(t.Context(), store.ScheduleLeaseOf(r), r); err != nil {
		t.Fatalf("ScheduleRunFinish(%s, %s): %v", r.ID, r.Status, err)
	}
}

// wantScheduleRun fails the test unless the stored run equals want, every
// field, byte for byte and with UTC times.
func wantScheduleRun(t *testing.T, op string, s store.Store, want store.ScheduleRun) {
	t.Helper()
	got, err := s.ScheduleRunGet(t.Context(), want.ID)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: ScheduleRunGet = %s, %v;\nwant %s", op, showScheduleRun(got), err, showScheduleRun(want))
	}
}

// showScheduleRun prints a run with its JSON as text.
func showScheduleRun(r store.ScheduleRun) string {
	result, trigger := string(r.Result), string(r.TriggerData)
	nilResult, nilTrigger := r.Result == nil, r.TriggerData == nil
	r.Result, r.TriggerData = nil, nil
	return fmt.Sprintf("%+v Result:%q (nil %t) Trigger:%q (nil %t)", r, result, nilResult, trigger, nilTrigger)
}

// hourly is a plan that runs the occurrence at a's NextRunAt and moves
// NextRunAt an hour on.
func hourly(a store.ScheduledAction, _ int) store.ClaimPlan {
	return store.ClaimPlan{
		Runs: []store.ScheduleRun{{ID: fmt.Sprintf("run-%d-%d", a.ID, a.NextRunAt.Unix()), ScheduledFor: a.NextRunAt,
			Status: store.ScheduleRunRunning}},
		NextRunAt: a.NextRunAt.Add(time.Hour), Status: store.ActionActive, ExecutionsDone: 1,
	}
}

// claimDue claims the due actions at minute now for instance-a, with
// leases until minute now+10, or fails the test.
func claimDue(t *testing.T, s store.Store, now, limit int,
	plan func(store.ScheduledAction, int) store.ClaimPlan) []store.ScheduleRun {
	t.Helper()
	runs, err := s.ActionClaimDue(t.Context(), minutes(now), limit, "instance-a", minutes(now+10), plan)
	if err != nil {
		t.Fatalf("ActionClaimDue at minute %d: %v", now, err)
	}
	return runs
}

// runIDs lists the ids of runs.
func runIDs(runs []store.ScheduleRun) []string {
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	return ids
}

func testActionRoundTrip(t *testing.T, s store.Store) {
	ms := 123 * time.Millisecond
	full := store.ScheduledAction{
		ID: 999, Name: "Nightly report", Description: "Summarise the day.", AgentID: 7, CircleID: 8,
		ActionType: store.ActionCallAPI, ActionConfig: json.RawMessage(oddConfig), ScheduleType: store.ScheduleCron,
		CronExpression: "*/5 * * * *", TimeZone: "Europe/Paris", IntervalSec: 300, RunAt: minutes(1).Add(ms),
		EventTrigger: json.RawMessage(oddEventTrigger), StartDate: minutes(2), EndDate: minutes(3000), MaxExecutions: 10,
		Status: store.ActionPaused, OverlapPolicy: "queue_one", CatchupPolicy: "run_all", CatchupWindowSec: 3600,
		CatchupMax: 5, MaxRetries: 3, RetryDelaySec: 30, PauseAfterFailures: 4, TimeoutSec: 600,
		NextRunAt: minutes(5).Add(ms), LastRunAt: minutes(4), ExecutionCount: 12, ConsecutiveFailures: 2,
		Tags: []string{"nightly", "ü <&> \"q\"", ""}, CreatedBy: 9, CreatedAt: minutes(0).Add(ms), UpdatedAt: minutes(1),
		Version: 42,
	}
	got := createAction(t, s, full)
	want := full
	want.ID, want.Version = got.ID, 1
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ActionCreate = %s;\nwant %s", showAction(got), showAction(want))
	}
	wantAction(t, "every field set", s, want)
	if string(got.ActionConfig) != oddConfig || string(got.EventTrigger) != oddEventTrigger ||
		got.NextRunAt.Location() != time.UTC {
		t.Errorf("action did not read back byte for byte, in UTC: %s", showAction(got))
	}
	bare := store.ScheduledAction{Name: "bare", ActionType: store.ActionRunTask, ActionConfig: json.RawMessage(`{}`),
		ScheduleType: store.ScheduleOnce, Status: store.ActionActive, OverlapPolicy: "skip", CatchupPolicy: "skip",
		CreatedAt: minutes(6), UpdatedAt: minutes(6)}
	got = createAction(t, s, bare)
	bare.ID, bare.Version = got.ID, 1
	wantAction(t, "zero values", s, bare)
	_, err := s.ActionGet(t.Context(), got.ID+100)
	wantCode(t, "ActionGet of a missing action", err, gathering.ENOTFOUND)
}

func testActionCreateRefuses(t *testing.T, s store.Store) {
	ctx := t.Context()
	for name, change := range map[string]func(a *store.ScheduledAction){
		"unknown action type":   func(a *store.ScheduledAction) { a.ActionType = "dance" },
		"unknown schedule type": func(a *store.ScheduledAction) { a.ScheduleType = "weekly" },
		"unknown status":        func(a *store.ScheduledAction) { a.Status = "running" },
		"no overlap policy":     func(a *store.ScheduledAction) { a.OverlapPolicy = "" },
		"unknown catch-up":      func(a *store.ScheduledAction) { a.CatchupPolicy = "all" },
		"nil config":            func(a *store.ScheduledAction) { a.ActionConfig = nil },
		"config array":          func(a *store.ScheduledAction) { a.ActionConfig = json.RawMessage(`[{}]`) },
		"config null":           func(a *store.ScheduledAction) { a.ActionConfig = json.RawMessage(`null`) },
		"malformed config":      func(a *store.ScheduledAction) { a.ActionConfig = json.RawMessage(`{"a":}`) },
		"two configs":           func(a *store.ScheduledAction) { a.ActionConfig = json.RawMessage(`{} {}`) },
		"config invalid UTF-8":  func(a *store.ScheduledAction) { a.ActionConfig = json.RawMessage("{\"a\":\"\xff\"}") },
		"trigger string":        func(a *store.ScheduledAction) { a.EventTrigger = json.RawMessage(`"webhook"`) },
		"malformed trigger":     func(a *store.ScheduledAction) { a.EventTrigger = json.RawMessage(`{type:1}`) },
		"tag of invalid UTF-8":  func(a *store.ScheduledAction) { a.Tags = []string{"ok", "\xc3"} },
		"trigger array":         func(a *store.ScheduledAction) { a.EventTrigger = json.RawMessage(` [] `) },
	} {
		a := newAction("refused", 1)
		change(&a)
		_, err := s.ActionCreate(ctx, a)
		wantCode(t, "ActionCreate with "+name, err, gathering.EINVALID)
	}
	if _, total, err := s.ActionList(ctx, store.ActionFilter{}, store.Page{}); err != nil || total != 0 {
		t.Errorf("after refused creations: total %d, %v; want 0", total, err)
	}
}

func testActionList(t *testing.T, s store.Store) {
	ctx := t.Context()
	create := func(name, status, actionType string, agent int64, tags ...string) int64 {
		a := newAction(name, 1)
		a.Status, a.ActionType, a.AgentID, a.Tags = status, actionType, agent, tags
		return createAction(t, s, a).ID
	}
	a := create("a", store.ActionActive, store.ActionRunTask, 1, "nightly", "reports")
	b := create("b", store.ActionPaused, store.ActionCallAPI, 2, "nightly")
	c := create("c", store.ActionActive, store.ActionCallAPI, 1)
	d := create("d", store.ActionDisabled, store.ActionSendNotification, 0, "night", "ü")
	all := []int64{a, b, c, d}
	for _, tc := range []struct {
		filter store.ActionFilter
		page   store.Page
		want   []int64
		total  int
	}{
		{store.ActionFilter{}, store.Page{}, all, 4},
		{store.ActionFilter{}, store.Page{Limit: 2, Offset: 1}, all[1:3], 4},
		{store.ActionFilter{}, store.Page{Offset: 9}, nil, 4},
		{store.ActionFilter{}, store.Page{Offset: -1, Limit: 1000}, all, 4},
		{store.ActionFilter{Status: store.ActionActive}, store.Page{}, []int64{a, c}, 2},
		{store.ActionFilter{ActionType: store.ActionCallAPI}, store.Page{Limit: 1}, []int64{b}, 2},
		{store.ActionFilter{AgentID: 1}, store.Page{}, []int64{a, c}, 2},
		{store.ActionFilter{Tag: "nightly"}, store.Page{}, []int64{a, b}, 2},
		{store.ActionFilter{Tag: "night"}, store.Page{}, []int64{d}, 1},
		{store.ActionFilter{Tag: "ü"}, store.Page{}, []int64{d}, 1},
		{store.ActionFilter{Tag: "nigh"}, store.Page{}, nil, 0},
		{store.ActionFilter{Status: store.ActionActive, ActionType: store.ActionCallAPI, AgentID: 1}, store.Page{},
			[]int64{c}, 1},
		{store.ActionFilter{Status: store.ActionPaused, Tag: "reports"}, store.Page{}, nil, 0},
	} {
		list, total, err := s.ActionList(ctx, tc.filter, tc.page)
		var got []int64
		for _, a := range list {
			got = append(got, a.ID)
		}
		if err != nil || total != tc.total || !slices.Equal(got, tc.want) {
			t.Errorf("ActionList(%+v, %+v) = %v, total %d, %v; want %v, total %d", tc.filter, tc.page, got, total, err,
				tc.want, tc.total)
		}
	}
	if list, _, err := s.ActionList(ctx, store.ActionFilter{Tag: "reports"}, store.Page{}); err != nil || len(list) != 1 ||
		!reflect.DeepEqual(list[0], getAction(t, s, a)) {
		t.Errorf("ActionList item = %v, %v; want ActionGet's a", list, err)
	}
	_, _, err := s.ActionList(ctx, store.ActionFilter{Status: "running"}, store.Page{})
	wantCode(t, "ActionList of an unknown status", err, gathering.EINVALID)
	_, _, err = s.ActionList(ctx, store.ActionFilter{ActionType: "dance"}, store.Page{})
	wantCode(t, "ActionList of an unknown action type", err, gathering.EINVALID)
}

func testActionUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	created := newAction("report", 10)
	created.LastRunAt, created.ExecutionCount, created.ConsecutiveFailures, created.CreatedBy = minutes(3), 4, 2, 9
	created.Tags = []string{"old"}
	before := createAction(t, s, created)
	change := before
	change.Name, change.Description, change.AgentID, change.CircleID = "Report", "Now weekly.", 3, 4
	change.ActionType, change.ActionConfig = store.ActionExecutePipeline, json.RawMessage(oddConfig)
	change.ScheduleType, change.CronExpression, change.TimeZone = store.ScheduleEvent, "0 9 * * 1", "Asia/Tokyo"
	change.IntervalSec, change.RunAt, change.EventTrigger = 0, minutes(50), json.RawMessage(oddEventTrigger)
	change.StartDate, change.EndDate, change.MaxExecutions, change.Status = minutes(1), minutes(900), 3, store.ActionPaused
	change.OverlapPolicy, change.CatchupPolicy, change.CatchupWindowSec, change.CatchupMax = "skip", "run_once", 60, 2
	change.MaxRetries, change.RetryDelaySec, change.PauseAfterFailures, change.TimeoutSec = 1, 5, 3, 30
	change.NextRunAt, change.ConsecutiveFailures, change.Tags, change.UpdatedAt = time.Time{}, 0, []string{"new"}, minutes(5)
	// ActionUpdate leaves these alone.
	ignored := change
	ignored.LastRunAt, ignored.ExecutionCount, ignored.CreatedBy, ignored.CreatedAt = minutes(7), 99, 1, minutes(7)
	got, err := s.ActionUpdate(ctx, ignored)
	want := change
	want.Version = 2
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ActionUpdate = %s, %v;\nwant %s", showAction(got), err, showAction(want))
	}
	wantAction(t, "after ActionUpdate", s, want)
	stale := change
	stale.Name = "stale"
	_, err = s.ActionUpdate(ctx, stale)
	wantCode(t, "ActionUpdate at a stale version", err, gathering.ECONFLICT)
	missing := want
	missing.ID += 100
	_, err = s.ActionUpdate(ctx, missing)
	wantCode(t, "ActionUpdate of a missing action", err, gathering.ENOTFOUND)
	invalid := want
	invalid.OverlapPolicy = "never"
	_, err = s.ActionUpdate(ctx, invalid)
	wantCode(t, "ActionUpdate with an unknown policy", err, gathering.EINVALID)
	invalid = want
	invalid.EventTrigger = json.RawMessage(`{"type":`)
	_, err = s.ActionUpdate(ctx, invalid)
	wantCode(t, "ActionUpdate with a malformed trigger", err, gathering.EINVALID)
	wantAction(t, "after refused updates", s, want)
}

func testActionDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createAction(t, s, newAction("a", 1))
	other := createAction(t, s, newAction("b", 1))
	fireRun(t, s, pendingRun(a.ID, "run-1", 1))
	startedRun(t, s, a.ID, "run-2", 2)
	kept := fireRun(t, s, pendingRun(other.ID, "run-3", 1))
	if err := s.ActionDelete(ctx, a.ID); err != nil {
		t.Fatalf("ActionDelete: %v", err)
	}
	_, err := s.ActionGet(ctx, a.ID)
	wantCode(t, "ActionGet of a deleted action", err, gathering.ENOTFOUND)
	for _, id := range []string{"run-1", "run-2"} {
		_, err := s.ScheduleRunGet(ctx, id)
		wantCode(t, "ScheduleRunGet of a run of a deleted action", err, gathering.ENOTFOUND)
	}
	if list, total, err := s.ScheduleRunList(ctx, a.ID, store.Page{}); err != nil || total != 0 || len(list) != 0 {
		t.Errorf("ScheduleRunList of a deleted action = %d runs, total %d, %v", len(list), total, err)
	}
	wantScheduleRun(t, "another action's run", s, kept)
	wantCode(t, "second ActionDelete", s.ActionDelete(ctx, a.ID), gathering.ENOTFOUND)
}

func testActionNextDue(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.ActionNextDue(ctx)
	wantCode(t, "ActionNextDue of an empty store", err, gathering.ENOTFOUND)
	paused := newAction("paused", 5)
	paused.Status = store.ActionPaused
	event := newAction("event", 1)
	event.ScheduleType = store.ScheduleEvent
	createAction(t, s, paused)
	createAction(t, s, event)
	idle := createAction(t, s, unscheduled("unscheduled"))
	_, err = s.ActionNextDue(ctx)
	wantCode(t, "ActionNextDue of paused, event and unscheduled actions", err, gathering.ENOTFOUND)
	wantNextDue := func(op string, want time.Time) {
		t.Helper()
		if got, err := s.ActionNextDue(ctx); err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s: ActionNextDue = %v, %v; want %v in UTC", op, got, err, want)
		}
	}
	createAction(t, s, newAction("later", 40))
	createAction(t, s, newAction("due", 30))
	wantNextDue("active actions", minutes(30))
	waiting := pendingRun(idle.ID, "run-waiting", 2)
	waiting.NotBefore = minutes(20).Add(7 * time.Millisecond)
	fireRun(t, s, waiting)
	wantNextDue("a pending run waiting until minute 20", waiting.NotBefore)
	startedRun(t, s, idle.ID, "run-running", 1)
	wantNextDue("a running run", waiting.NotBefore)
	fireRun(t, s, pendingRun(idle.ID, "run-now", 10))
	wantNextDue("a pending run without NotBefore", minutes(10))
}

func testActionsByEvent(t *testing.T, s store.Store) {
	event := func(name, status string) store.ScheduledAction {
		a := unscheduled(name)
		a.ScheduleType, a.Status, a.EventTrigger = store.ScheduleEvent, status, json.RawMessage(oddEventTrigger)
		return createAction(t, s, a)
	}
	first := event("first", store.ActionActive)
	event("paused", store.ActionPaused)
	createAction(t, s, newAction("timed", 1))
	second := event("second", store.ActionActive)
	got, err := s.ActionsByEvent(t.Context())
	if want := []store.ScheduledAction{first, second}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ActionsByEvent = %v, %v;\nwant %v", got, err, want)
	}
}

func testActionClaimDue(t *testing.T, s store.Store) {
	ctx := t.Context()
	second := createAction(t, s, newAction("second", 2))
	first := createAction(t, s, newAction("first", 1))
	createAction(t, s, newAction("not due", 20))
	for _, status := range []string{store.ActionPaused, store.ActionDisabled, store.ActionExpired} {
		a := newAction(status, 1)
		a.Status = status
		createAction(t, s, a)
	}
	event := newAction("event", 1)
	event.ScheduleType = store.ScheduleEvent
	createAction(t, s, event)
	createAction(t, s, unscheduled("unscheduled"))
	queued := fireRun(t, s, pendingRun(second.ID, "run-queued", 100))
	planned := map[int64]int{}
	// Each occurrence runs, the one a minute before is recorded as skipped.
	plan := func(a store.ScheduledAction, unfinished int) store.ClaimPlan {
		planned[a.ID] = unfinished
		p := hourly(a, unfinished)
		skipped := store.ScheduleRun{ID: fmt.Sprintf("skip-%d", a.ID), ScheduledFor: a.NextRunAt.Add(-time.Minute),
			Status: store.ScheduleRunSkipped, Error: "missed", FinishedAt: minutes(10), Owner: "ignored", Epoch: 4}
		p.Runs = append([]store.ScheduleRun{skipped}, p.Runs...)
		return p
	}
	runs := claimDue(t, s, 10, 10, plan)
	if want := map[int64]int{first.ID: 0, second.ID: 1}; !reflect.DeepEqual(planned, want) {
		t.Errorf("plan was called with %v (action id: unfinished runs); want %v", planned, want)
	}
	var want []store.ScheduleRun
	for _, a := range []store.ScheduledAction{first, second} {
		want = append(want, store.ScheduleRun{ID: fmt.Sprintf("run-%d-%d", a.ID, a.NextRunAt.Unix()), ActionID: a.ID,
			ScheduledFor: a.NextRunAt, TriggeredBy: store.TriggeredByScheduler, Attempt: 1,
			Status: store.ScheduleRunRunning, StartedAt: minutes(10), Owner: "instance-a", Epoch: 1, LeaseUntil: minutes(20)})
		wantScheduleRun(t, "a skipped occurrence", s, store.ScheduleRun{ID: fmt.Sprintf("skip-%d", a.ID), ActionID: a.ID,
			ScheduledFor: a.NextRunAt.Add(-time.Minute), TriggeredBy: store.TriggeredByScheduler, Attempt: 1,
			Status: store.ScheduleRunSkipped, Error: "missed", FinishedAt: minutes(10)})
		claimed := a
		claimed.NextRunAt, claimed.LastRunAt, claimed.ExecutionCount = a.NextRunAt.Add(time.Hour), a.NextRunAt, 1
		claimed.UpdatedAt, claimed.Version = minutes(10), 2
		wantAction(t, "a claimed action", s, claimed)
	}
	if !reflect.DeepEqual(runs, want) {
		t.Errorf("ActionClaimDue = %v;\nwant %v", runs, want)
	}
	for _, r := range want {
		wantScheduleRun(t, "a claimed run", s, r)
	}
	wantScheduleRun(t, "a run queued before", s, queued)
	_, err := s.ActionUpdate(ctx, first)
	wantCode(t, "ActionUpdate at the version before a claim", err, gathering.ECONFLICT)
	if runs := claimDue(t, s, 10, 10, plan); len(runs) != 0 || len(planned) != 2 {
		t.Errorf("second ActionClaimDue = %v, planned %v; want nothing", runIDs(runs), planned)
	}
}

func testActionClaimDueLimit(t *testing.T, s store.Store) {
	var ids []int64
	for i, next := range []int{3, 1, 2} {
		ids = append(ids, createAction(t, s, newAction(fmt.Sprint("action-", i), next)).ID)
	}
	// The last occurrence: the action expires and has no next run.
	once := func(a store.ScheduledAction, unfinished int) store.ClaimPlan {
		p := hourly(a, unfinished)
		p.NextRunAt, p.Status = time.Time{}, store.ActionExpired
		return p
	}
	if runs := claimDue(t, s, 5, 0, once); len(runs) != 0 {
		t.Errorf("ActionClaimDue with limit 0 = %v", runIDs(runs))
	}
	runs := claimDue(t, s, 5, 2, once)
	if got, want := runIDs(runs), []string{
		fmt.Sprintf("run-%d-%d", ids[1], minutes(1).Unix()), fmt.Sprintf("run-%d-%d", ids[2], minutes(2).Unix()),
	}; !slices.Equal(got, want) {
		t.Errorf("ActionClaimDue with limit 2 = %v; want %v, oldest first", got, want)
	}
	if a := getAction(t, s, ids[1]); a.Status != store.ActionExpired || !a.NextRunAt.IsZero() {
		t.Errorf("after its last occurrence: status %s, next run %v; want expired, none", a.Status, a.NextRunAt)
	}
	if runs := claimDue(t, s, 5, 2, once); len(runs) != 1 || runs[0].ActionID != ids[0] {
		t.Errorf("second ActionClaimDue = %v; want the run of action %d", runIDs(runs), ids[0])
	}
}

func testActionClaimDueCollision(t *testing.T, s store.Store) {
	a := createAction(t, s, newAction("report", 1))
	fired := fireRun(t, s, pendingRun(a.ID, "run-manual", 1))
	if runs := claimDue(t, s, 5, 10, hourly); len(runs) != 0 {
		t.Errorf("ActionClaimDue of an occurrence that exists = %v; want nothing inserted", runIDs(runs))
	}
	claimed := a
	claimed.NextRunAt, claimed.LastRunAt, claimed.ExecutionCount = minutes(61), minutes(1), 1
	claimed.UpdatedAt, claimed.Version = minutes(5), 2
	wantAction(t, "the action still advances", s, claimed)
	if list, total, err := s.ScheduleRunList(t.Context(), a.ID, store.Page{}); err != nil || total != 1 ||
		!reflect.DeepEqual(list, []store.ScheduleRun{fired}) {
		t.Errorf("ScheduleRunList = %v, total %d, %v; want only the manual run", runIDs(list), total, err)
	}
}

func testActionClaimDueRefusedPlan(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createAction(t, s, newAction("report", 1))
	for name, change := range map[string]func(p *store.ClaimPlan){
		"an unknown action status": func(p *store.ClaimPlan) { p.Status = "running" },
		"a completed run":          func(p *store.ClaimPlan) { p.Runs[0].Status = store.ScheduleRunCompleted },
		"a run without an id":      func(p *store.ClaimPlan) { p.Runs[0].ID = "" },
		"a run without a time":     func(p *store.ClaimPlan) { p.Runs[0].ScheduledFor = time.Time{} },
		"an unknown trigger":       func(p *store.ClaimPlan) { p.Runs[0].TriggeredBy = "cron" },
		"a malformed result":       func(p *store.ClaimPlan) { p.Runs[0].Result = json.RawMessage(`{`) },
		"a second run that fails": func(p *store.ClaimPlan) {
			p.Runs = append(p.Runs, store.ScheduleRun{ID: "second", ScheduledFor: minutes(2), Status: "done"})
		},
	} {
		_, err := s.ActionClaimDue(ctx, minutes(5), 10, "instance-a", minutes(15),
			func(a store.ScheduledAction, unfinished int) store.ClaimPlan {
				p := hourly(a, unfinished)
				change(&p)
				return p
			})
		wantCode(t, "ActionClaimDue with a plan of "+name, err, gathering.EINVALID)
	}
	_, err := s.ActionClaimDue(ctx, minutes(5), 10, "", minutes(15), hourly)
	wantCode(t, "ActionClaimDue without an owner", err, gathering.EINVALID)
	wantAction(t, "after refused plans", s, a)
	if _, total, err := s.ScheduleRunList(ctx, a.ID, store.Page{}); err != nil || total != 0 {
		t.Errorf("after refused plans: %d runs, %v; want none", total, err)
	}
}

// testActionClaimDueConcurrent checks that concurrent claims run each
// occurrence of each action exactly once.
func testActionClaimDueConcurrent(t *testing.T, s store.Store) {
	const actions, claimers = 30, 8
	var ids []int64
	for i := range actions {
		ids = append(ids, createAction(t, s, newAction(fmt.Sprint("action-", i), i)).ID)
	}
	claimed := make([][]store.ScheduleRun, claimers)
	errs := make([]error, claimers)
	var wg sync.WaitGroup
	for c := range claimers {
		wg.Go(func() {
			for {
				runs, err := s.ActionClaimDue(t.Context(), minutes(30), 3, fmt.Sprint("instance-", c), minutes(40), hourly)
				if err != nil || len(runs) == 0 {
					errs[c] = err
					return
				}
				claimed[c] = append(claimed[c], runs...)
			}
		})
	}
	wg.Wait()
	var all []string
	for c, runs := range claimed {
		if errs[c] != nil {
			t.Errorf("claimer %d: %v", c, errs[c])
		}
		for _, r := range runs {
			if r.Owner != fmt.Sprint("instance-", c) || r.Epoch != 1 {
				t.Errorf("claimer %d got %s", c, showScheduleRun(r))
			}
		}
		all = append(all, runIDs(runs)...)
	}
	slices.Sort(all)
	if len(all) != actions || len(slices.Compact(all)) != actions {
		t.Errorf("claimed %d runs (%v); want each of the %d actions' once", len(all), all, actions)
	}
	for i, id := range ids {
		list, total, err := s.ScheduleRunList(t.Context(), id, store.Page{})
		if a := getAction(t, s, id); err != nil || total != 1 || !list[0].ScheduledFor.Equal(minutes(i)) ||
			a.ExecutionCount != 1 || !a.NextRunAt.Equal(minutes(i+60)) {
			t.Errorf("action %d: %d runs (%v), execution count %d, next run %v; want one run at minute %d", id, total,
				err, a.ExecutionCount, a.NextRunAt, i)
		}
	}
}

func testActionFire(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createAction(t, s, newAction("report", 1))
	running := store.ScheduleRun{
		ID: "run-running", ActionID: a.ID, ScheduledFor: minutes(5).Add(9 * time.Millisecond),
		TriggeredBy: store.TriggeredByEvent, Status: store.ScheduleRunRunning, TriggerData: json.RawMessage(oddTrigger),
		Owner: "instance-a", LeaseUntil: minutes(15), StartedAt: minutes(5), Epoch: 7, // the epoch starts at 1
	}
	got := fireRun(t, s, running)
	running.Attempt, running.Epoch = 1, 1
	if !reflect.DeepEqual(got, running) {
		t.Errorf("ActionFire of a running run = %s;\nwant %s", showScheduleRun(got), showScheduleRun(running))
	}
	wantScheduleRun(t, "a fired running run", s, running)
	if string(got.TriggerData) != oddTrigger || got.ScheduledFor.Location() != time.UTC {
		t.Errorf("run did not read back byte for byte, in UTC: %s", showScheduleRun(got))
	}
	pending := pendingRun(a.ID, "run-pending", 6)
	pending.Status, pending.NotBefore, pending.Attempt = "", minutes(7), 2
	pending.Owner, pending.LeaseUntil, pending.Epoch = "instance-a", minutes(20), 3 // a pending run has no lease
	got = fireRun(t, s, pending)
	pending.Status, pending.Owner, pending.LeaseUntil, pending.Epoch = store.ScheduleRunPending, "", time.Time{}, 0
	if !reflect.DeepEqual(got, pending) {
		t.Errorf("ActionFire of a pending run = %s;\nwant %s", showScheduleRun(got), showScheduleRun(pending))
	}
	wantScheduleRun(t, "a fired pending run", s, pending)
	again := pendingRun(a.ID, "run-again", 5)
	again.ScheduledFor = running.ScheduledFor
	_, err := s.ActionFire(ctx, again)
	wantCode(t, "ActionFire of an occurrence that exists", err, gathering.ECONFLICT)
	_, err = s.ActionFire(ctx, pendingRun(a.ID, "run-pending", 8))
	wantCode(t, "ActionFire of an id that exists", err, gathering.ECONFLICT)
	_, err = s.ActionFire(ctx, pendingRun(a.ID+100, "run-orphan", 8))
	wantCode(t, "ActionFire of a missing action", err, gathering.ENOTFOUND)
	for name, change := range map[string]func(r *store.ScheduleRun){
		"a final status":        func(r *store.ScheduleRun) { r.Status = store.ScheduleRunCompleted },
		"no trigger":            func(r *store.ScheduleRun) { r.TriggeredBy = "" },
		"no id":                 func(r *store.ScheduleRun) { r.ID = "" },
		"no time":               func(r *store.ScheduleRun) { r.ScheduledFor = time.Time{} },
		"no owner":              func(r *store.ScheduleRun) { r.Status = store.ScheduleRunRunning },
		"malformed data":        func(r *store.ScheduleRun) { r.TriggerData = json.RawMessage(`{"a":1`) },
		"a negative depth":      func(r *store.ScheduleRun) { r.Depth = -1 },
		"a skip with no finish": func(r *store.ScheduleRun) { r.Status = store.ScheduleRunSkipped },
		"data of invalid UTF-8": func(r *store.ScheduleRun) { r.TriggerData = json.RawMessage("\"\xff\"") },
	} {
		r := pendingRun(a.ID, "run-refused", 9)
		change(&r)
		_, err := s.ActionFire(ctx, r)
		wantCode(t, "ActionFire with "+name, err, gathering.EINVALID)
	}
	if _, total, err := s.ScheduleRunList(ctx, a.ID, store.Page{}); err != nil || total != 2 {
		t.Errorf("after refused fires: %d runs, %v; want 2", total, err)
	}
}

// testActionFireSkipped checks that a refused firing is kept on record,
// finished and with its depth, and leaves its action alone.
func testActionFireSkipped(t *testing.T, s store.Store) {
	a := createAction(t, s, eventAction("on push", store.ActionPaused, 0))
	r := pendingRun(a.ID, "run-skipped", 3)
	r.Status, r.TriggeredBy, r.Error, r.FinishedAt = store.ScheduleRunSkipped, store.TriggeredByEvent, "too deep", minutes(3)
	r.TriggerData, r.Depth = json.RawMessage(oddTrigger), 4
	r.Owner, r.LeaseUntil, r.Epoch = "instance-a", minutes(20), 3 // a skipped run has no lease
	got := fireRun(t, s, r)
	r.Attempt, r.Owner, r.LeaseUntil, r.Epoch = 1, "", time.Time{}, 0
	if !reflect.DeepEqual(got, r) {
		t.Errorf("ActionFire of a skipped run = %s;\nwant %s", showScheduleRun(got), showScheduleRun(r))
	}
	wantScheduleRun(t, "a fired skipped run", s, r)
	wantAction(t, "after a skipped event run", s, a)
	if _, err := s.ScheduleRunClaim(t.Context(), "instance-a", minutes(100), minutes(110)); gathering.ErrorCode(err) != gathering.ENOTFOUND {
		t.Errorf("ScheduleRunClaim took a skipped run: %v", err)
	}
}

// eventAction is an event action named name with status and
// max_executions, never run.
func eventAction(name, status string, maxExecutions int) store.ScheduledAction {
	a := unscheduled(name)
	a.ScheduleType, a.EventTrigger, a.Status, a.MaxExecutions = store.ScheduleEvent, json.RawMessage(oddEventTrigger), status, maxExecutions
	return a
}

// eventRun is a pending event run id of action, scheduled for at.
func eventRun(action int64, id string, at time.Time) store.ScheduleRun {
	return store.ScheduleRun{ID: id, ActionID: action, ScheduledFor: at, TriggeredBy: store.TriggeredByEvent,
		Status: store.ScheduleRunPending, TriggerData: json.RawMessage(`{"id":"e1"}`), Depth: 2}
}

// testActionFireCountsEventRuns checks that an event run is an execution
// of its action, which expires at its max_executions, while other runs
// leave it alone.
func testActionFireCountsEventRuns(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createAction(t, s, eventAction("on push", store.ActionActive, 2))
	first := eventRun(a.ID, "run-1", minutes(5).Add(3*time.Millisecond))
	if got := fireRun(t, s, first); got.Depth != 2 || got.Attempt != 1 {
		t.Errorf("ActionFire of an event run = %s", showScheduleRun(got))
	}
	a.ExecutionCount, a.LastRunAt, a.UpdatedAt, a.Version = 1, first.ScheduledFor, first.ScheduledFor, 2
	wantAction(t, "after an event run", s, a)
	fireRun(t, s, pendingRun(a.ID, "run-manual", 9))
	wantAction(t, "after a manual run", s, a)
	earlier := eventRun(a.ID, "run-2", minutes(4)) // an event heard late: LastRunAt stays
	fireRun(t, s, earlier)
	a.ExecutionCount, a.Status, a.UpdatedAt, a.Version = 2, store.ActionExpired, earlier.ScheduledFor, 3
	wantAction(t, "after reaching max_executions", s, a)
	_, err := s.ActionFire(ctx, eventRun(a.ID, "run-3", minutes(6)))
	wantCode(t, "ActionFire of an event run past max_executions", err, gathering.ENOTFOUND)
	unlimited := createAction(t, s, eventAction("unlimited", store.ActionActive, 0))
	for i := range 3 {
		fireRun(t, s, eventRun(unlimited.ID, fmt.Sprint("unlimited-", i), minutes(10+i)))
	}
	unlimited.ExecutionCount, unlimited.LastRunAt, unlimited.UpdatedAt, unlimited.Version = 3, minutes(12), minutes(12), 4
	wantAction(t, "an action without max_executions", s, unlimited)
	if _, total, err := s.ScheduleRunList(ctx, a.ID, store.Page{}); err != nil || total != 3 {
		t.Errorf("%d runs, %v; want the 2 event runs and the manual one", total, err)
	}
}

// testActionFireEventRunRefused checks that an event run of an action that
// is not active is refused, and that a refused insert does not count.
func testActionFireEventRunRefused(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, status := range []string{store.ActionPaused, store.ActionDisabled, store.ActionExpired} {
		a := createAction(t, s, eventAction(status, status, 0))
		_, err := s.ActionFire(ctx, eventRun(a.ID, "run-"+status, minutes(1)))
		wantCode(t, "ActionFire of an event run of a "+status+" action", err, gathering.ENOTFOUND)
		wantAction(t, "after a refused event run", s, a)
	}
	_, err := s.ActionFire(ctx, eventRun(999999, "run-orphan", minutes(1)))
	wantCode(t, "ActionFire of an event run of a missing action", err, gathering.ENOTFOUND)
	a := createAction(t, s, eventAction("on push", store.ActionActive, 0))
	fired := fireRun(t, s, eventRun(a.ID, "run-1", minutes(1)))
	a = getAction(t, s, a.ID)
	_, err = s.ActionFire(ctx, eventRun(a.ID, "run-1", minutes(2)))
	wantCode(t, "ActionFire of an event run whose id exists", err, gathering.ECONFLICT)
	_, err = s.ActionFire(ctx, eventRun(a.ID, "run-2", fired.ScheduledFor))
	wantCode(t, "ActionFire of an event run whose occurrence exists", err, gathering.ECONFLICT)
	wantAction(t, "after conflicting event runs", s, a)
}

// testScheduleRunDepthOf checks that a pipeline run or background task
// leads back to the depth of the schedule run that started it.
func testScheduleRunDepthOf(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createAction(t, s, newAction("report", 0))
	deep := startedRun(t, s, a.ID, "run-deep", 1)
	shallow := eventRun(a.ID, "run-shallow", minutes(2))
	shallow.Status, shallow.Owner, shallow.LeaseUntil, shallow.Depth = store.ScheduleRunRunning, "instance-a", minutes(20), 1
	shallow = fireRun(t, s, shallow)
	if err := s.ScheduleRunLink(ctx, store.ScheduleLeaseOf(shallow), "pipeline-run-1", ""); err != nil {
		t.Fatalf("ScheduleRunLink: %v", err)
	}
	deep.Status, deep.FinishedAt, deep.BackgroundTaskID = store.ScheduleRunCompleted, minutes(3), "task-1"
	finishScheduleRun(t, s, deep)
	startedRun(t, s, a.ID, "run-unlinked", 4)
	for _, tc := range []struct {
		pipelineRun, task string
		want              int
	}{
		{"pipeline-run-1", "", 1},
		{"", "task-1", 0},
		{"pipeline-run-1", "task-1", 1},
		{"pipeline-run-1", "task-missing", 1},
	} {
		if got, err := s.ScheduleRunDepthOf(ctx, tc.pipelineRun, tc.task); err != nil || got != tc.want {
			t.Errorf("ScheduleRunDepthOf(%q, %q) = %d, %v; want %d", tc.pipelineRun, tc.task, got, err, tc.want)
		}
	}
	for _, ids := range [][2]string{{"", ""}, {"pipeline-run-2", ""}, {"", "task-2"}, {"task-1", "pipeline-run-1"}} {
		_, err := s.ScheduleRunDepthOf(ctx, ids[0], ids[1])
		wantCode(t, fmt.Sprintf("ScheduleRunDepthOf(%q, %q)", ids[0], ids[1]), err, gathering.ENOTFOUND)
	}
}

func testScheduleRunClaim(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.ScheduleRunClaim(ctx, "instance-b", minutes(0), minutes(10))
	wantCode(t, "ScheduleRunClaim with no run", err, gathering.ENOTFOUND)
	a := createAction(t, s, newAction("report", 0))
	_, err = s.ScheduleRunClaim(ctx, "", minutes(0), minutes(10))
	wantCode(t, "ScheduleRunClaim without an owner", err, gathering.EINVALID)
	// run-a and run-b both wait until minute 2: the id decides.
	b := pendingRun(a.ID, "run-b", 9)
	b.NotBefore, b.TriggeredBy = minutes(2), store.TriggeredByEvent
	later := pendingRun(a.ID, "run-later", 1)
	later.NotBefore = minutes(50)
	pending := []store.ScheduleRun{fireRun(t, s, pendingRun(a.ID, "run-c", 3)), fireRun(t, s, b),
		fireRun(t, s, pendingRun(a.ID, "run-a", 2)), fireRun(t, s, later)}
	dead := startedRun(t, s, a.ID, "run-dead", 0) // leased until minute 10
	for _, want := range []store.ScheduleRun{pending[2], pending[1], pending[0]} {
		got := claimScheduleRun(t, s, "instance-b", 9, 100)
		want.Status, want.Owner, want.Epoch, want.LeaseUntil, want.StartedAt =
			store.ScheduleRunRunning, "instance-b", 1, minutes(100), minutes(9)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ScheduleRunClaim = %s;\nwant %s", showScheduleRun(got), showScheduleRun(want))
		}
		wantScheduleRun(t, "after ScheduleRunClaim", s, want)
	}
	// A live lease is not taken; a lease that ends at now has not ended
	// before now.
	for _, now := range []int{9, 10} {
		_, err = s.ScheduleRunClaim(ctx, "instance-b", minutes(now), minutes(now+10))
		wantCode(t, fmt.Sprintf("ScheduleRunClaim at minute %d", now), err, gathering.ENOTFOUND)
	}
	got := claimScheduleRun(t, s, "instance-b", 11, 100)
	dead.Attempt, dead.TriggeredBy, dead.Owner, dead.Epoch = 2, store.TriggeredByRecovery, "instance-b", 2
	dead.LeaseUntil, dead.StartedAt = minutes(100), minutes(11)
	if !reflect.DeepEqual(got, dead) {
		t.Errorf("ScheduleRunClaim of a dead instance's run = %s;\nwant %s", showScheduleRun(got), showScheduleRun(dead))
	}
	if got := claimScheduleRun(t, s, "instance-c", 50, 60); got.ID != later.ID {
		t.Errorf("ScheduleRunClaim at minute 50 took %s; want %s", got.ID, later.ID)
	}
}

// testScheduleRunClaimConcurrent checks that concurrent claims never take
// the same run and, together, take them all.
func testScheduleRunClaimConcurrent(t *testing.T, s store.Store) {
	a := createAction(t, s, newAction("report", 0))
	const runs, claimers = 20, 8
	var want []string
	for i := range runs {
		want = append(want, fireRun(t, s, pendingRun(a.ID, fmt.Sprintf("run-%02d", i), i)).ID)
	}
	claimEachOnce(t, claimers, want,
		func(owner string) (string, error) {
			r, err := s.ScheduleRunClaim(t.Context(), owner, minutes(30), minutes(40))
			return r.ID, err
		},
		func(id string) (string, int64, string, error) {
			r, err := s.ScheduleRunGet(t.Context(), id)
			return r.Owner, r.Epoch, showScheduleRun(r), err
		})
}

func testScheduleRunHeartbeat(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createAction(t, s, newAction("report", 0))
	lost := startedRun(t, s, a.ID, "run-lost", 0) // leased until minute 10
	kept := startedRun(t, s, a.ID, "run-kept", 5)
	finished := startedRun(t, s, a.ID, "run-finished", 6)
	finished.Status, finished.FinishedAt = store.ScheduleRunCompleted, minutes(7)
	finishScheduleRun(t, s, finished)
	taken := claimScheduleRun(t, s, "instance-b", 11, 30)
	leases := []store.Lease{store.ScheduleLeaseOf(lost), store.ScheduleLeaseOf(kept), store.ScheduleLeaseOf(finished),
		store.ScheduleLeaseOf(kept), {RunID: "run-missing", Owner: "instance-a", Epoch: 1}}
	failed, err := s.ScheduleRunHeartbeat(ctx, leases, minutes(40))
	if want := []string{"run-finished", "run-lost", "run-missing"}; err != nil || !slices.Equal(failed, want) {
		t.Errorf("ScheduleRunHeartbeat = %v, %v; want %v", failed, err, want)
	}
	kept.LeaseUntil = minutes(40)
	wantScheduleRun(t, "the lease that holds", s, kept)
	wantScheduleRun(t, "the lease taken over", s, taken)
	if failed, err := s.ScheduleRunHeartbeat(ctx, nil, minutes(50)); err != nil || len(failed) != 0 {
		t.Errorf("ScheduleRunHeartbeat of no lease = %v, %v", failed, err)
	}
}

func testScheduleRunRelease(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createAction(t, s, newAction("report", 0))
	r := startedRun(t, s, a.ID, "run-1", 1)
	stale := store.ScheduleLeaseOf(r)
	stale.Epoch++
	wantCode(t, "ScheduleRunRelease of a lease that does not hold", s.ScheduleRunRelease(ctx, stale, minutes(2)),
		gathering.ECONFLICT)
	wantScheduleRun(t, "after a refused release", s, r)
	if err := s.ScheduleRunRelease(ctx, store.ScheduleLeaseOf(r), minutes(3)); err != nil {
		t.Fatalf("ScheduleRunRelease: %v", err)
	}
	released := r
	released.Status, released.NotBefore, released.Owner, released.LeaseUntil =
		store.ScheduleRunPending, minutes(3), "", time.Time{}
	wantScheduleRun(t, "after ScheduleRunRelease", s, released)
	wantCode(t, "second ScheduleRunRelease", s.ScheduleRunRelease(ctx, store.ScheduleLeaseOf(r), minutes(4)),
		gathering.ECONFLICT)
	missing := store.Lease{RunID: "run-missing", Owner: "instance-a", Epoch: 1}
	wantCode(t, "ScheduleRunRelease of a missing run", s.ScheduleRunRelease(ctx, missing, minutes(4)), gathering.ENOTFOUND)
	again := claimScheduleRun(t, s, "instance-b", 3, 13)
	released.Status, released.Owner, released.Epoch, released.LeaseUntil, released.StartedAt =
		store.ScheduleRunRunning, "instance-b", 2, minutes(13), minutes(3)
	if !reflect.DeepEqual(again, released) {
		t.Errorf("ScheduleRunClaim of a released run = %s;\nwant %s", showScheduleRun(again), showScheduleRun(released))
	}
}

func testScheduleRunRetry(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createAction(t, s, newAction("report", 0))
	r := startedRun(t, s, a.ID, "run-1", 1)
	l := store.ScheduleLeaseOf(r)
	stale := l
	stale.Owner = "instance-b"
	wantCode(t, "ScheduleRunRetry under a stale lease", s.ScheduleRunRetry(ctx, stale, minutes(30)), gathering.ECONFLICT)
	if err := s.ScheduleRunRetry(ctx, l, minutes(30)); err != nil {
		t.Fatalf("ScheduleRunRetry: %v", err)
	}
	retried := r
	retried.Status, retried.Attempt, retried.NotBefore, retried.Owner, retried.LeaseUntil =
		store.ScheduleRunPending, 2, minutes(30), "", time.Time{}
	wantScheduleRun(t, "after ScheduleRunRetry", s, retried)
	wantCode(t, "second ScheduleRunRetry", s.ScheduleRunRetry(ctx, l, minutes(40)), gathering.ECONFLICT)
	missing := store.Lease{RunID: "run-missing", Owner: "instance-a", Epoch: 1}
	wantCode(t, "ScheduleRunRetry of a missing run", s.ScheduleRunRetry(ctx, missing, minutes(40)), gathering.ENOTFOUND)
	_, err := s.ScheduleRunClaim(ctx, "instance-b", minutes(29), minutes(39))
	wantCode(t, "ScheduleRunClaim before the retry is due", err, gathering.ENOTFOUND)
	got := claimScheduleRun(t, s, "instance-b", 30, 40)
	retried.Status, retried.Owner, retried.Epoch, retried.LeaseUntil, retried.StartedAt =
		store.ScheduleRunRunning, "instance-b", 2, minutes(40), minutes(30)
	if !reflect.DeepEqual(got, retried) {
		t.Errorf("ScheduleRunClaim of a retried run = %s;\nwant %s", showScheduleRun(got), showScheduleRun(retried))
	}
}

func testScheduleRunLink(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createAction(t, s, newAction("report", 0))
	r := startedRun(t, s, a.ID, "run-1", 1)
	if err := s.ScheduleRunLink(ctx, store.ScheduleLeaseOf(r), "pipeline-run-1", ""); err != nil {
		t.Fatalf("ScheduleRunLink: %v", err)
	}
	r.PipelineRunID = "pipeline-run-1"
	wantScheduleRun(t, "after ScheduleRunLink", s, r)
	stale := store.ScheduleLeaseOf(r)
	stale.Epoch++
	wantCode(t, "ScheduleRunLink under a stale lease", s.ScheduleRunLink(ctx, stale, "", "task-1"), gathering.ECONFLICT)
	missing := store.Lease{RunID: "run-missing", Owner: "instance-a", Epoch: 1}
	wantCode(t, "ScheduleRunLink of a missing run", s.ScheduleRunLink(ctx, missing, "", "task-1"), gathering.ENOTFOUND)
	wantScheduleRun(t, "after refused links", s, r)
}

func testScheduleRunFinish(t *testing.T, s store.Store) {
	ctx := t.Context()
	created := newAction("report", 100)
	created.ConsecutiveFailures = 3
	a := createAction(t, s, created)
	r := startedRun(t, s, a.ID, "run-1", 1)
	if err := s.ScheduleRunLink(ctx, store.ScheduleLeaseOf(r), "pipeline-run-1", "task-0"); err != nil {
		t.Fatalf("ScheduleRunLink: %v", err)
	}
	outcome := r
	outcome.ID, outcome.Status, outcome.Result = "", store.ScheduleRunCompleted, json.RawMessage(oddResult)
	outcome.BackgroundTaskID, outcome.FinishedAt = "task-1", minutes(3).Add(5*time.Millisecond)
	for name, change := range map[string]func(r *store.ScheduleRun){
		"a status that is not final": func(r *store.ScheduleRun) { r.Status = store.ScheduleRunRunning },
		"no status":                  func(r *store.ScheduleRun) { r.Status = "" },
		"no time":                    func(r *store.ScheduleRun) { r.FinishedAt = time.Time{} },
		"another run":                func(r *store.ScheduleRun) { r.ID = "run-2" },
		"a malformed result":         func(r *store.ScheduleRun) { r.Result = json.RawMessage(`[1,]`) },
	} {
		refused := outcome
		change(&refused)
		wantCode(t, "ScheduleRunFinish with "+name, s.ScheduleRunFinish(ctx, store.ScheduleLeaseOf(r), refused),
			gathering.EINVALID)
	}
	stale := store.ScheduleLeaseOf(r)
	stale.Epoch++
	wantCode(t, "ScheduleRunFinish under a stale lease", s.ScheduleRunFinish(ctx, stale, outcome), gathering.ECONFLICT)
	wantAction(t, "after refused outcomes", s, a)
	if err := s.ScheduleRunFinish(ctx, store.ScheduleLeaseOf(r), outcome); err != nil {
		t.Fatalf("ScheduleRunFinish: %v", err)
	}
	// The linked pipeline run stays; the lease ends when the run finished.
	want := r
	want.Status, want.Result, want.Error = store.ScheduleRunCompleted, json.RawMessage(oddResult), ""
	want.PipelineRunID, want.BackgroundTaskID = "pipeline-run-1", "task-1"
	want.FinishedAt, want.LeaseUntil = outcome.FinishedAt, outcome.FinishedAt
	wantScheduleRun(t, "after ScheduleRunFinish", s, want)
	if got, err := s.ScheduleRunGet(ctx, r.ID); err != nil || string(got.Result) != oddResult {
		t.Errorf("result did not read back byte for byte: %q, %v", got.Result, err)
	}
	a.ConsecutiveFailures, a.UpdatedAt, a.Version = 0, outcome.FinishedAt, 2
	wantAction(t, "after a completed run", s, a)
	wantCode(t, "second ScheduleRunFinish", s.ScheduleRunFinish(ctx, store.ScheduleLeaseOf(r), outcome), gathering.ECONFLICT)
	missing := store.Lease{RunID: "run-missing", Owner: "instance-a", Epoch: 1}
	wantCode(t, "ScheduleRunFinish of a missing run", s.ScheduleRunFinish(ctx, missing, outcome), gathering.ENOTFOUND)
}

// testScheduleRunFinishPauses checks the count of consecutive failures and
// the pause it leads to.
func testScheduleRunFinishPauses(t *testing.T, s store.Store) {
	pausing := newAction("pausing", 100)
	pausing.PauseAfterFailures = 2
	a := createAction(t, s, pausing)
	never := createAction(t, s, newAction("never pauses", 100))
	finish := func(action int64, id string, at int, status string) {
		t.Helper()
		r := startedRun(t, s, action, id, at)
		r.Status, r.Error, r.FinishedAt = status, "boom", minutes(at+1)
		finishScheduleRun(t, s, r)
	}
	finish(a.ID, "run-1", 1, store.ScheduleRunFailed)
	a.ConsecutiveFailures, a.UpdatedAt, a.Version = 1, minutes(2), 2
	wantAction(t, "after one failure", s, a)
	finish(a.ID, "run-2", 2, store.ScheduleRunSkipped)
	wantAction(t, "after a skipped run", s, a)
	finish(a.ID, "run-3", 3, store.ScheduleRunFailed)
	a.ConsecutiveFailures, a.Status, a.NextRunAt, a.UpdatedAt, a.Version = 2, store.ActionPaused, time.Time{}, minutes(4), 3
	wantAction(t, "after reaching pause_after_failures", s, a)
	finish(a.ID, "run-4", 4, store.ScheduleRunFailed)
	a.ConsecutiveFailures, a.UpdatedAt, a.Version = 3, minutes(5), 4
	wantAction(t, "a paused action failing again", s, a)
	for i := range 3 {
		finish(never.ID, fmt.Sprint("never-", i), 10+i, store.ScheduleRunFailed)
	}
	never.ConsecutiveFailures, never.UpdatedAt, never.Version = 3, minutes(13), 4
	wantAction(t, "without pause_after_failures", s, never)
}

func testScheduleRunList(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createAction(t, s, newAction("report", 0))
	other := createAction(t, s, newAction("other", 0))
	for i, at := range []int{5, 1, 3, 2} {
		fireRun(t, s, pendingRun(a.ID, fmt.Sprint("run-", i), at))
	}
	fireRun(t, s, pendingRun(other.ID, "run-other", 4))
	all := []string{"run-0", "run-2", "run-3", "run-1"}
	for _, tc := range []struct {
		action int64
		page   store.Page
		want   []string
		total  int
	}{
		{a.ID, store.Page{}, all, 4},
		{a.ID, store.Page{Limit: 2, Offset: 1}, all[1:3], 4},
		{a.ID, store.Page{Offset: 9}, nil, 4},
		{a.ID, store.Page{Offset: -1, Limit: 1000}, all, 4},
		{other.ID, store.Page{}, []string{"run-other"}, 1},
		{other.ID + 100, store.Page{}, nil, 0},
	} {
		list, total, err := s.ScheduleRunList(ctx, tc.action, tc.page)
		if got := runIDs(list); err != nil || total != tc.total || !slices.Equal(got, tc.want) {
			t.Errorf("ScheduleRunList(%d, %+v) = %v, total %d, %v; want %v, total %d", tc.action, tc.page, got, total,
				err, tc.want, tc.total)
		}
	}
	list, _, err := s.ScheduleRunList(ctx, other.ID, store.Page{})
	if got, getErr := s.ScheduleRunGet(ctx, "run-other"); err != nil || getErr != nil || !reflect.DeepEqual(list, []store.ScheduleRun{got}) {
		t.Errorf("ScheduleRunList item = %v, %v; want ScheduleRunGet's %v, %v", list, err, got, getErr)
	}
	_, err = s.ScheduleRunGet(ctx, "run-missing")
	wantCode(t, "ScheduleRunGet of a missing run", err, gathering.ENOTFOUND)
}
