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

// exercisePipelineRuns runs the PipelineRunStore part of the suite, each
// test on a fresh migrated store.
func exercisePipelineRuns(t *testing.T, migrated func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"RunRoundTrip", testRunRoundTrip},
		{"RunCreateRefuses", testRunCreateRefuses},
		{"RunClaim", testRunClaim},
		{"RunClaimConcurrent", testRunClaimConcurrent},
		{"RunHeartbeat", testRunHeartbeat},
		{"RunRelease", testRunRelease},
		{"RunSetStatus", testRunSetStatus},
		{"RunFinish", testRunFinish},
		{"RunFinishFenced", testRunFinishFenced},
		{"RunFinishRace", testRunFinishRace},
		{"RunRetry", testRunRetry},
		{"RunList", testRunList},
		{"NodeRunsCreate", testNodeRunsCreate},
		{"NodeRunUpdate", testNodeRunUpdate},
		{"Approvals", testApprovals},
		{"RunsGoWithTheirPipeline", testRunsGoWithTheirPipeline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { t.Parallel(); tt.test(t, migrated(t)) })
	}
}

// oddTrigger is trigger data no JSON library would write this way (see
// oddNodes).
const oddTrigger = "{ \"b\" : [1e3, -0.0, \"\\u00e9é\"] ,\"a\":null }\t"

// newRun is a pending run of p with id id, created at minute n.
func newRun(id string, p store.Pipeline, n int) store.PipelineRun {
	return store.PipelineRun{
		ID: id, PipelineID: p.ID, PipelineVersion: p.Version, Nodes: p.Nodes, Edges: p.Edges, Settings: p.Settings,
		Status: store.RunPending, TriggerData: json.RawMessage(`{"by":"test"}`), CreatedBy: 3, CreatedAt: minutes(n),
	}
}

// createRuns stores every run or fails the test.
func createRuns(t *testing.T, s store.Store, rs ...store.PipelineRun) {
	t.Helper()
	for _, r := range rs {
		if err := s.RunCreate(t.Context(), r); err != nil {
			t.Fatalf("RunCreate(%s): %v", r.ID, err)
		}
	}
}

// claimRun claims a run for owner at minute now with a lease until minute
// until, or fails the test.
func claimRun(t *testing.T, s store.Store, owner string, now, until int) store.PipelineRun {
	t.Helper()
	r, err := s.RunClaim(t.Context(), owner, minutes(now), minutes(until))
	if err != nil {
		t.Fatalf("RunClaim(%s at minute %d): %v", owner, now, err)
	}
	return r
}

// startRun creates r and claims it for owner at minute now, with a lease
// until minute until, or fails the test. No other run may need an owner.
func startRun(t *testing.T, s store.Store, r store.PipelineRun, owner string, now, until int) store.PipelineRun {
	t.Helper()
	createRuns(t, s, r)
	claimed := claimRun(t, s, owner, now, until)
	if claimed.ID != r.ID {
		t.Fatalf("RunClaim took %s, want %s", claimed.ID, r.ID)
	}
	return claimed
}

// finishRun finishes a run with status at minute at (attempts still
// running cancelled, still pending skipped), under l unless it is nil, and
// returns what RunFinish did, or fails the test.
func finishRun(t *testing.T, s store.Store, id string, l *store.Lease, status store.RunStatus, at int) (store.PipelineRun, bool) {
	t.Helper()
	r, done, err := s.RunFinish(t.Context(), store.RunEnd{RunID: id, Lease: l, Status: status, At: minutes(at),
		Running: store.NodeCancelled, Pending: store.NodeSkipped})
	if err != nil {
		t.Fatalf("RunFinish(%s, %s): %v", id, status, err)
	}
	return r, done
}

// createNodeRuns stores attempts under l, or fails the test.
func createNodeRuns(t *testing.T, s store.Store, l store.Lease, ns ...store.NodeRun) {
	t.Helper()
	if err := s.NodeRunsCreate(t.Context(), l, ns); err != nil {
		t.Fatalf("NodeRunsCreate: %v", err)
	}
}

// wantRun fails the test unless the stored run equals want, every field,
// byte for byte and with UTC times.
func wantRun(t *testing.T, op string, s store.Store, want store.PipelineRun) {
	t.Helper()
	got, err := s.RunGet(t.Context(), want.ID)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: RunGet = %s, %v;\nwant %s", op, showRun(got), err, showRun(want))
	}
}

// showRun prints a run with its JSON as text.
func showRun(r store.PipelineRun) string {
	return fmt.Sprintf("{ID:%s PipelineID:%d Version:%d Status:%s Error:%q/%q CreatedBy:%d Created:%v Started:%v "+
		"Finished:%v Owner:%q Epoch:%d Lease:%v Nodes:%q Edges:%q Settings:%q Trigger:%q}", r.ID, r.PipelineID,
		r.PipelineVersion, r.Status, r.ErrorCode, r.Error, r.CreatedBy, r.CreatedAt, r.StartedAt, r.FinishedAt, r.Owner,
		r.Epoch, r.LeaseUntil, r.Nodes, r.Edges, r.Settings, r.TriggerData)
}

// wantNodeRuns fails the test unless NodeRunList of run id is want.
func wantNodeRuns(t *testing.T, op string, s store.Store, id string, want ...store.NodeRun) {
	t.Helper()
	got, err := s.NodeRunList(t.Context(), id)
	if err != nil || len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
		t.Errorf("%s: NodeRunList = %s, %v;\nwant %s", op, showNodeRuns(got), err, showNodeRuns(want))
	}
}

// showNodeRuns prints attempts with their JSON as text.
func showNodeRuns(ns []store.NodeRun) string {
	var b strings.Builder
	for _, n := range ns {
		fmt.Fprintf(&b, "\n  %s %s#%d %s input %q (nil %t) output %q (nil %t) error %q/%q started %v finished %v usage %d/%d/%g",
			n.RunID, n.NodeID, n.Attempt, n.Status, n.Input, n.Input == nil, n.Output, n.Output == nil, n.ErrorCode,
			n.Error, n.StartedAt, n.FinishedAt, n.InputTokens, n.OutputTokens, n.Cost)
	}
	return b.String()
}

