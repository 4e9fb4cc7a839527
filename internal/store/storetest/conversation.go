package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// exerciseConversations runs the conversation part of the suite, each test on a fresh migrated
// store.
func exerciseConversations(t *testing.T, migrated func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"ConversationRoundTrip", testConversationRoundTrip},
		{"ConversationCreateRefuses", testConversationCreateRefuses},
		{"ConversationStartCancelDelete", testConversationStartCancelDelete},
		{"ConversationClaim", testConversationClaim},
		{"ConversationClaimConcurrent", testConversationClaimConcurrent},
		{"ConversationFencing", testConversationFencing},
		{"ConversationHeartbeatRelease", testConversationHeartbeatRelease},
		{"ConversationTurns", testConversationTurns},
		{"ConversationAdvance", testConversationAdvance},
		{"ConversationFinish", testConversationFinish},
		{"ConversationWritersRace", testConversationWritersRace},
		{"ConversationList", testConversationList},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { t.Parallel(); tt.test(t, migrated(t)) })
	}
}

// newConversation is a round-robin conversation of agents 3, 1 and 2 for
// user 7 with id id, created at minute n, of at most 6 turns.
func newConversation(id string, n int) store.Conversation {
	return store.Conversation{ID: id, Topic: "Topic of " + id, Circle: "core", AgentIDs: []int64{3, 1, 2},
		SelectorAgentID: 2, MaxTurns: 6, InitialPrompt: "Talk about " + id + ", ✓ «quoted»", Strategy: store.RoundRobin,
		CreatedBy: 7, CreatedAt: minutes(n)}
}

// createdConversation is c as ConversationCreate stores it.
func createdConversation(c store.Conversation) store.Conversation {
	return store.Conversation{ID: c.ID, Topic: c.Topic, Circle: c.Circle, AgentIDs: c.AgentIDs,
		SelectorAgentID: c.SelectorAgentID, MaxTurns: c.MaxTurns, InitialPrompt: c.InitialPrompt, Strategy: c.Strategy,
		Status: store.ConversationPending, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt}
}

// createConversations stores every conversation, or fails the test.
func createConversations(t *testing.T, s store.Store, cs ...store.Conversation) {
	t.Helper()
	for _, c := range cs {
		if _, err := s.ConversationCreate(t.Context(), c); err != nil {
			t.Fatalf("ConversationCreate(%s): %v", c.ID, err)
		}
	}
}

// startConversation creates c, starts it at minute now and claims it for
// owner with a lease until minute until, or fails the test. No other
// conversation may need an owner.
func startConversation(t *testing.T, s store.Store, c store.Conversation, owner string, now, until int) store.Conversation {
	t.Helper()
	createConversations(t, s, c)
	if _, err := s.ConversationStart(t.Context(), c.ID, minutes(now)); err != nil {
		t.Fatalf("ConversationStart(%s): %v", c.ID, err)
	}
	return claimConversation(t, s, c.ID, owner, now, until)
}

// claimConversation claims a conversation for owner at minute now with a
// lease until minute until, and fails the test unless it is id.
func claimConversation(t *testing.T, s store.Store, id, owner string, now, until int) store.Conversation {
	t.Helper()
	got, err := s.ConversationClaim(t.Context(), owner, minutes(now), minutes(until))
	if err != nil || got.ID != id {
		t.Fatalf("ConversationClaim(%s at minute %d) = %s, %v; want %s", owner, now, got.ID, err, id)
	}
	return got
}

// wantConversation fails the test unless the stored conversation equals
// want, every field, with UTC times.
func wantConversation(t *testing.T, op string, s store.Store, want store.Conversation) {
	t.Helper()
	got, err := s.ConversationGet(t.Context(), want.ID)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: ConversationGet = %+v, %v;\nwant %+v", op, got, err, want)
	}
}

