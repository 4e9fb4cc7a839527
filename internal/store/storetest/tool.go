package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// exerciseTools runs the ToolStore part of the suite, each test on a fresh
// migrated store.
func exerciseTools(t *testing.T, migrated func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"ToolExecutionCreateGet", testToolExecutionCreateGet},
		{"ToolExecutionCreateRefuses", testToolExecutionCreateRefuses},
		{"ToolExecutionUpdate", testToolExecutionUpdate},
		{"ToolExecutionUpdateFinished", testToolExecutionUpdateFinished},
		{"ToolExecutionList", testToolExecutionList},
		{"ToolExecutionListPaging", testToolExecutionListPaging},
		{"ToolExecutionListCap", testToolExecutionListCap},
		{"ToolExecutionHeartbeat", testToolExecutionHeartbeat},
		{"ToolExecutionInterrupt", testToolExecutionInterrupt},
		{"ToolExecutionInterruptRace", testToolExecutionInterruptRace},
		{"AgentSkills", testAgentSkills},
		{"AgentSkillsIsolated", testAgentSkillsIsolated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { t.Parallel(); tt.test(t, migrated(t)) })
	}
}

// pendingTool is a pending execution of tool "echo" by user 7, created at
// minute n, with its heartbeat then.
func pendingTool(id string, n int) store.ToolExecution {
	return store.ToolExecution{
		ID: id, Tool: "echo", Status: store.ToolPending, Input: json.RawMessage(`{"text":"hi"}`),
		UserID: 7, Owner: "instance-a", CreatedAt: minutes(n), HeartbeatAt: minutes(n),
	}
}

// createTools stores every execution or fails the test.
func createTools(t *testing.T, s store.Store, es ...store.ToolExecution) {
	t.Helper()
	for _, e := range es {
		if err := s.ToolExecutionCreate(t.Context(), e); err != nil {
			t.Fatalf("ToolExecutionCreate(%s): %v", e.ID, err)
		}
	}
}

// wantTool fails the test unless the stored execution equals want, every
// field, byte for byte and with UTC times.
func wantTool(t *testing.T, op string, s store.Store, want store.ToolExecution) {
	t.Helper()
	got, err := s.ToolExecutionGet(t.Context(), want.ID)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: ToolExecutionGet = %s, %v;\nwant %s", op, showTool(got), err, showTool(want))
	}
}

// showTool prints an execution with its JSON as text.
func showTool(e store.ToolExecution) string {
	return fmt.Sprintf("%+v (input %q, output %q, output nil: %t)", e, e.Input, e.Output, e.Output == nil)
}

// toolIDs lists the ids of executions, in order.
func toolIDs(es []store.ToolExecution) []string {
	ids := []string{}
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}

func testToolExecutionCreateGet(t *testing.T, s store.Store) {
	full := store.ToolExecution{
		ID: "exec-full", Tool: "http.get", Status: store.ToolFailed,
		Input:     json.RawMessage(`{ "url" : "https://example.org/é",  "headers": {"b": 1, "a": [1,2.50]} }`),
		Output:    json.RawMessage(`[ "partial" , null ]`),
		ErrorCode: gathering.ETIMEOUT, Error: "The tool did not answer in time.", Reason: "expired",
		UserID: 7, AgentID: 42, Background: true, Owner: "instance-a",
		CreatedAt: minutes(1), StartedAt: minutes(2).Add(123 * time.Millisecond), FinishedAt: minutes(3),
		ExpiresAt: minutes(4), HeartbeatAt: minutes(2).Add(999 * time.Millisecond), DecidedBy: 9,
	}
	bare := store.ToolExecution{
		ID: "exec-bare", Tool: "noop", Status: store.ToolPending, Input: json.RawMessage(`null`), CreatedAt: minutes(5),
	}
	createTools(t, s, full, bare)
	wantTool(t, "every field set", s, full)
	wantTool(t, "zero values", s, bare)
	_, err := s.ToolExecutionGet(t.Context(), "exec-missing")
	wantCode(t, "ToolExecutionGet of a missing id", err, gathering.ENOTFOUND)
}