// attempt is attempt number of node of run id, of status, with no input,
// output, times or usage.
func attempt(id, node string, number int, status store.NodeStatus) store.NodeRun {
	return store.NodeRun{RunID: id, NodeID: node, Attempt: number, Status: status}
}

func testRunRoundTrip(t *testing.T, s store.Store) {
	p := newPipeline(t, s, "build", store.PipelineActive, 0)
	full := store.PipelineRun{
		ID: "run-full", PipelineID: p.ID, PipelineVersion: 7, Nodes: json.RawMessage(oddNodes),
		Edges: json.RawMessage(oddEdges), Settings: json.RawMessage(oddSettings), TriggerData: json.RawMessage(oddTrigger),
		CreatedBy: 9, CreatedAt: minutes(1).Add(123 * time.Millisecond),
		// RunCreate ignores these: a new run is pending, unowned, unstarted.
		Status: store.RunCompleted, ErrorCode: gathering.EINTERNAL, Error: "no", StartedAt: minutes(2),
		FinishedAt: minutes(3), Owner: "instance-a", Epoch: 5, LeaseUntil: minutes(4),
	}
	createRuns(t, s, full)
	want := full
	want.Status, want.ErrorCode, want.Error, want.Owner, want.Epoch = store.RunPending, "", "", "", 0
	want.StartedAt, want.FinishedAt, want.LeaseUntil = time.Time{}, time.Time{}, time.Time{}
	wantRun(t, "every field set", s, want)
	got, err := s.RunGet(t.Context(), full.ID)
	if err != nil || string(got.Nodes) != oddNodes || string(got.Edges) != oddEdges ||
		string(got.Settings) != oddSettings || string(got.TriggerData) != oddTrigger || got.CreatedAt.Location() != time.UTC {
		t.Errorf("run did not read back byte for byte, in UTC: %s, %v", showRun(got), err)
	}
	bare := store.PipelineRun{ID: "run-bare", PipelineID: p.ID, Nodes: json.RawMessage(`[]`), Edges: json.RawMessage(`[]`),
		Settings: json.RawMessage(`{}`), CreatedAt: minutes(5)}
	createRuns(t, s, bare)
	bare.Status, bare.TriggerData = store.RunPending, json.RawMessage(`null`) // no trigger data is JSON null
	wantRun(t, "zero values", s, bare)
	_, err = s.RunGet(t.Context(), "run-missing")
	wantCode(t, "RunGet of a missing run", err, gathering.ENOTFOUND)
}

func testRunCreateRefuses(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := newPipeline(t, s, "build", store.PipelineActive, 0)
	first := newRun("run-1", p, 1)
	createRuns(t, s, first)
	again := newRun("run-1", p, 2)
	again.TriggerData = json.RawMessage(`[]`)
	wantCode(t, "RunCreate of an existing id", s.RunCreate(ctx, again), gathering.ECONFLICT)
	wantRun(t, "after a refused duplicate", s, first)
	orphan := newRun("run-2", p, 2)
	orphan.PipelineID = p.ID + 100
	wantCode(t, "RunCreate of a missing pipeline", s.RunCreate(ctx, orphan), gathering.ENOTFOUND)
	for name, change := range map[string]func(r *store.PipelineRun){
		"malformed nodes":        func(r *store.PipelineRun) { r.Nodes = json.RawMessage(`[{"id":"a"},]`) },
		"nil edges":              func(r *store.PipelineRun) { r.Edges = nil },
		"empty settings":         func(r *store.PipelineRun) { r.Settings = json.RawMessage(``) },
		"two values":             func(r *store.PipelineRun) { r.Edges = json.RawMessage(`[] []`) },
		"malformed trigger":      func(r *store.PipelineRun) { r.TriggerData = json.RawMessage(`{'a': 1}`) },
		"invalid UTF-8":          func(r *store.PipelineRun) { r.TriggerData = json.RawMessage("{\"a\":\"\xff\"}") },
		"invalid UTF-8 in nodes": func(r *store.PipelineRun) { r.Nodes = json.RawMessage("[\"\xc3\"]") },
	} {
		r := newRun("run-3", p, 3)
		change(&r)
		wantCode(t, "RunCreate with "+name, s.RunCreate(ctx, r), gathering.EINVALID)
	}
	if _, total, err := s.RunList(ctx, store.RunFilter{}, store.Page{}); err != nil || total != 1 {
		t.Errorf("after refused creations: total %d, %v; want 1", total, err)
	}
}

func testRunClaim(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := newPipeline(t, s, "build", store.PipelineActive, 0)
	_, err := s.RunClaim(ctx, "instance-a", minutes(0), minutes(10))
	wantCode(t, "RunClaim with no run", err, gathering.ENOTFOUND)
	// run-a and run-b were created in the same millisecond: the id decides.
	createRuns(t, s, newRun("run-c", p, 2), newRun("run-b", p, 1), newRun("run-a", p, 1))
	_, err = s.RunClaim(ctx, "", minutes(3), minutes(13))
	wantCode(t, "RunClaim without an owner", err, gathering.EINVALID)
	var claimed []store.PipelineRun
	for _, id := range []string{"run-a", "run-b", "run-c"} {
		got := claimRun(t, s, "instance-a", 3, 13)
		want := newRun(id, p, 1)
		if id == "run-c" {
			want.CreatedAt = minutes(2)
		}
		want.Status, want.StartedAt, want.Owner, want.Epoch, want.LeaseUntil = store.RunRunning, minutes(3), "instance-a", 1, minutes(13)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("claim %d: RunClaim = %s;\nwant %s", len(claimed), showRun(got), showRun(want))
		}
		wantRun(t, "after RunClaim", s, want)
		claimed = append(claimed, got)
	}
	if err := s.RunSetStatus(ctx, store.LeaseOf(claimed[1]), store.RunWaitingApproval); err != nil {
		t.Fatalf("RunSetStatus: %v", err)
	}
	finishRun(t, s, "run-c", nil, store.RunCancelled, 5)
	// Live leases are not taken; a lease that ends at now has not ended before now.
	for _, now := range []int{12, 13} {
		_, err = s.RunClaim(ctx, "instance-b", minutes(now), minutes(now+10))
		wantCode(t, fmt.Sprintf("RunClaim at minute %d of runs leased until 13", now), err, gathering.ENOTFOUND)
	}
	// Expired leases are taken over, oldest run first, with the next epoch;
	// each run keeps its status and first start. A finished run is never taken.
	for i, status := range []store.RunStatus{store.RunRunning, store.RunWaitingApproval} {
		got := claimRun(t, s, "instance-b", 14, 24)
		want := claimed[i]
		want.Status, want.Owner, want.Epoch, want.LeaseUntil = status, "instance-b", 2, minutes(24)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("reclaim %d: RunClaim = %s;\nwant %s", i, showRun(got), showRun(want))
		}
	}
	_, err = s.RunClaim(ctx, "instance-b", minutes(20), minutes(30))
	wantCode(t, "RunClaim with only a finished run and live leases", err, gathering.ENOTFOUND)
}