// turnOf is a message of agent at minute n in the conversation of l.
func turnOf(l store.Lease, agent int64, n int, content string) store.ConversationMessage {
	return store.ConversationMessage{ConversationID: l.RunID, AgentID: agent, Speaker: fmt.Sprint("agent-", agent),
		Content: content, Mentions: []int64{1}, InputTokens: 10 * n, OutputTokens: n, Cost: 0.25, At: minutes(n)}
}

// recordTurn records a turn under l, or fails the test.
func recordTurn(t *testing.T, s store.Store, l store.Lease, m store.ConversationMessage) store.ConversationMessage {
	t.Helper()
	got, err := s.ConversationTurn(t.Context(), l, m)
	if err != nil {
		t.Fatalf("ConversationTurn(%s by %d): %v", l.RunID, m.AgentID, err)
	}
	return got
}

// wantMessages fails the test unless the messages of conversation id are
// want, every field.
func wantMessages(t *testing.T, op string, s store.Store, id string, want ...store.ConversationMessage) {
	t.Helper()
	got, total, err := s.ConversationMessages(t.Context(), id, store.Page{Limit: 500})
	if err != nil || total != len(want) || len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
		t.Errorf("%s: ConversationMessages = %+v (total %d), %v;\nwant %+v", op, got, total, err, want)
	}
}

func testConversationRoundTrip(t *testing.T, s store.Store) {
	c := newConversation("conv-1", 0)
	got, err := s.ConversationCreate(t.Context(), c)
	want := createdConversation(c)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ConversationCreate = %+v, %v;\nwant %+v", got, err, want)
	}
	wantConversation(t, "after create", s, want)
	wantMessages(t, "after create", s, c.ID)
	free := store.Conversation{ID: "conv-2", Topic: "x", AgentIDs: []int64{9, 8}, MaxTurns: 1, Strategy: store.SelectorBased,
		CreatedAt: minutes(1)}
	createConversations(t, s, free)
	wantConversation(t, "without circle, selector or prompt", s, createdConversation(free))
	_, err = s.ConversationGet(t.Context(), "conv-missing")
	wantCode(t, "ConversationGet of a missing conversation", err, gathering.ENOTFOUND)
	wantMessages(t, "of a missing conversation", s, "conv-missing")
}

func testConversationCreateRefuses(t *testing.T, s store.Store) {
	createConversations(t, s, newConversation("conv-1", 0))
	_, err := s.ConversationCreate(t.Context(), newConversation("conv-1", 1))
	wantCode(t, "ConversationCreate of a taken id", err, gathering.ECONFLICT)
	for name, change := range map[string]func(*store.Conversation){
		"no id":            func(c *store.Conversation) { c.ID = "" },
		"no topic":         func(c *store.Conversation) { c.Topic = "" },
		"no agent":         func(c *store.Conversation) { c.AgentIDs = nil },
		"no turn":          func(c *store.Conversation) { c.MaxTurns = 0 },
		"unknown strategy": func(c *store.Conversation) { c.Strategy = "loudest_first" },
	} {
		c := newConversation("conv-2", 2)
		change(&c)
		_, err := s.ConversationCreate(t.Context(), c)
		wantCode(t, "ConversationCreate with "+name, err, gathering.EINVALID)
	}
	if _, total, err := s.ConversationList(t.Context(), store.ConversationFilter{}, store.Page{}); err != nil || total != 1 {
		t.Errorf("after refused creates: %d conversations, %v; want 1", total, err)
	}
}

func testConversationStartCancelDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newConversation("conv-1", 0)
	createConversations(t, s, c)
	wantCode(t, "ConversationDelete of a missing one", s.ConversationDelete(ctx, "conv-missing"), gathering.ENOTFOUND)
	_, err := s.ConversationStart(ctx, "conv-missing", minutes(1))
	wantCode(t, "ConversationStart of a missing one", err, gathering.ENOTFOUND)
	started, err := s.ConversationStart(ctx, c.ID, minutes(1))
	want := createdConversation(c)
	want.Status, want.StartedAt = store.ConversationActive, minutes(1)
	if err != nil || !reflect.DeepEqual(started, want) {
		t.Fatalf("ConversationStart = %+v, %v;\nwant %+v", started, err, want)
	}
	_, err = s.ConversationStart(ctx, c.ID, minutes(2))
	wantCode(t, "ConversationStart of an active one", err, gathering.ECONFLICT)
	wantCode(t, "ConversationDelete of an active one", s.ConversationDelete(ctx, c.ID), gathering.ECONFLICT)
	l := store.ConversationLeaseOf(claimConversation(t, s, c.ID, "instance-a", 2, 10))
	recordTurn(t, s, l, turnOf(l, 3, 3, "First."))
	cancelled, err := s.ConversationCancel(ctx, c.ID, minutes(4))
	want.Status, want.CompletedAt, want.TurnsTaken, want.MessageCount, want.Epoch = store.ConversationCancelled, minutes(4), 1, 1, 1
	if err != nil || !reflect.DeepEqual(cancelled, want) {
		t.Fatalf("ConversationCancel = %+v, %v;\nwant %+v", cancelled, err, want)
	}
	_, err = s.ConversationCancel(ctx, c.ID, minutes(5))
	wantCode(t, "ConversationCancel of a cancelled one", err, gathering.ECONFLICT)
	_, err = s.ConversationCancel(ctx, "conv-missing", minutes(5))
	wantCode(t, "ConversationCancel of a missing one", err, gathering.ENOTFOUND)
	_, err = s.ConversationStart(ctx, c.ID, minutes(5))
	wantCode(t, "ConversationStart of a cancelled one", err, gathering.ECONFLICT)
	if err := s.ConversationDelete(ctx, c.ID); err != nil {
		t.Fatalf("ConversationDelete of a cancelled one: %v", err)
	}
	_, err = s.ConversationGet(ctx, c.ID)
	wantCode(t, "ConversationGet after delete", err, gathering.ENOTFOUND)
	wantMessages(t, "after delete", s, c.ID)
	pending := newConversation("conv-2", 6)
	createConversations(t, s, pending)
	if _, err := s.ConversationCancel(ctx, pending.ID, minutes(7)); err != nil {
		t.Errorf("ConversationCancel of a pending one: %v", err)
	}
}

func testConversationClaim(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.ConversationClaim(ctx, "instance-a", minutes(1), minutes(5))
	wantCode(t, "ConversationClaim of none", err, gathering.ENOTFOUND)
	_, err = s.ConversationClaim(ctx, "", minutes(1), minutes(5))
	wantCode(t, "ConversationClaim without owner", err, gathering.EINVALID)
	createConversations(t, s, newConversation("conv-b", 2), newConversation("conv-a", 2), newConversation("conv-pending", 0))
	for _, id := range []string{"conv-b", "conv-a"} {
		if _, err := s.ConversationStart(ctx, id, minutes(3)); err != nil {
			t.Fatal(err)
		}
	}
	first := claimConversation(t, s, "conv-a", "instance-a", 4, 10) // same creation time: by id
	want := createdConversation(newConversation("conv-a", 2))
	want.Status, want.StartedAt, want.Owner, want.Epoch, want.LeaseUntil = store.ConversationActive, minutes(3),
		"instance-a", 1, minutes(10)
	if !reflect.DeepEqual(first, want) {
		t.Errorf("ConversationClaim = %+v;\nwant %+v", first, want)
	}
	claimConversation(t, s, "conv-b", "instance-b", 4, 10)
	_, err = s.ConversationClaim(ctx, "instance-c", minutes(10), minutes(20))
	wantCode(t, "ConversationClaim while every lease holds (a lease ending now still holds)", err, gathering.ENOTFOUND)
	again := claimConversation(t, s, "conv-a", "instance-c", 11, 20)
	if again.Epoch != 2 || again.Owner != "instance-c" {
		t.Errorf("reclaim after the lease ended = owner %q epoch %d; want instance-c, 2", again.Owner, again.Epoch)
	}
}