func testToolExecutionCreateRefuses(t *testing.T, s store.Store) {
	first := pendingTool("exec-1", 1)
	createTools(t, s, first)
	again := pendingTool("exec-1", 2)
	again.Tool = "other"
	wantCode(t, "ToolExecutionCreate of an existing id", s.ToolExecutionCreate(t.Context(), again), gathering.ECONFLICT)
	wantTool(t, "after a refused duplicate", s, first)
	badInput := pendingTool("exec-2", 1)
	badInput.Input = json.RawMessage(`{"open":`)
	wantCode(t, "ToolExecutionCreate with invalid input", s.ToolExecutionCreate(t.Context(), badInput), gathering.EINVALID)
	badOutput := pendingTool("exec-3", 1)
	badOutput.Output = json.RawMessage(`nope`)
	wantCode(t, "ToolExecutionCreate with invalid output", s.ToolExecutionCreate(t.Context(), badOutput), gathering.EINVALID)
	if _, total, err := s.ToolExecutionList(t.Context(), store.ToolExecutionFilter{}); err != nil || total != 1 {
		t.Errorf("after refused creations: total %d, %v; want 1", total, err)
	}
}

func testToolExecutionUpdate(t *testing.T, s store.Store) {
	e := pendingTool("exec-1", 1)
	e.ExpiresAt = minutes(10)
	createTools(t, s, e)
	steps := []func(e *store.ToolExecution){
		func(e *store.ToolExecution) {
			e.Status, e.DecidedBy, e.ExpiresAt = store.ToolAwaitingConfirmation, 0, minutes(9)
		},
		func(e *store.ToolExecution) {
			e.Status, e.DecidedBy, e.ExpiresAt, e.StartedAt, e.HeartbeatAt = store.ToolRunning, 3, minutes(9), minutes(2), minutes(2)
		},
		func(e *store.ToolExecution) {
			e.Status, e.Output, e.FinishedAt, e.HeartbeatAt = store.ToolSucceeded, json.RawMessage(`{"echo": "hi" }`), minutes(3), minutes(3)
		},
	}
	for i, step := range steps {
		step(&e)
		if err := s.ToolExecutionUpdate(t.Context(), e); err != nil {
			t.Fatalf("step %d: ToolExecutionUpdate to %s: %v", i, e.Status, err)
		}
		wantTool(t, fmt.Sprintf("step %d (%s)", i, e.Status), s, e)
	}
	// The fields that are not mutable keep their stored values.
	other := pendingTool("exec-2", 1)
	createTools(t, s, other)
	changed := other
	changed.Tool, changed.Input, changed.UserID, changed.AgentID, changed.Background, changed.Owner, changed.CreatedAt =
		"other", json.RawMessage(`[]`), 8, 9, true, "instance-b", minutes(30)
	changed.Status, changed.ErrorCode, changed.Error, changed.Reason = store.ToolCancelled, gathering.ECONFLICT, "stopped", "cancelled"
	if err := s.ToolExecutionUpdate(t.Context(), changed); err != nil {
		t.Fatalf("ToolExecutionUpdate: %v", err)
	}
	other.Status, other.ErrorCode, other.Error, other.Reason = changed.Status, changed.ErrorCode, changed.Error, changed.Reason
	wantTool(t, "after an update of immutable fields", s, other)
}

func testToolExecutionUpdateFinished(t *testing.T, s store.Store) {
	for _, status := range []store.ToolExecutionStatus{store.ToolSucceeded, store.ToolFailed, store.ToolCancelled, store.ToolTimedOut} {
		e := pendingTool("exec-"+string(status), 1)
		e.Status, e.FinishedAt, e.Reason = status, minutes(2), "final"
		createTools(t, s, e)
		late := e
		late.Status, late.Output, late.Reason, late.HeartbeatAt = store.ToolRunning, json.RawMessage(`1`), "", minutes(5)
		wantCode(t, "ToolExecutionUpdate of a "+string(status)+" execution", s.ToolExecutionUpdate(t.Context(), late), gathering.ECONFLICT)
		late.Status = store.ToolSucceeded
		wantCode(t, "ToolExecutionUpdate of a "+string(status)+" execution", s.ToolExecutionUpdate(t.Context(), late), gathering.ECONFLICT)
		wantTool(t, "after a refused update of a "+string(status)+" execution", s, e)
	}
	missing := pendingTool("exec-missing", 1)
	wantCode(t, "ToolExecutionUpdate of a missing id", s.ToolExecutionUpdate(t.Context(), missing), gathering.ENOTFOUND)
	live := pendingTool("exec-live", 1)
	createTools(t, s, live)
	live.Status, live.Output = store.ToolSucceeded, json.RawMessage(`{`)
	wantCode(t, "ToolExecutionUpdate with invalid output", s.ToolExecutionUpdate(t.Context(), live), gathering.EINVALID)
}