// testRunClaimConcurrent checks that concurrent claims never take the same
// run and, together, take them all.
func testRunClaimConcurrent(t *testing.T, s store.Store) {
	p := newPipeline(t, s, "build", store.PipelineActive, 0)
	const runs, claimers = 20, 8
	var want []string
	for i := range runs {
		r := newRun(fmt.Sprintf("run-%02d", i), p, i)
		createRuns(t, s, r)
		want = append(want, r.ID)
	}
	claimEachOnce(t, claimers, want,
		func(owner string) (string, error) {
			r, err := s.RunClaim(t.Context(), owner, minutes(30), minutes(40))
			return r.ID, err
		},
		func(id string) (string, int64, string, error) {
			r, err := s.RunGet(t.Context(), id)
			return r.Owner, r.Epoch, showRun(r), err
		})
}

// claimEachOnce has claimers goroutines, owners "instance-<n>", claim
// with claim until nothing is left, and checks that together they took
// each of want once, each stored as held by its claimer at epoch 1
// (stored reads a claimed run back: owner, epoch, and how to show it).
func claimEachOnce(t *testing.T, claimers int, want []string, claim func(owner string) (string, error),
	stored func(id string) (owner string, epoch int64, show string, err error)) {
	t.Helper()
	claimed := make([][]string, claimers)
	errs := make([]error, claimers)
	var wg sync.WaitGroup
	for c := range claimers {
		wg.Go(func() {
			for {
				id, err := claim(fmt.Sprint("instance-", c))
				if err != nil {
					if gathering.ErrorCode(err) != gathering.ENOTFOUND {
						errs[c] = err
					}
					return
				}
				claimed[c] = append(claimed[c], id)
			}
		})
	}
	wg.Wait()
	var all []string
	for c, ids := range claimed {
		if errs[c] != nil {
			t.Errorf("claimer %d: %v", c, errs[c])
		}
		for _, id := range ids {
			if owner, epoch, show, err := stored(id); err != nil || owner != fmt.Sprint("instance-", c) || epoch != 1 {
				t.Errorf("claimer %d took %s, but stored %s, %v", c, id, show, err)
			}
		}
		all = append(all, ids...)
	}
	slices.Sort(all)
	if !slices.Equal(all, want) {
		t.Errorf("claimed %v; want each of %v once", all, want)
	}
}

func testRunHeartbeat(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := newPipeline(t, s, "build", store.PipelineActive, 0)
	lost := startRun(t, s, newRun("run-lost", p, 1), "instance-a", 1, 5)
	kept := startRun(t, s, newRun("run-kept", p, 2), "instance-a", 2, 20)
	cancelled := startRun(t, s, newRun("run-cancelled", p, 3), "instance-a", 3, 20)
	cancelledNow, _ := finishRun(t, s, cancelled.ID, nil, store.RunCancelled, 4)
	taken := claimRun(t, s, "instance-b", 6, 30) // run-lost's lease ended at minute 5
	leases := []store.Lease{store.LeaseOf(lost), store.LeaseOf(kept), store.LeaseOf(cancelled), store.LeaseOf(kept),
		{RunID: "run-missing", Owner: "instance-a", Epoch: 1}}
	failed, err := s.RunHeartbeat(ctx, leases, minutes(40))
	if want := []string{"run-cancelled", "run-lost", "run-missing"}; err != nil || !slices.Equal(failed, want) {
		t.Errorf("RunHeartbeat = %v, %v; want %v", failed, err, want)
	}
	kept.LeaseUntil = minutes(40)
	wantRun(t, "the lease that holds", s, kept)
	wantRun(t, "the lease taken over", s, taken)
	wantRun(t, "the finished run", s, cancelledNow)
	if failed, err := s.RunHeartbeat(ctx, nil, minutes(50)); err != nil || len(failed) != 0 {
		t.Errorf("RunHeartbeat of no lease = %v, %v", failed, err)
	}
	if failed, err := s.RunHeartbeat(ctx, []store.Lease{store.LeaseOf(kept)}, minutes(50)); err != nil || len(failed) != 0 {
		t.Errorf("RunHeartbeat of a lease that holds = %v, %v; want none failed", failed, err)
	}
}

func testRunRelease(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := newPipeline(t, s, "build", store.PipelineActive, 0)
	r := startRun(t, s, newRun("run-1", p, 1), "instance-a", 1, 10)
	stale := store.LeaseOf(r)
	stale.Epoch++
	if err := s.RunRelease(ctx, stale, minutes(2)); err != nil {
		t.Errorf("RunRelease of a lease that does not hold: %v", err)
	}
	wantRun(t, "after releasing a lease that does not hold", s, r)
	if err := s.RunRelease(ctx, store.LeaseOf(r), minutes(3)); err != nil {
		t.Fatalf("RunRelease: %v", err)
	}
	released := r
	released.Owner, released.LeaseUntil = "", minutes(3)
	wantRun(t, "after RunRelease", s, released)
	if err := s.RunRelease(ctx, store.LeaseOf(r), minutes(4)); err != nil {
		t.Errorf("second RunRelease: %v", err)
	}
	wantRun(t, "after a second RunRelease", s, released)
	_, err := s.RunClaim(ctx, "instance-b", minutes(3), minutes(13))
	wantCode(t, "RunClaim at the time of the release", err, gathering.ENOTFOUND)
	got, err := s.RunClaim(ctx, "instance-b", minutes(3).Add(time.Millisecond), minutes(13))
	want := r
	want.Owner, want.Epoch, want.LeaseUntil = "instance-b", 2, minutes(13)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("RunClaim after the release = %s, %v;\nwant %s", showRun(got), err, showRun(want))
	}
	wantCode(t, "RunSetStatus with the released lease",
		s.RunSetStatus(ctx, store.LeaseOf(r), store.RunWaitingApproval), gathering.ECONFLICT)
}

