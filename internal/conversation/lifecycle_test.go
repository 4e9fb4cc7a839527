package conversation_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/conversation"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/storetest"
)

// stall is a reply that hangs until the client gives up.
const stall = time.Minute

// TestCancelMidTurn: a cancel stops the turn in flight (a stalled provider
// reply) within a second, whether it comes from the instance that runs
// the conversation or from another one over the bus, and within a lease
// from another one that no bus reaches (the runner's heartbeat notices);
// the turn is not recorded.
func TestCancelMidTurn(t *testing.T) {
	t.Parallel()
	for _, from := range []string{"the same instance", "another instance, over the bus", "another instance, by heartbeat"} {
		t.Run(from, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, nil)
			sub := r.subscribe(t)
			r.fake.Push(reply("First."), openaitest.Reply{Stall: stall})
			lease, within := time.Minute, time.Second // the heartbeat comes too late to stop the turn in time
			if from == "another instance, by heartbeat" {
				lease, within = 1500*time.Millisecond, 1500*time.Millisecond
			}
			runner := r.service(t, "runner", conversation.Options{Lease: lease})
			api := runner
			switch from {
			case "another instance, over the bus":
				api = r.unstarted("api", conversation.Options{})
			case "another instance, by heartbeat":
				api = conversation.New(r.db, r.chat, nil, newBus(t), conversation.Options{Instance: "api"})
			}
			conv := r.begin(t, runner, store.RoundRobin, 4)
			r.waitRequests(t, 2)
			<-r.chat.ended // the first turn
			began := time.Now()
			if _, err := api.Cancel(context.Background(), conv.ID); err != nil {
				t.Fatal(err)
			}
			select {
			case <-r.chat.ended:
			case <-time.After(stall / 2):
				t.Fatal("the stalled turn goes on after the cancel")
			}
			if took := time.Since(began); took > within {
				t.Errorf("the turn stopped %s after the cancel; want at most %s", took, within)
			}
			if from != "another instance, by heartbeat" {
				eventsUntil(t, sub, conv.ID, "conversation.cancelled")
			}
			conv = r.wait(t, conv.ID, time.Second, func(store.Conversation) bool { return true })
			if conv.Status != store.ConversationCancelled || conv.TurnsTaken != 1 || len(r.messages(t, conv.ID)) != 1 {
				t.Errorf("after the cancel: %+v", conv)
			}
		})
	}
}

// TestSurvivesRestart runs the restart test on both backends.
func TestSurvivesRestart(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); testSurvivesRestart(t, storetest.SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); testSurvivesRestart(t, storetest.Postgres(t)) })
}

// testSurvivesRestart: an instance stops in the middle of a six-turn
// conversation, cutting off its third turn; another instance continues it
// after the two recorded turns and completes it, with no turn lost or
// taken twice.
func testSurvivesRestart(t *testing.T, db store.Store) {
	r := newRig(t, db)
	r.fake.Push(reply("One."), reply("Two."), openaitest.Reply{Stall: stall})
	first := r.unstarted("first", conversation.Options{})
	start(t, first) // stopped below, mid-conversation; stopping again at the end does nothing
	conv := r.begin(t, first, store.RoundRobin, 6)
	r.waitRequests(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	left := r.wait(t, conv.ID, time.Second, func(store.Conversation) bool { return true })
	if left.Status != store.ConversationActive || left.Owner != "" || left.TurnsTaken != 2 {
		t.Fatalf("after the stop: %+v (released with two turns?)", left)
	}
	r.fake.Push(reply("Three."), reply("Four."), reply("Five."), reply("Six."), reply("Summary."))
	r.service(t, "second", conversation.Options{})
	conv = r.ended(t, conv.ID)
	if conv.Status != store.ConversationCompleted || conv.TurnsTaken != 6 || conv.Owner != "second" || conv.Epoch != 2 {
		t.Fatalf("ended %+v", conv)
	}
	var contents []string
	for i, m := range r.messages(t, conv.ID) {
		if m.Seq != i+1 || m.Speaker != []string{"Ada", "Bob", "Cy"}[i%3] {
			t.Errorf("message %d: %+v", i+1, m)
		}
		contents = append(contents, m.Content)
	}
	if want := []string{"One.", "Two.", "Three.", "Four.", "Five.", "Six."}; !slices.Equal(contents, want) {
		t.Errorf("contents %v, want %v", contents, want)
	}
}

// TestTakeoverFromDeadInstance: a conversation claimed by an instance that
// died (its lease never renewed, never released) is continued by another
// once the lease ends.
func TestTakeoverFromDeadInstance(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	api := r.unstarted("api", conversation.Options{})
	conv := r.begin(t, api, store.RoundRobin, 2)
	now := time.Now()
	dead, err := r.db.ConversationClaim(context.Background(), "dead", now, now.Add(500*time.Millisecond))
	if err != nil || dead.ID != conv.ID {
		t.Fatalf("claim by the doomed instance: %+v, %v", dead, err)
	}
	r.fake.Push(reply("One."), reply("Two."), reply("Summary."))
	r.service(t, "live", conversation.Options{Lease: 600 * time.Millisecond})
	conv = r.ended(t, conv.ID)
	if conv.Status != store.ConversationCompleted || conv.Owner != "live" || conv.Epoch != 2 || conv.TurnsTaken != 2 {
		t.Fatalf("ended %+v", conv)
	}
	if first := r.chatRequests()[0].Time; first.Before(dead.LeaseUntil) {
		t.Errorf("the live instance spoke at %v, before the dead one's lease ended at %v", first, dead.LeaseUntil)
	}
}

// TestExclusiveStartContinuesAtOnce: on an exclusive database, a new
// process continues what the previous one left active at once, without
// waiting for its lease.
func TestExclusiveStartContinuesAtOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	conv := r.begin(t, r.unstarted("api", conversation.Options{}), store.RoundRobin, 1)
	now := time.Now()
	if _, err := r.db.ConversationClaim(context.Background(), "previous", now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r.fake.Push(reply("One."), reply("Summary."))
	r.service(t, "next", conversation.Options{Exclusive: true})
	if conv = r.ended(t, conv.ID); conv.Status != store.ConversationCompleted || conv.Owner != "next" {
		t.Fatalf("ended %+v", conv)
	}
}