func testConversationClaimConcurrent(t *testing.T, s store.Store) {
	const conversations, claimers = 20, 8
	var want []string
	for i := range conversations {
		c := newConversation(fmt.Sprintf("conv-%02d", i), i)
		createConversations(t, s, c)
		if _, err := s.ConversationStart(t.Context(), c.ID, minutes(i)); err != nil {
			t.Fatal(err)
		}
		want = append(want, c.ID)
	}
	claimEachOnce(t, claimers, want,
		func(owner string) (string, error) {
			got, err := s.ConversationClaim(t.Context(), owner, minutes(30), minutes(40))
			return got.ID, err
		},
		func(id string) (string, int64, string, error) {
			got, err := s.ConversationGet(t.Context(), id)
			return got.Owner, got.Epoch, fmt.Sprintf("%+v", got), err
		})
}

// testConversationFencing checks that every write under a lease that no
// longer holds is refused and changes nothing.
func testConversationFencing(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := startConversation(t, s, newConversation("conv-1", 0), "instance-a", 1, 5)
	old := store.ConversationLeaseOf(first)
	kept := recordTurn(t, s, old, turnOf(old, 3, 2, "Before the takeover."))
	second := claimConversation(t, s, first.ID, "instance-b", 6, 16) // the lease of instance-a ended at minute 5
	writes := func(op string, l store.Lease, code string) {
		t.Helper()
		_, err := s.ConversationTurn(ctx, l, turnOf(l, 1, 7, "Late."))
		wantCode(t, "ConversationTurn "+op, err, code)
		_, err = s.ConversationFinish(ctx, l, store.ConversationEnd{Status: store.ConversationCompleted, Summary: "late",
			Messages: 1, At: minutes(8)})
		wantCode(t, "ConversationFinish "+op, err, code)
		if err := s.ConversationRelease(ctx, l, minutes(8)); err != nil {
			t.Errorf("ConversationRelease %s: %v", op, err)
		}
	}
	for name, l := range map[string]store.Lease{
		"under a lease taken over": old,
		"under another owner":      {RunID: old.RunID, Owner: "instance-c", Epoch: second.Epoch},
		"under a later epoch":      {RunID: old.RunID, Owner: second.Owner, Epoch: second.Epoch + 1},
		"under no owner":           {RunID: old.RunID, Epoch: second.Epoch},
	} {
		writes(name, l, gathering.ECONFLICT)
	}
	writes("of a missing conversation", store.Lease{RunID: "conv-missing", Owner: "instance-a", Epoch: 1}, gathering.ENOTFOUND)
	second.TurnsTaken, second.MessageCount = 1, 1
	wantConversation(t, "after refused writes", s, second)
	wantMessages(t, "after refused writes", s, first.ID, kept)
	// A cancel ends the lease of the instance that runs it.
	if _, err := s.ConversationCancel(ctx, first.ID, minutes(9)); err != nil {
		t.Fatal(err)
	}
	writes("after a cancel", store.ConversationLeaseOf(second), gathering.ECONFLICT)
	wantMessages(t, "after a cancel", s, first.ID, kept)
}

func testConversationHeartbeatRelease(t *testing.T, s store.Store) {
	ctx := t.Context()
	kept := startConversation(t, s, newConversation("conv-kept", 0), "instance-a", 1, 50)
	lost := startConversation(t, s, newConversation("conv-lost", 1), "instance-a", 1, 5)
	cancelled := startConversation(t, s, newConversation("conv-cancelled", 2), "instance-a", 2, 5)
	if _, err := s.ConversationCancel(ctx, cancelled.ID, minutes(3)); err != nil {
		t.Fatal(err)
	}
	claimConversation(t, s, lost.ID, "instance-b", 6, 20) // the lease of instance-a ended at minute 5
	leases := []store.Lease{store.ConversationLeaseOf(lost), store.ConversationLeaseOf(cancelled), store.ConversationLeaseOf(kept)}
	gone, err := s.ConversationHeartbeat(ctx, leases, minutes(30))
	if err != nil || !slices.Equal(gone, []string{"conv-cancelled", "conv-lost"}) {
		t.Errorf("ConversationHeartbeat = %v, %v; want the cancelled and the lost one", gone, err)
	}
	kept.LeaseUntil = minutes(30)
	wantConversation(t, "after the heartbeat", s, kept)
	if err := s.ConversationRelease(ctx, store.ConversationLeaseOf(kept), minutes(7)); err != nil {
		t.Fatal(err)
	}
	kept.Owner, kept.LeaseUntil = "", minutes(7)
	wantConversation(t, "after the release", s, kept)
	again := claimConversation(t, s, kept.ID, "instance-c", 7, 20) // released: claimable at once
	if again.Epoch != 2 {
		t.Errorf("claim after a release: epoch %d, want 2", again.Epoch)
	}
}