func testRunSetStatus(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := newPipeline(t, s, "build", store.PipelineActive, 0)
	r := startRun(t, s, newRun("run-1", p, 1), "instance-a", 1, 10)
	l := store.LeaseOf(r)
	for _, status := range []store.RunStatus{store.RunWaitingApproval, store.RunWaitingApproval, store.RunRunning} {
		if err := s.RunSetStatus(ctx, l, status); err != nil {
			t.Fatalf("RunSetStatus(%s): %v", status, err)
		}
		r.Status = status
		wantRun(t, "after RunSetStatus to "+string(status), s, r)
	}
	for _, status := range []store.RunStatus{store.RunPending, store.RunCompleted, store.RunFailed, "", "paused"} {
		wantCode(t, fmt.Sprintf("RunSetStatus(%q)", status), s.RunSetStatus(ctx, l, status), gathering.EINVALID)
	}
	for name, stale := range map[string]store.Lease{
		"another owner": {RunID: l.RunID, Owner: "instance-b", Epoch: l.Epoch},
		"another epoch": {RunID: l.RunID, Owner: l.Owner, Epoch: l.Epoch + 1},
		"a missing run": {RunID: "run-missing", Owner: l.Owner, Epoch: l.Epoch},
	} {
		wantCode(t, "RunSetStatus with "+name, s.RunSetStatus(ctx, stale, store.RunWaitingApproval), gathering.ECONFLICT)
	}
	wantRun(t, "after refused status changes", s, r)
	done, _ := finishRun(t, s, r.ID, &l, store.RunCompleted, 2)
	wantCode(t, "RunSetStatus of a finished run", s.RunSetStatus(ctx, l, store.RunRunning), gathering.ECONFLICT)
	wantRun(t, "after RunSetStatus of a finished run", s, done)
}

func testRunFinish(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := newPipeline(t, s, "build", store.PipelineActive, 0)
	r := startRun(t, s, newRun("run-1", p, 1), "instance-a", 1, 10)
	l := store.LeaseOf(r)
	completed, running := attempt(r.ID, "a", 1, store.NodeCompleted), attempt(r.ID, "b", 1, store.NodeRunning)
	completed.FinishedAt, running.StartedAt = minutes(2), minutes(2)
	failed, retried := attempt(r.ID, "c", 1, store.NodeFailed), attempt(r.ID, "c", 2, store.NodeRunning)
	pending := attempt(r.ID, "d", 1, store.NodePending)
	createNodeRuns(t, s, l, completed, running, failed, retried, pending)
	for name, e := range map[string]store.RunEnd{
		"a status that is not final":  {RunID: r.ID, Status: store.RunWaitingApproval, Running: store.NodeCancelled, Pending: store.NodeSkipped},
		"running attempts left as is": {RunID: r.ID, Status: store.RunCancelled, Running: store.NodeRunning, Pending: store.NodeSkipped},
		"no status for pending ones":  {RunID: r.ID, Status: store.RunCancelled, Running: store.NodeCancelled},
		"an unknown attempt status":   {RunID: r.ID, Status: store.RunCancelled, Running: "stopped", Pending: store.NodeSkipped},
	} {
		e.Lease, e.At = &l, minutes(3)
		_, _, err := s.RunFinish(ctx, e)
		wantCode(t, "RunFinish with "+name, err, gathering.EINVALID)
	}
	got, done, err := s.RunFinish(ctx, store.RunEnd{RunID: r.ID, Lease: &l, Status: store.RunCancelled,
		ErrorCode: gathering.ECONFLICT, Error: "Cancelled by Ada.", At: minutes(4), Running: store.NodeCancelled,
		Pending: store.NodeSkipped})
	want := r
	want.Status, want.ErrorCode, want.Error, want.FinishedAt = store.RunCancelled, gathering.ECONFLICT, "Cancelled by Ada.", minutes(4)
	want.LeaseUntil = minutes(4) // the lease ends; owner and epoch stay on record
	if err != nil || !done || !reflect.DeepEqual(got, want) {
		t.Errorf("RunFinish = %s, %t, %v;\nwant %s, true", showRun(got), done, err, showRun(want))
	}
	wantRun(t, "after RunFinish", s, want)
	running.Status, running.FinishedAt = store.NodeCancelled, minutes(4)
	retried.Status, retried.FinishedAt = store.NodeCancelled, minutes(4)
	pending.Status, pending.FinishedAt = store.NodeSkipped, minutes(4)
	wantNodeRuns(t, "after RunFinish", s, r.ID, completed, running, failed, retried, pending)
	again, done, err := s.RunFinish(ctx, store.RunEnd{RunID: r.ID, Status: store.RunFailed, Error: "late",
		At: minutes(5), Running: store.NodeFailed, Pending: store.NodeFailed})
	if err != nil || done || !reflect.DeepEqual(again, want) {
		t.Errorf("second RunFinish = %s, %t, %v;\nwant %s, false", showRun(again), done, err, showRun(want))
	}
	wantRun(t, "after a second RunFinish", s, want)
	// The old lease no longer writes anything.
	late := running
	late.Status, late.Output, late.FinishedAt = store.NodeCompleted, json.RawMessage(`{"done":true}`), minutes(6)
	wantCode(t, "NodeRunUpdate after RunFinish", s.NodeRunUpdate(ctx, l, late), gathering.ECONFLICT)
	wantCode(t, "NodeRunsCreate after RunFinish",
		s.NodeRunsCreate(ctx, l, []store.NodeRun{attempt(r.ID, "e", 1, store.NodePending)}), gathering.ECONFLICT)
	wantNodeRuns(t, "after refused writes", s, r.ID, completed, running, failed, retried, pending)
	_, _, err = s.RunFinish(ctx, store.RunEnd{RunID: "run-missing", Status: store.RunCancelled, At: minutes(5),
		Running: store.NodeCancelled, Pending: store.NodeSkipped})
	wantCode(t, "RunFinish of a missing run", err, gathering.ENOTFOUND)
}