func testToolExecutionList(t *testing.T, s store.Store) {
	var all []store.ToolExecution
	for i, v := range []struct {
		user, agent int64
		tool        string
		status      store.ToolExecutionStatus
	}{
		{1, 0, "echo", store.ToolSucceeded},
		{1, 5, "echo", store.ToolRunning},
		{2, 5, "http.get", store.ToolSucceeded},
		{2, 6, "echo", store.ToolFailed},
		{0, 6, "http.get", store.ToolRunning},
	} {
		e := pendingTool(fmt.Sprintf("exec-%d", i), i)
		e.UserID, e.AgentID, e.Tool, e.Status = v.user, v.agent, v.tool, v.status
		all = append(all, e)
	}
	createTools(t, s, all...)
	cases := []struct {
		filter store.ToolExecutionFilter
		want   []string
	}{
		{store.ToolExecutionFilter{}, []string{"exec-4", "exec-3", "exec-2", "exec-1", "exec-0"}},
		{store.ToolExecutionFilter{UserID: 1}, []string{"exec-1", "exec-0"}},
		{store.ToolExecutionFilter{AgentID: 5}, []string{"exec-2", "exec-1"}},
		{store.ToolExecutionFilter{Tool: "http.get"}, []string{"exec-4", "exec-2"}},
		{store.ToolExecutionFilter{Status: store.ToolRunning}, []string{"exec-4", "exec-1"}},
		{store.ToolExecutionFilter{UserID: 2, Tool: "echo"}, []string{"exec-3"}},
		{store.ToolExecutionFilter{AgentID: 6, Status: store.ToolSucceeded}, []string{}},
		{store.ToolExecutionFilter{UserID: 3}, []string{}},
	}
	for _, c := range cases {
		list, total, err := s.ToolExecutionList(t.Context(), c.filter)
		if got := toolIDs(list); err != nil || total != len(c.want) || !slices.Equal(got, c.want) {
			t.Errorf("ToolExecutionList(%+v) = %v, total %d, %v; want %v, total %d", c.filter, got, total, err, c.want, len(c.want))
		}
	}
	list, _, err := s.ToolExecutionList(t.Context(), store.ToolExecutionFilter{AgentID: 6, Tool: "echo"})
	if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], all[3]) {
		t.Errorf("ToolExecutionList returned %v, %v; want exactly %s", list, err, showTool(all[3]))
	}
}

func testToolExecutionListPaging(t *testing.T, s store.Store) {
	var want []string
	for i := range 60 {
		// Pairs share a creation time: the id breaks the tie, descending.
		createTools(t, s, pendingTool(fmt.Sprintf("exec-%02d", i), i/2))
		want = append(want, fmt.Sprintf("exec-%02d", i))
	}
	slices.Reverse(want)
	cases := []struct {
		page store.Page
		want []string
	}{
		{store.Page{}, want[:50]},
		{store.Page{Limit: -1}, want[:50]},
		{store.Page{Limit: 3}, want[:3]},
		{store.Page{Limit: 3, Offset: 3}, want[3:6]},
		{store.Page{Limit: 10, Offset: 55}, want[55:]},
		{store.Page{Limit: 1000}, want},
		{store.Page{Limit: 5, Offset: -4}, want[:5]},
		{store.Page{Offset: 60}, []string{}},
	}
	for _, c := range cases {
		list, total, err := s.ToolExecutionList(t.Context(), store.ToolExecutionFilter{Page: c.page})
		if got := toolIDs(list); err != nil || total != 60 || !slices.Equal(got, c.want) {
			t.Errorf("ToolExecutionList(%+v) = %v, total %d, %v; want %v, total 60", c.page, got, total, err, c.want)
		}
	}
}

func testToolExecutionListCap(t *testing.T, s store.Store) {
	for i := range 501 {
		createTools(t, s, pendingTool(fmt.Sprintf("exec-%03d", i), 0))
	}
	list, total, err := s.ToolExecutionList(t.Context(), store.ToolExecutionFilter{Page: store.Page{Limit: 10_000}})
	if err != nil || total != 501 || len(list) != 500 {
		t.Errorf("ToolExecutionList with Limit 10000 = %d rows, total %d, %v; want 500 rows, total 501", len(list), total, err)
	}
}