func testConversationTurns(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newConversation("conv-1", 0)
	c.MaxTurns = 3
	l := store.ConversationLeaseOf(startConversation(t, s, c, "instance-a", 1, 50))
	var want []store.ConversationMessage
	for i, agent := range []int64{3, 1, 2} {
		m := turnOf(l, agent, 2+i, fmt.Sprintf("Turn %d, ✓ «%d»\n[DONE]", i+1, agent))
		if i == 1 {
			m.Mentions = nil
		}
		got := recordTurn(t, s, l, m)
		m.Seq, m.Mentions = i+1, []int64{1}
		if i == 1 {
			m.Mentions = []int64{}
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("ConversationTurn = %+v;\nwant %+v", got, m)
		}
		want = append(want, m)
	}
	wantMessages(t, "after three turns", s, c.ID, want...)
	_, err := s.ConversationTurn(ctx, l, turnOf(l, 3, 9, "One too many."))
	wantCode(t, "ConversationTurn past max turns", err, gathering.ECONFLICT)
	human := turnOf(l, 0, 9, "A human's.")
	_, err = s.ConversationTurn(ctx, l, human)
	wantCode(t, "ConversationTurn of a human's message", err, gathering.EINVALID)
	other := turnOf(l, 3, 9, "Elsewhere.")
	other.ConversationID = "conv-2"
	_, err = s.ConversationTurn(ctx, l, other)
	wantCode(t, "ConversationTurn of another conversation's message", err, gathering.EINVALID)
	got, err := s.ConversationGet(ctx, c.ID)
	if err != nil || got.TurnsTaken != 3 || got.MessageCount != 3 {
		t.Errorf("after three turns: %+v, %v", got, err)
	}
	page, total, err := s.ConversationMessages(ctx, c.ID, store.Page{Limit: 1, Offset: 1})
	if err != nil || total != 3 || len(page) != 1 || page[0].Seq != 2 {
		t.Errorf("ConversationMessages page 2 of 1 = %+v (total %d), %v", page, total, err)
	}
}