// testRunFinishFenced checks that RunFinish with a lease applies only while
// the lease holds, and without one finishes any unfinished run.
func testRunFinishFenced(t *testing.T, s store.Store) {
	p := newPipeline(t, s, "build", store.PipelineActive, 0)
	first := startRun(t, s, newRun("run-1", p, 1), "instance-a", 1, 5)
	second := claimRun(t, s, "instance-b", 6, 16) // the lease of instance-a ended at minute 5
	stale := store.LeaseOf(first)
	if got, done := finishRun(t, s, first.ID, &stale, store.RunCompleted, 7); done || !reflect.DeepEqual(got, second) {
		t.Errorf("RunFinish under a lease taken over = %s, %t;\nwant %s, false", showRun(got), done, showRun(second))
	}
	wantRun(t, "after RunFinish under a lease taken over", s, second)
	cancelled, done := finishRun(t, s, first.ID, nil, store.RunCancelled, 8)
	if !done || cancelled.Status != store.RunCancelled || cancelled.Owner != "instance-b" || !cancelled.LeaseUntil.Equal(minutes(8)) {
		t.Errorf("RunFinish without a lease = %s, %t; want cancelled, lease ended at minute 8", showRun(cancelled), done)
	}
	pending := newRun("run-2", p, 9)
	createRuns(t, s, pending)
	unowned := store.Lease{RunID: pending.ID}
	if _, done := finishRun(t, s, pending.ID, &unowned, store.RunCompleted, 10); done {
		t.Error("RunFinish of a pending run under an empty lease finished it")
	}
	got, done := finishRun(t, s, pending.ID, nil, store.RunCancelled, 10)
	pending.Status, pending.FinishedAt = store.RunCancelled, minutes(10) // never started, never leased
	if !done || !reflect.DeepEqual(got, pending) {
		t.Errorf("RunFinish of a pending run = %s, %t;\nwant %s, true", showRun(got), done, showRun(pending))
	}
}

// testRunFinishRace cancels a run while its instance completes an attempt
// and adds another, many times over: whichever comes first, a finished run
// never keeps an attempt pending or running, and every write that reported
// success is what the run keeps.
func testRunFinishRace(t *testing.T, s store.Store) {
	p := newPipeline(t, s, "build", store.PipelineActive, 0)
	const rounds = 50
	for i := range rounds {
		id := fmt.Sprintf("run-%02d", i)
		r := startRun(t, s, newRun(id, p, i), "instance-a", i, i+10) // the runs before are all cancelled
		l := store.LeaseOf(r)
		running := attempt(id, "a", 1, store.NodeRunning)
		running.StartedAt = minutes(i)
		createNodeRuns(t, s, l, running)
		completed := running
		completed.Status, completed.Output, completed.FinishedAt = store.NodeCompleted, json.RawMessage(`{"ok":true}`), minutes(i+1)
		var updateErr, createErr, finishErr error
		var finished bool
		var wg sync.WaitGroup
		wg.Go(func() { updateErr = s.NodeRunUpdate(t.Context(), l, completed) })
		wg.Go(func() {
			createErr = s.NodeRunsCreate(t.Context(), l, []store.NodeRun{attempt(id, "b", 1, store.NodePending)})
		})
		wg.Go(func() {
			_, finished, finishErr = s.RunFinish(t.Context(), store.RunEnd{RunID: id, Status: store.RunCancelled,
				At: minutes(i + 1), Running: store.NodeCancelled, Pending: store.NodeSkipped})
		})
		wg.Wait()
		if finishErr != nil || !finished {
			t.Fatalf("round %d: RunFinish = %t, %v; want it to finish the run", i, finished, finishErr)
		}
		checkFinishRace(t, s, id, updateErr, createErr)
	}
}

// checkFinishRace checks one round of testRunFinishRace: attempt a is
// completed when its update succeeded and cancelled when it was refused;
// attempt b exists, skipped, when its creation succeeded and not at all
// when it was refused.
func checkFinishRace(t *testing.T, s store.Store, id string, updateErr, createErr error) {
	t.Helper()
	nodes, err := s.NodeRunList(t.Context(), id)
	if err != nil {
		t.Fatalf("NodeRunList(%s): %v", id, err)
	}
	status := map[string]store.NodeStatus{}
	for _, n := range nodes {
		status[n.NodeID] = n.Status
	}
	wantA := map[string]store.NodeStatus{"": store.NodeCompleted, gathering.ECONFLICT: store.NodeCancelled}
	if want, ok := wantA[gathering.ErrorCode(updateErr)]; !ok || status["a"] != want {
		t.Errorf("%s: update of a returned %v, and a is %q%s", id, updateErr, status["a"], showNodeRuns(nodes))
	}
	wantB := map[string]store.NodeStatus{"": store.NodeSkipped, gathering.ECONFLICT: ""}
	if want, ok := wantB[gathering.ErrorCode(createErr)]; !ok || status["b"] != want {
		t.Errorf("%s: creation of b returned %v, and b is %q%s", id, createErr, status["b"], showNodeRuns(nodes))
	}
}