func testToolExecutionHeartbeat(t *testing.T, s store.Store) {
	running, awaiting, other, done := pendingTool("exec-run", 1), pendingTool("exec-wait", 1), pendingTool("exec-other", 1), pendingTool("exec-done", 1)
	running.Status, awaiting.Status = store.ToolRunning, store.ToolAwaitingConfirmation
	done.Status, done.FinishedAt = store.ToolSucceeded, minutes(2)
	createTools(t, s, running, awaiting, other, done)
	if err := s.ToolExecutionHeartbeat(t.Context(), []string{"exec-run", "exec-wait", "exec-done", "exec-missing"}, minutes(7)); err != nil {
		t.Fatalf("ToolExecutionHeartbeat: %v", err)
	}
	running.HeartbeatAt, awaiting.HeartbeatAt = minutes(7), minutes(7)
	for _, e := range []store.ToolExecution{running, awaiting, other, done} {
		wantTool(t, "after a heartbeat", s, e)
	}
	for _, ids := range [][]string{nil, {}} {
		if err := s.ToolExecutionHeartbeat(t.Context(), ids, minutes(8)); err != nil {
			t.Errorf("ToolExecutionHeartbeat(%#v): %v", ids, err)
		}
	}
	wantTool(t, "after an empty heartbeat", s, running)
}

func testToolExecutionInterrupt(t *testing.T, s store.Store) {
	stalePending, staleRunning, staleAwaiting := pendingTool("stale-1", 1), pendingTool("stale-2", 1), pendingTool("stale-3", 2)
	staleRunning.Status, staleRunning.StartedAt = store.ToolRunning, minutes(1)
	staleAwaiting.Status = store.ToolAwaitingConfirmation
	noHeartbeat := pendingTool("stale-4", 1)
	noHeartbeat.HeartbeatAt = time.Time{}
	fresh, freshNoHeartbeat := pendingTool("fresh-1", 1), pendingTool("fresh-2", 10)
	fresh.Status, fresh.HeartbeatAt = store.ToolRunning, minutes(10)
	freshNoHeartbeat.HeartbeatAt = time.Time{}
	atLimit := pendingTool("fresh-3", 5) // heartbeat exactly at staleBefore: not older
	final := pendingTool("final-1", 1)
	final.Status, final.FinishedAt, final.Output = store.ToolSucceeded, minutes(2), json.RawMessage(`"ok"`)
	createTools(t, s, stalePending, staleRunning, staleAwaiting, noHeartbeat, fresh, freshNoHeartbeat, atLimit, final)

	ids, err := s.ToolExecutionInterrupt(t.Context(), minutes(5), minutes(20))
	if want := []string{"stale-1", "stale-2", "stale-3", "stale-4"}; err != nil || !slices.Equal(ids, want) {
		t.Fatalf("ToolExecutionInterrupt = %v, %v; want %v", ids, err, want)
	}
	for _, e := range []store.ToolExecution{stalePending, staleRunning, staleAwaiting, noHeartbeat} {
		e.Status, e.Reason, e.ErrorCode, e.FinishedAt = store.ToolFailed, "interrupted", gathering.EUNAVAILABLE, minutes(20)
		e.Error = "The server stopped while the tool was running."
		wantTool(t, "an interrupted execution", s, e)
	}
	for _, e := range []store.ToolExecution{fresh, freshNoHeartbeat, atLimit, final} {
		wantTool(t, "an execution the sweep left alone", s, e)
	}
	if ids, err := s.ToolExecutionInterrupt(t.Context(), minutes(5), minutes(21)); err != nil || len(ids) != 0 {
		t.Errorf("second ToolExecutionInterrupt = %v, %v; want none", ids, err)
	}
}

// testToolExecutionInterruptRace finishes executions while a sweep
// interrupts them, many times over: each execution ends with exactly one
// outcome, the one its winner reported.
func testToolExecutionInterruptRace(t *testing.T, s store.Store) {
	const rounds, perRound = 10, 8
	for r := range rounds {
		var execs []store.ToolExecution
		for i := range perRound {
			e := pendingTool(fmt.Sprintf("race-%d-%d", r, i), 1)
			e.Status = store.ToolRunning
			execs = append(execs, e)
		}
		createTools(t, s, execs...)
		var interrupted []string
		var interruptErr error
		updateErrs := make([]error, perRound)
		var wg sync.WaitGroup
		wg.Go(func() { interrupted, interruptErr = s.ToolExecutionInterrupt(t.Context(), minutes(5), minutes(6)) })
		for i, e := range execs {
			e.Status, e.Output, e.FinishedAt, e.HeartbeatAt = store.ToolSucceeded, json.RawMessage(`true`), minutes(7), minutes(7)
			wg.Go(func() { updateErrs[i] = s.ToolExecutionUpdate(t.Context(), e) })
		}
		wg.Wait()
		if interruptErr != nil {
			t.Fatalf("round %d: ToolExecutionInterrupt: %v", r, interruptErr)
		}
		for i, e := range execs {
			checkRaceOutcome(t, s, e.ID, slices.Contains(interrupted, e.ID), updateErrs[i])
		}
	}
}