func testConversationAdvance(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newConversation("conv-1", 0)
	c.MaxTurns = 2
	l := store.ConversationLeaseOf(startConversation(t, s, c, "instance-a", 1, 50))
	first := recordTurn(t, s, l, turnOf(l, 3, 2, "First."))
	prompt := store.ConversationMessage{Speaker: "Grace", Content: "Go on, @agent-1.", Mentions: []int64{1}, At: minutes(3)}
	active, msg, err := s.ConversationAdvance(ctx, c.ID, prompt, 2, 10)
	wantMsg := prompt
	wantMsg.ConversationID, wantMsg.Seq = c.ID, 2
	if err != nil || active.MaxTurns != 4 || active.Owner != "instance-a" || active.Epoch != 1 || active.MessageCount != 2 ||
		active.Status != store.ConversationActive || !reflect.DeepEqual(msg, wantMsg) {
		t.Fatalf("ConversationAdvance of an active one = %+v, %+v, %v", active, msg, err)
	}
	second := recordTurn(t, s, l, turnOf(l, 1, 4, "Second, under the lease kept."))
	if second.Seq != 3 {
		t.Errorf("the turn after a prompt got seq %d, want 3", second.Seq)
	}
	if _, err := s.ConversationFinish(ctx, l, store.ConversationEnd{Status: store.ConversationCompleted, Summary: "Done.",
		Messages: 3, At: minutes(5)}); err != nil {
		t.Fatal(err)
	}
	again := prompt
	again.At, again.Mentions = minutes(6), nil
	revived, msg, err := s.ConversationAdvance(ctx, c.ID, again, 3, 10)
	if err != nil || revived.MaxTurns != 5 || revived.TurnsTaken != 2 || revived.Owner != "" || !revived.CompletedAt.IsZero() ||
		revived.Status != store.ConversationActive || revived.Summary != "Done." || msg.Seq != 4 || msg.Mentions == nil {
		t.Fatalf("ConversationAdvance of a completed one = %+v, %+v, %v", revived, msg, err)
	}
	wantMessages(t, "after two prompts", s, c.ID, first, wantMsg, second, msg)
	claimConversation(t, s, c.ID, "instance-b", 7, 20) // revived: claimable at once
	for name, turns := range map[string]int{"no turn": 0, "past the bound": 6} {
		_, _, err = s.ConversationAdvance(ctx, c.ID, again, turns, 10)
		wantCode(t, "ConversationAdvance with "+name, err, gathering.EINVALID)
	}
	agents := again
	agents.AgentID = 3
	_, _, err = s.ConversationAdvance(ctx, c.ID, agents, 1, 10)
	wantCode(t, "ConversationAdvance with an agent's message", err, gathering.EINVALID)
	_, _, err = s.ConversationAdvance(ctx, "conv-missing", again, 1, 10)
	wantCode(t, "ConversationAdvance of a missing one", err, gathering.ENOTFOUND)
	createConversations(t, s, newConversation("conv-pending", 8))
	_, _, err = s.ConversationAdvance(ctx, "conv-pending", again, 1, 10)
	wantCode(t, "ConversationAdvance of a pending one", err, gathering.ECONFLICT)
	if _, err := s.ConversationCancel(ctx, c.ID, minutes(9)); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.ConversationAdvance(ctx, c.ID, again, 1, 10)
	wantCode(t, "ConversationAdvance of a cancelled one", err, gathering.ECONFLICT)
	wantMessages(t, "after refused prompts", s, c.ID, first, wantMsg, second, msg)
}

func testConversationFinish(t *testing.T, s store.Store) {
	ctx := t.Context()
	started := startConversation(t, s, newConversation("conv-1", 0), "instance-a", 1, 50)
	l := store.ConversationLeaseOf(started)
	recordTurn(t, s, l, turnOf(l, 3, 2, "First.\n[DONE]"))
	_, err := s.ConversationFinish(ctx, l, store.ConversationEnd{Status: store.ConversationCancelled, Messages: 1, At: minutes(3)})
	wantCode(t, "ConversationFinish as cancelled", err, gathering.EINVALID)
	_, err = s.ConversationFinish(ctx, l, store.ConversationEnd{Status: store.ConversationCompleted, Messages: 0, At: minutes(3)})
	wantCode(t, "ConversationFinish with a message it has not seen", err, gathering.ECONFLICT)
	done, err := s.ConversationFinish(ctx, l, store.ConversationEnd{Status: store.ConversationCompleted, Summary: "They agreed.",
		Messages: 1, At: minutes(4)})
	want := started
	want.Status, want.Summary, want.CompletedAt, want.LeaseUntil = store.ConversationCompleted, "They agreed.", minutes(4), minutes(4)
	want.TurnsTaken, want.MessageCount = 1, 1
	if err != nil || !reflect.DeepEqual(done, want) {
		t.Fatalf("ConversationFinish = %+v, %v;\nwant %+v", done, err, want)
	}
	if gone, err := s.ConversationHeartbeat(ctx, []store.Lease{l}, minutes(20)); err != nil || !slices.Equal(gone, []string{"conv-1"}) {
		t.Errorf("ConversationHeartbeat after the end = %v, %v; want it lost", gone, err)
	}
	_, err = s.ConversationClaim(ctx, "instance-b", minutes(30), minutes(40))
	wantCode(t, "ConversationClaim of a completed one", err, gathering.ENOTFOUND)
	failing := startConversation(t, s, newConversation("conv-2", 5), "instance-a", 6, 50)
	failed, err := s.ConversationFinish(ctx, store.ConversationLeaseOf(failing), store.ConversationEnd{
		Status: store.ConversationFailed, ErrorCode: gathering.EUNAVAILABLE, Error: "The provider failed.", At: minutes(7)})
	if err != nil || failed.Status != store.ConversationFailed || failed.ErrorCode != gathering.EUNAVAILABLE ||
		failed.Error != "The provider failed." || !failed.CompletedAt.Equal(minutes(7)) {
		t.Errorf("ConversationFinish as failed = %+v, %v", failed, err)
	}
	wantCode(t, "ConversationDelete of a failed one", s.ConversationDelete(ctx, failed.ID), "")
}