func testRunRetry(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := newPipeline(t, s, "build", store.PipelineActive, 0)
	r := startRun(t, s, newRun("run-1", p, 1), "instance-a", 1, 10)
	l := store.LeaseOf(r)
	nodes := []store.NodeRun{
		attempt(r.ID, "a", 1, store.NodeCompleted), attempt(r.ID, "b", 1, store.NodeFailed),
		attempt(r.ID, "c", 1, store.NodeFailed), attempt(r.ID, "c", 2, store.NodeCancelled),
		attempt(r.ID, "d", 1, store.NodeTimedOut), attempt(r.ID, "e", 1, store.NodeSkipped),
		attempt(r.ID, "f", 1, store.NodeRunning), attempt(r.ID, "g", 1, store.NodePending),
	}
	nodes[0].Input, nodes[0].Output = json.RawMessage(`{"x":1}`), json.RawMessage(`2`)
	nodes[1].Input, nodes[1].ErrorCode, nodes[1].Error = json.RawMessage(`{"x":2}`), gathering.EUNAVAILABLE, "down"
	createNodeRuns(t, s, l, nodes...)
	_, err := s.RunRetry(ctx, r.ID)
	wantCode(t, "RunRetry of a running run", err, gathering.ECONFLICT)
	failed, _ := finishRun(t, s, r.ID, &l, store.RunFailed, 3) // f is cancelled, g skipped
	before, err := s.NodeRunList(ctx, r.ID)
	if err != nil {
		t.Fatalf("NodeRunList: %v", err)
	}
	got, err := s.RunRetry(ctx, r.ID)
	want := failed
	want.Status, want.ErrorCode, want.Error, want.Owner = store.RunPending, "", "", ""
	want.StartedAt, want.FinishedAt, want.LeaseUntil = time.Time{}, time.Time{}, time.Time{}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("RunRetry = %s, %v;\nwant %s", showRun(got), err, showRun(want))
	}
	wantRun(t, "after RunRetry", s, want)
	next := slices.Concat(before, []store.NodeRun{attempt(r.ID, "b", 2, store.NodePending), attempt(r.ID, "c", 3, store.NodePending),
		attempt(r.ID, "d", 2, store.NodePending), attempt(r.ID, "f", 2, store.NodePending)})
	slices.SortStableFunc(next, func(a, b store.NodeRun) int { return strings.Compare(a.NodeID, b.NodeID) })
	wantNodeRuns(t, "after RunRetry", s, r.ID, next...)
	_, err = s.RunRetry(ctx, r.ID)
	wantCode(t, "RunRetry of a pending run", err, gathering.ECONFLICT)
	_, err = s.RunRetry(ctx, "run-missing")
	wantCode(t, "RunRetry of a missing run", err, gathering.ENOTFOUND)
	again := claimRun(t, s, "instance-b", 4, 14)
	want.Status, want.Owner, want.Epoch, want.LeaseUntil = store.RunRunning, "instance-b", 2, minutes(14)
	want.StartedAt = minutes(4) // started again: its timeout counts from here
	if !reflect.DeepEqual(again, want) {
		t.Errorf("RunClaim after RunRetry = %s;\nwant %s", showRun(again), showRun(want))
	}
	l = store.LeaseOf(again)
	finishRun(t, s, r.ID, &l, store.RunCompleted, 5)
	_, err = s.RunRetry(ctx, r.ID)
	wantCode(t, "RunRetry of a completed run", err, gathering.ECONFLICT)
}

func testRunList(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1 := newPipeline(t, s, "build", store.PipelineActive, 0)
	p2 := newPipeline(t, s, "deploy", store.PipelineActive, 0)
	// run-c and run-d were created in the same millisecond: newest first
	// means the greater id first.
	createRuns(t, s, newRun("run-a", p1, 1), newRun("run-b", p2, 2), newRun("run-d", p1, 3), newRun("run-c", p1, 3),
		newRun("run-e", p2, 4))
	a := claimRun(t, s, "instance-a", 5, 50)
	finishRun(t, s, "run-b", nil, store.RunCancelled, 6)
	c := claimRun(t, s, "instance-a", 6, 50)
	if a.ID != "run-a" || c.ID != "run-c" {
		t.Fatalf("claimed %s then %s; want run-a then run-c", a.ID, c.ID)
	}
	lc := store.LeaseOf(c)
	finishRun(t, s, c.ID, &lc, store.RunFailed, 7)
	if err := s.RunSetStatus(ctx, store.LeaseOf(a), store.RunWaitingApproval); err != nil {
		t.Fatalf("RunSetStatus: %v", err)
	}
	// Now: a waiting_approval, b cancelled, c failed, d and e pending.
	all := []string{"run-e", "run-d", "run-c", "run-b", "run-a"}
	for _, c := range []struct {
		filter store.RunFilter
		page   store.Page
		want   []string
		total  int
	}{
		{store.RunFilter{}, store.Page{}, all, 5},
		{store.RunFilter{}, store.Page{Limit: 2, Offset: 1}, all[1:3], 5},
		{store.RunFilter{}, store.Page{Offset: 9}, nil, 5},
		{store.RunFilter{}, store.Page{Offset: -1, Limit: 1000}, all, 5},
		{store.RunFilter{PipelineID: p1.ID}, store.Page{}, []string{"run-d", "run-c", "run-a"}, 3},
		{store.RunFilter{PipelineID: p2.ID}, store.Page{Limit: 1}, []string{"run-e"}, 2},
		{store.RunFilter{Status: store.RunPending}, store.Page{}, []string{"run-e", "run-d"}, 2},
		{store.RunFilter{PipelineID: p1.ID, Status: store.RunPending}, store.Page{}, []string{"run-d"}, 1},
		{store.RunFilter{PipelineID: p2.ID, Status: store.RunWaitingApproval}, store.Page{}, nil, 0},
		{store.RunFilter{PipelineID: p2.ID + 100}, store.Page{}, nil, 0},
	} {
		list, total, err := s.RunList(ctx, c.filter, c.page)
		var got []string
		for _, r := range list {
			got = append(got, r.ID)
		}
		if err != nil || total != c.total || !slices.Equal(got, c.want) {
			t.Errorf("RunList(%+v, %+v) = %v, total %d, %v; want %v, total %d", c.filter, c.page, got, total, err, c.want, c.total)
		}
	}
	if list, _, err := s.RunList(ctx, store.RunFilter{Status: store.RunWaitingApproval}, store.Page{}); err != nil ||
		len(list) != 1 || !reflect.DeepEqual(list[0], getRun(t, s, "run-a")) {
		t.Errorf("RunList item = %v, %v; want RunGet's run-a", list, err)
	}
	_, _, err := s.RunList(ctx, store.RunFilter{Status: "paused"}, store.Page{})
	wantCode(t, "RunList of an unknown status", err, gathering.EINVALID)
	for id, want := range map[int64]int{p1.ID: 2, p2.ID: 1, p2.ID + 100: 0} {
		if n, err := s.RunCountUnfinished(ctx, id); err != nil || n != want {
			t.Errorf("RunCountUnfinished(%d) = %d, %v; want %d", id, n, err, want)
		}
	}
}