// checkRaceOutcome checks one execution after the race: interrupted and
// refused, or finished by the update and not interrupted.
func checkRaceOutcome(t *testing.T, s store.Store, id string, interrupted bool, updateErr error) {
	t.Helper()
	got, err := s.ToolExecutionGet(t.Context(), id)
	if err != nil {
		t.Fatalf("ToolExecutionGet(%s): %v", id, err)
	}
	switch {
	case interrupted && gathering.ErrorCode(updateErr) == gathering.ECONFLICT:
		if got.Status != store.ToolFailed || got.Reason != "interrupted" || got.Output != nil {
			t.Errorf("%s: interrupted first, but stored %s", id, showTool(got))
		}
	case !interrupted && updateErr == nil:
		if got.Status != store.ToolSucceeded || got.Reason != "" || string(got.Output) != "true" {
			t.Errorf("%s: updated first, but stored %s", id, showTool(got))
		}
	default:
		t.Errorf("%s: interrupted %t and update error %v: want exactly one winner", id, interrupted, updateErr)
	}
}

func testAgentSkills(t *testing.T, s store.Store) {
	ctx := t.Context()
	want := func(op string, skills ...string) {
		t.Helper()
		got, err := s.AgentSkills(ctx, 1)
		if err != nil || strings.Join(got, ",") != strings.Join(skills, ",") {
			t.Errorf("%s: AgentSkills = %q, %v; want %q", op, got, err, skills)
		}
	}
	want("before any")
	enable := []string{"web", "Zeta", "code", "web", "éclair", "alpha"}
	if err := s.AgentSkillsEnable(ctx, 1, enable, minutes(1)); err != nil {
		t.Fatalf("AgentSkillsEnable: %v", err)
	}
	sorted := []string{"Zeta", "alpha", "code", "web", "éclair"} // byte order
	want("after enabling", sorted...)
	for _, skills := range [][]string{{"code", "web"}, nil, {}} {
		if err := s.AgentSkillsEnable(ctx, 1, skills, minutes(2)); err != nil {
			t.Fatalf("AgentSkillsEnable(%q) again: %v", skills, err)
		}
	}
	want("after enabling again", sorted...)
	if err := s.AgentSkillsDisable(ctx, 1, []string{"code", "never-enabled", "Zeta"}); err != nil {
		t.Fatalf("AgentSkillsDisable: %v", err)
	}
	want("after disabling some", "alpha", "web", "éclair")
	if err := s.AgentSkillsDisable(ctx, 1, []string{}); err != nil {
		t.Fatalf("AgentSkillsDisable of an empty list: %v", err)
	}
	want("after disabling an empty list", "alpha", "web", "éclair")
	if err := s.AgentSkillsDisable(ctx, 1, nil); err != nil {
		t.Fatalf("AgentSkillsDisable(nil): %v", err)
	}
	want("after disabling all")
	if err := s.AgentSkillsDisable(ctx, 1, nil); err != nil {
		t.Errorf("AgentSkillsDisable(nil) with none enabled: %v", err)
	}
}

func testAgentSkillsIsolated(t *testing.T, s store.Store) {
	ctx := t.Context()
	for agent, skills := range map[int64][]string{1: {"web", "code"}, 2: {"code", "mail"}, 3: {"web"}} {
		if err := s.AgentSkillsEnable(ctx, agent, skills, minutes(1)); err != nil {
			t.Fatalf("AgentSkillsEnable(%d): %v", agent, err)
		}
	}
	if err := s.AgentSkillsDisable(ctx, 1, []string{"code"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AgentSkillsDisable(ctx, 3, nil); err != nil {
		t.Fatal(err)
	}
	for agent, want := range map[int64][]string{1: {"web"}, 2: {"code", "mail"}, 3: {}, 4: {}} {
		got, err := s.AgentSkills(ctx, agent)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("AgentSkills(%d) = %q, %v; want %q", agent, got, err, want)
		}
	}
}