// testConversationWritersRace checks that turns under the lease and
// prompts from the API, written at once, number the messages 1, 2, 3, …
// with none lost and none repeated.
func testConversationWritersRace(t *testing.T, s store.Store) {
	const turns, prompts = 12, 12
	c := newConversation("conv-1", 0)
	c.MaxTurns = turns
	l := store.ConversationLeaseOf(startConversation(t, s, c, "instance-a", 1, 50))
	var wg sync.WaitGroup
	errs := make(chan error, turns+prompts)
	wg.Go(func() {
		for i := range turns {
			if _, err := s.ConversationTurn(t.Context(), l, turnOf(l, 3, i, fmt.Sprint("turn ", i))); err != nil {
				errs <- err
			}
		}
	})
	wg.Go(func() {
		for i := range prompts {
			m := store.ConversationMessage{Speaker: "Grace", Content: fmt.Sprint("prompt ", i), At: minutes(i)}
			if _, _, err := s.ConversationAdvance(t.Context(), c.ID, m, 1, 100); err != nil {
				errs <- err
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write: %v", err)
	}
	msgs, total, err := s.ConversationMessages(t.Context(), c.ID, store.Page{Limit: 500})
	if err != nil || total != turns+prompts {
		t.Fatalf("ConversationMessages = %d, %v; want %d", total, err, turns+prompts)
	}
	for i, m := range msgs {
		if m.Seq != i+1 {
			t.Errorf("message %d has seq %d", i+1, m.Seq)
		}
	}
	got, err := s.ConversationGet(t.Context(), c.ID)
	if err != nil || got.TurnsTaken != turns || got.MessageCount != turns+prompts || got.MaxTurns != turns+prompts {
		t.Errorf("after the race: %+v, %v", got, err)
	}
}

func testConversationList(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 5 {
		createConversations(t, s, newConversation(fmt.Sprintf("conv-%d", i), i))
	}
	for _, id := range []string{"conv-1", "conv-3"} {
		if _, err := s.ConversationStart(ctx, id, minutes(10)); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(cs []store.Conversation) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	all, total, err := s.ConversationList(ctx, store.ConversationFilter{}, store.Page{Limit: 2, Offset: 1})
	if err != nil || total != 5 || !slices.Equal(ids(all), []string{"conv-3", "conv-2"}) {
		t.Errorf("ConversationList page = %v (total %d), %v", ids(all), total, err)
	}
	active, total, err := s.ConversationList(ctx, store.ConversationFilter{Status: store.ConversationActive}, store.Page{})
	if err != nil || total != 2 || !slices.Equal(ids(active), []string{"conv-3", "conv-1"}) {
		t.Errorf("ConversationList of the active = %v (total %d), %v", ids(active), total, err)
	}
	_, _, err = s.ConversationList(ctx, store.ConversationFilter{Status: "sleeping"}, store.Page{})
	wantCode(t, "ConversationList of an unknown status", err, gathering.EINVALID)
}