// getRun returns a stored run, or fails the test.
func getRun(t *testing.T, s store.Store, id string) store.PipelineRun {
	t.Helper()
	r, err := s.RunGet(t.Context(), id)
	if err != nil {
		t.Fatalf("RunGet(%s): %v", id, err)
	}
	return r
}

func testNodeRunsCreate(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := newPipeline(t, s, "build", store.PipelineActive, 0)
	r := startRun(t, s, newRun("run-1", p, 1), "instance-a", 1, 10)
	l := store.LeaseOf(r)
	full := store.NodeRun{
		RunID: r.ID, NodeID: "b", Attempt: 1, Status: store.NodeCompleted, Input: json.RawMessage(oddSettings),
		Output: json.RawMessage(oddNodes), StartedAt: minutes(1).Add(5 * time.Millisecond), FinishedAt: minutes(2),
		InputTokens: 1200, OutputTokens: 345, Cost: 0.0125,
	}
	failed := attempt(r.ID, "a", 1, store.NodeFailed)
	failed.Input, failed.ErrorCode, failed.Error = json.RawMessage(`null`), gathering.ETIMEOUT, "The agent did not answer."
	// Byte order: upper case first, "-" before digits.
	created := []store.NodeRun{full, attempt(r.ID, "a", 2, store.NodeRunning), failed, attempt(r.ID, "B", 1, store.NodePending),
		attempt(r.ID, "a1", 1, store.NodeSkipped), attempt(r.ID, "a-2", 1, store.NodePending)}
	createNodeRuns(t, s, l, created...)
	want := []store.NodeRun{created[3], created[2], created[1], created[5], created[4], created[0]}
	wantNodeRuns(t, "after NodeRunsCreate", s, r.ID, want...)
	wantCode(t, "NodeRunsCreate of an existing attempt",
		s.NodeRunsCreate(ctx, l, []store.NodeRun{attempt(r.ID, "c", 1, store.NodePending), attempt(r.ID, "a", 2, store.NodePending)}),
		gathering.ECONFLICT)
	for name, change := range map[string]func(n *store.NodeRun){
		"malformed input":  func(n *store.NodeRun) { n.Input = json.RawMessage(`{`) },
		"malformed output": func(n *store.NodeRun) { n.Output = json.RawMessage(`nope`) },
		"invalid UTF-8":    func(n *store.NodeRun) { n.Output = json.RawMessage("\"\xff\"") },
		"unknown status":   func(n *store.NodeRun) { n.Status = "done" },
		"attempt 0":        func(n *store.NodeRun) { n.Attempt = 0 },
		"another run":      func(n *store.NodeRun) { n.RunID = "run-2" },
	} {
		n := attempt(r.ID, "c", 1, store.NodePending)
		change(&n)
		wantCode(t, "NodeRunsCreate with "+name, s.NodeRunsCreate(ctx, l, []store.NodeRun{n}), gathering.EINVALID)
	}
	stale := l
	stale.Epoch++
	wantCode(t, "NodeRunsCreate under a stale lease",
		s.NodeRunsCreate(ctx, stale, []store.NodeRun{attempt(r.ID, "c", 1, store.NodePending)}), gathering.ECONFLICT)
	if err := s.NodeRunsCreate(ctx, l, nil); err != nil {
		t.Errorf("NodeRunsCreate of nothing: %v", err)
	}
	wantNodeRuns(t, "after refused creations", s, r.ID, want...)
	wantNodeRuns(t, "of a missing run", s, "run-missing")
}

func testNodeRunUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := newPipeline(t, s, "build", store.PipelineActive, 0)
	r := startRun(t, s, newRun("run-1", p, 1), "instance-a", 1, 10)
	l := store.LeaseOf(r)
	n, other := attempt(r.ID, "a", 1, store.NodePending), attempt(r.ID, "b", 1, store.NodePending)
	createNodeRuns(t, s, l, n, other)
	steps := []func(n *store.NodeRun){
		func(n *store.NodeRun) {
			n.Status, n.Input, n.StartedAt = store.NodeRunning, json.RawMessage(oddEdges), minutes(2)
		},
		func(n *store.NodeRun) { n.InputTokens, n.OutputTokens, n.Cost = 10, 2, 0.5 },
		func(n *store.NodeRun) {
			n.Status, n.Output, n.FinishedAt = store.NodeCompleted, json.RawMessage(oddSettings), minutes(3).Add(9*time.Millisecond)
			n.InputTokens, n.OutputTokens, n.Cost = 1500, 250, 0.0375
		},
	}
	for i, step := range steps {
		step(&n)
		if err := s.NodeRunUpdate(ctx, l, n); err != nil {
			t.Fatalf("step %d: NodeRunUpdate to %s: %v", i, n.Status, err)
		}
		wantNodeRuns(t, fmt.Sprintf("step %d", i), s, r.ID, n, other)
	}
	late := n
	late.Status, late.Error = store.NodeFailed, "late"
	wantCode(t, "NodeRunUpdate of a completed attempt", s.NodeRunUpdate(ctx, l, late), gathering.ECONFLICT)
	stale := l
	stale.Owner = "instance-b"
	started := other
	started.Status, started.StartedAt = store.NodeRunning, minutes(4)
	wantCode(t, "NodeRunUpdate under a stale lease", s.NodeRunUpdate(ctx, stale, started), gathering.ECONFLICT)
	for _, missing := range []store.NodeRun{attempt(r.ID, "a", 2, store.NodeRunning), attempt(r.ID, "z", 1, store.NodeRunning)} {
		wantCode(t, "NodeRunUpdate of a missing attempt", s.NodeRunUpdate(ctx, l, missing), gathering.ENOTFOUND)
		wantCode(t, "NodeRunUpdate of a missing attempt under a stale lease", s.NodeRunUpdate(ctx, stale, missing), gathering.ENOTFOUND)
	}
	started.Output = json.RawMessage(`{"a":}`)
	wantCode(t, "NodeRunUpdate with invalid output", s.NodeRunUpdate(ctx, l, started), gathering.EINVALID)
	wantNodeRuns(t, "after refused updates", s, r.ID, n, other)
}

func testApprovals(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := newPipeline(t, s, "build", store.PipelineActive, 0)
	r := startRun(t, s, newRun("run-1", p, 1), "instance-a", 1, 100)
	l := store.LeaseOf(r)
	ensure := func(a store.Approval) store.Approval {
		t.Helper()
		got, err := s.ApprovalEnsure(ctx, l, a)
		if err != nil {
			t.Fatalf("ApprovalEnsure(%s): %v", a.NodeID, err)
		}
		return got
	}
	review := store.Approval{RunID: r.ID, NodeID: "review", Message: "Ship it?", RequestedAt: minutes(2), ExpiresAt: minutes(30)}
	if got := ensure(review); !reflect.DeepEqual(got, review) {
		t.Errorf("ApprovalEnsure = %+v; want %+v", got, review)
	}
	repeat := review
	repeat.Message, repeat.RequestedAt, repeat.ExpiresAt, repeat.Decided, repeat.Approved = "Again?", minutes(3), time.Time{}, true, true
	if got := ensure(repeat); !reflect.DeepEqual(got, review) {
		t.Errorf("second ApprovalEnsure = %+v; want the first one, %+v", got, review)
	}
	legal := ensure(store.Approval{RunID: r.ID, NodeID: "Legal", RequestedAt: minutes(4)}) // never expires
	stale := l
	stale.Epoch++
	_, err := s.ApprovalEnsure(ctx, stale, store.Approval{RunID: r.ID, NodeID: "other", RequestedAt: minutes(4)})
	wantCode(t, "ApprovalEnsure under a stale lease", err, gathering.ECONFLICT)
	_, err = s.ApprovalEnsure(ctx, l, store.Approval{RunID: "run-2", NodeID: "other", RequestedAt: minutes(4)})
	wantCode(t, "ApprovalEnsure of another run", err, gathering.EINVALID)
	decision := store.Approval{RunID: r.ID, NodeID: "review", Approved: true, Comment: "Looks good.", DecidedBy: 7, DecidedAt: minutes(10)}
	decided, err := s.ApprovalDecide(ctx, decision)
	want := review
	want.Decided, want.Approved, want.Comment, want.DecidedBy, want.DecidedAt = true, true, "Looks good.", 7, minutes(10)
	if err != nil || !reflect.DeepEqual(decided, want) {
		t.Errorf("ApprovalDecide = %+v, %v; want %+v", decided, err, want)
	}
	decision.Approved, decision.DecidedAt = false, minutes(11)
	_, err = s.ApprovalDecide(ctx, decision)
	wantCode(t, "second ApprovalDecide", err, gathering.ECONFLICT)
	late := ensure(store.Approval{RunID: r.ID, NodeID: "late", RequestedAt: minutes(4), ExpiresAt: minutes(5)})
	for _, at := range []int{5, 6} {
		_, err = s.ApprovalDecide(ctx, store.Approval{RunID: r.ID, NodeID: "late", Approved: true, DecidedAt: minutes(at)})
		wantCode(t, fmt.Sprintf("ApprovalDecide at minute %d of an approval expired at minute 5", at), err, gathering.ECONFLICT)
	}
	_, err = s.ApprovalDecide(ctx, store.Approval{RunID: r.ID, NodeID: "missing", DecidedAt: minutes(5)})
	wantCode(t, "ApprovalDecide of a missing approval", err, gathering.ENOTFOUND)
	_, err = s.ApprovalDecide(ctx, store.Approval{RunID: r.ID, NodeID: "Legal"})
	wantCode(t, "ApprovalDecide without a time", err, gathering.EINVALID)
	rejected, err := s.ApprovalDecide(ctx, store.Approval{RunID: r.ID, NodeID: "Legal", Comment: "No.", DecidedAt: minutes(500)})
	legal.Decided, legal.Comment, legal.DecidedAt = true, "No.", minutes(500)
	if err != nil || !reflect.DeepEqual(rejected, legal) {
		t.Errorf("ApprovalDecide of an approval that never expires = %+v, %v; want %+v", rejected, err, legal)
	}
	list, err := s.ApprovalList(ctx, r.ID)
	if wantList := []store.Approval{legal, late, want}; err != nil || !reflect.DeepEqual(list, wantList) {
		t.Errorf("ApprovalList = %+v, %v;\nwant %+v", list, err, wantList)
	}
	if list, err := s.ApprovalList(ctx, "run-missing"); err != nil || len(list) != 0 {
		t.Errorf("ApprovalList of a missing run = %+v, %v", list, err)
	}
}

func testRunsGoWithTheirPipeline(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := newPipeline(t, s, "build", store.PipelineActive, 0)
	other := newPipeline(t, s, "deploy", store.PipelineActive, 0)
	r := startRun(t, s, newRun("run-1", p, 1), "instance-a", 1, 10)
	l := store.LeaseOf(r)
	createNodeRuns(t, s, l, attempt(r.ID, "a", 1, store.NodeRunning))
	if _, err := s.ApprovalEnsure(ctx, l, store.Approval{RunID: r.ID, NodeID: "a", RequestedAt: minutes(2)}); err != nil {
		t.Fatalf("ApprovalEnsure: %v", err)
	}
	createRuns(t, s, newRun("run-2", other, 2))
	if err := s.PipelineDelete(ctx, p.ID); err != nil {
		t.Fatalf("PipelineDelete: %v", err)
	}
	_, err := s.RunGet(ctx, r.ID)
	wantCode(t, "RunGet of a run of a deleted pipeline", err, gathering.ENOTFOUND)
	wantNodeRuns(t, "of a run of a deleted pipeline", s, r.ID)
	if list, err := s.ApprovalList(ctx, r.ID); err != nil || len(list) != 0 {
		t.Errorf("ApprovalList of a run of a deleted pipeline = %+v, %v", list, err)
	}
	list, total, err := s.RunList(ctx, store.RunFilter{}, store.Page{})
	if err != nil || total != 1 || len(list) != 1 || list[0].ID != "run-2" {
		t.Errorf("RunList after PipelineDelete = %d runs, total %d, %v; want only run-2", len(list), total, err)
	}
}
