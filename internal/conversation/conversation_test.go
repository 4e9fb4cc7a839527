package conversation_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/conversation"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/store"
)

// turnEvent is the data of a conversation.turn event.
type turnEvent struct {
	ConversationID string                   `json:"conversation_id"`
	TurnsTaken     int                      `json:"turns_taken"`
	Message        conversation.MessageData `json:"message"`
	Selection      conversation.Selection   `json:"selection"`
}

// decodeTurn reads a conversation.turn event.
func decodeTurn(t *testing.T, e event.Event) turnEvent {
	t.Helper()
	var d turnEvent
	if e.Type != "conversation.turn" || json.Unmarshal(e.Data, &d) != nil {
		t.Fatalf("not a turn event: %s %s", e.Type, e.Data)
	}
	return d
}

// types lists the types of events.
func types(es []event.Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Type)
	}
	return out
}

// TestRoundRobinOverSixTurns: three agents speak in order, A B C A B C,
// each turn a chat turn with the transcript so far, recorded with its
// usage; then the first participant summarises; the events carry exactly
// the recorded messages.
func TestRoundRobinOverSixTurns(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	sub := r.subscribe(t)
	contents := []string{"Postgres, for the team.", "SQLite is simpler.", "Both, by mode.", "Agreed on both.", "Fine.", "Settled."}
	for _, c := range contents {
		r.fake.Push(reply(c))
	}
	r.fake.Push(reply("They chose both backends."))
	svc := r.service(t, "one", conversation.Options{})
	conv := r.begin(t, svc, store.RoundRobin, 6)
	events := eventsUntil(t, sub, conv.ID, "conversation.completed")
	conv = r.ended(t, conv.ID)
	if conv.Status != store.ConversationCompleted || conv.TurnsTaken != 6 || conv.MessageCount != 6 || conv.Summary != "They chose both backends." {
		t.Fatalf("ended %+v", conv)
	}
	want := []string{"Ada", "Bob", "Cy", "Ada", "Bob", "Cy"}
	if got := r.speakers(t, conv.ID); !slices.Equal(got, want) {
		t.Fatalf("speakers %v, want %v", got, want)
	}
	msgs := r.messages(t, conv.ID)
	for i, m := range msgs {
		if m.Seq != i+1 || m.Content != contents[i] || m.InputTokens != 100+len(contents[i]) || m.OutputTokens != len(contents[i]) ||
			m.Cost <= 0 || m.AgentID != r.agents[i%3] {
			t.Errorf("message %d: %+v", i+1, m)
		}
	}
	reqs := r.chatRequests()
	if len(reqs) != 7 {
		t.Fatalf("%d chat requests, want 6 turns and a summary", len(reqs))
	}
	name, prompt := asked(reqs[3])
	for _, part := range []string{"You are Ada, in a conversation with Bob and Cy.", "Topic: Which database?",
		"Opening prompt: Pick one for the team.", "Ada: Postgres, for the team.\nBob: SQLite is simpler.\nCy: Both, by mode.\n",
		"@Bob", "[DONE] on a line of its own"} {
		if name != "Ada" || !strings.Contains(prompt, part) {
			t.Errorf("turn 4 asked %s, prompt lacks %q:\n%s", name, part, prompt)
		}
	}
	if name, prompt := asked(reqs[6]); name != "Ada" || !strings.Contains(prompt, "short summary") ||
		!strings.Contains(prompt, conversation.Transcript(msgs)) {
		t.Errorf("summary asked %s:\n%s", name, prompt)
	}
	wantTypes := []string{"conversation.created", "conversation.started", "conversation.turn", "conversation.turn", "conversation.turn",
		"conversation.turn", "conversation.turn", "conversation.turn", "conversation.completed"}
	if !slices.Equal(types(events), wantTypes) {
		t.Fatalf("events %v", types(events))
	}
	for i, e := range events[2:8] {
		d := decodeTurn(t, e)
		m := msgs[i]
		if d.Message.Seq != m.Seq || d.Message.Speaker != m.Speaker || d.Message.Content != m.Content || d.TurnsTaken != i+1 ||
			d.Message.Cost != m.Cost || d.Selection.By != "order" || !slices.Contains(e.Topics, "conversation:"+conv.ID) {
			t.Errorf("turn event %d: %+v for message %+v", i+1, d, m)
		}
	}
	if !strings.Contains(string(events[8].Data), `"summary":"They chose both backends."`) {
		t.Errorf("completed event: %s", events[8].Data)
	}
}

// TestMentionOrder: a message mentioning @Cy gives Cy the turn, Cy's
// mention of @Ada gives it back, and a message without a mention goes on
// round robin.
func TestMentionOrder(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	r.fake.Push(reply("What do you think, @cy?"), reply("Agreed. Over to @Ada."), reply("Settled then."), reply("Fine by me."),
		reply("Summary."))
	svc := r.service(t, "one", conversation.Options{})
	conv := r.ended(t, r.begin(t, svc, store.MentionBased, 4).ID)
	if conv.Status != store.ConversationCompleted {
		t.Fatalf("ended %+v", conv)
	}
	if got, want := r.speakers(t, conv.ID), []string{"Ada", "Cy", "Ada", "Bob"}; !slices.Equal(got, want) {
		t.Fatalf("speakers %v, want %v", got, want)
	}
	msgs := r.messages(t, conv.ID)
	if !slices.Equal(msgs[0].Mentions, []int64{r.agents[2]}) || !slices.Equal(msgs[1].Mentions, []int64{r.agents[0]}) ||
		len(msgs[2].Mentions) != 0 {
		t.Errorf("mentions %v %v %v", msgs[0].Mentions, msgs[1].Mentions, msgs[2].Mentions)
	}
}

// TestFreeForm: without a mention the turn goes to who spoke least
// recently (never the last speaker); a mention takes precedence.
func TestFreeForm(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	r.fake.Push(reply("Hello."), reply("Hi."), reply("Hey @bob, more?"), reply("Yes."), reply("Done.\n[DONE]"), reply("Summary."))
	svc := r.service(t, "one", conversation.Options{})
	conv := r.ended(t, r.begin(t, svc, store.FreeForm, 10).ID)
	if got, want := r.speakers(t, conv.ID), []string{"Ada", "Bob", "Cy", "Bob", "Ada"}; !slices.Equal(got, want) {
		t.Fatalf("speakers %v, want %v", got, want)
	}
	if conv.Status != store.ConversationCompleted || conv.TurnsTaken != 5 || conv.Summary != "Summary." {
		t.Errorf("a [DONE] ends it early: %+v", conv)
	}
}

// TestSelector: a model names each speaker; an answer that names no
// participant falls back to round robin, which the turn's event says.
func TestSelector(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	sub := r.subscribe(t)
	r.fake.Push(reply("Cy"), reply("From Cy."), reply("I cannot tell."), reply("From Ada."), reply("@bob."), reply("From Bob."),
		reply("Summary."))
	svc := r.service(t, "one", conversation.Options{})
	conv := r.begin(t, svc, store.SelectorBased, 3)
	events := eventsUntil(t, sub, conv.ID, "conversation.completed")
	if got, want := r.speakers(t, conv.ID), []string{"Cy", "Ada", "Bob"}; !slices.Equal(got, want) {
		t.Fatalf("speakers %v, want %v", got, want)
	}
	var by []string
	for _, e := range events {
		if e.Type == "conversation.turn" {
			by = append(by, decodeTurn(t, e).Selection.By)
		}
	}
	if !slices.Equal(by, []string{"selector", "fallback", "selector"}) {
		t.Errorf("selections %v", by)
	}
	fallback := decodeTurn(t, events[3]).Selection
	if fallback.Answer != "I cannot tell." || !strings.Contains(fallback.Reason, "names no participant") {
		t.Errorf("fallback selection %+v", fallback)
	}
	reqs := r.chatRequests()
	if name, prompt := asked(reqs[2]); name != "Ada" || !strings.Contains(prompt, "Who should speak next?") ||
		!strings.Contains(prompt, "Cy: From Cy.") {
		t.Errorf("the selector (the first participant) asked as %s:\n%s", name, prompt)
	}
}

// TestProviderErrorFails: a turn the provider refuses fails the
// conversation with the error; nothing is recorded for it.
func TestProviderErrorFails(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	sub := r.subscribe(t)
	r.fake.Push(reply("First."), openaitest.Reply{Status: 400, Error: "the model refuses"})
	svc := r.service(t, "one", conversation.Options{})
	conv := r.begin(t, svc, store.RoundRobin, 4)
	events := eventsUntil(t, sub, conv.ID, "conversation.failed")
	conv = r.ended(t, conv.ID)
	if conv.Status != store.ConversationFailed || conv.TurnsTaken != 1 || !strings.Contains(conv.Error, "Turn 2 of Bob failed") ||
		conv.ErrorCode == "" || conv.CompletedAt.IsZero() {
		t.Fatalf("ended %+v", conv)
	}
	if last := events[len(events)-1]; !strings.Contains(string(last.Data), "Turn 2 of Bob failed") {
		t.Errorf("failed event %s", last.Data)
	}
	if n := len(r.chatRequests()); n != 2 {
		t.Errorf("%d chat requests: a failed conversation asks for no summary", n)
	}
}

// TestSummaryFailureCompletes: a failed summary leaves the conversation
// completed, without a summary, and the completed event says why.
func TestSummaryFailureCompletes(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	sub := r.subscribe(t)
	r.fake.Push(reply("Only turn."), openaitest.Reply{Status: 400, Error: "no summary today"})
	svc := r.service(t, "one", conversation.Options{})
	conv := r.begin(t, svc, store.RoundRobin, 1)
	events := eventsUntil(t, sub, conv.ID, "conversation.completed")
	conv = r.ended(t, conv.ID)
	if conv.Status != store.ConversationCompleted || conv.Summary != "" || conv.TurnsTaken != 1 {
		t.Fatalf("ended %+v", conv)
	}
	if data := string(events[len(events)-1].Data); !strings.Contains(data, `"summary_error":"`) {
		t.Errorf("completed event %s", data)
	}
}

// TestAdvance: a human's prompt revives a completed conversation with more
// turns; its mention picks the next speaker; the conversation completes
// again with a new summary.
func TestAdvance(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	sub := r.subscribe(t)
	r.fake.Push(reply("One."), reply("Two."), reply("First summary."))
	svc := r.service(t, "one", conversation.Options{})
	conv := r.ended(t, r.begin(t, svc, store.MentionBased, 2).ID)
	ctx := context.Background()
	r.fake.Push(reply("Three, from Cy."), reply("Four."), reply("Second summary."))
	advanced, msg, err := svc.Advance(ctx, conv.ID, conversation.Prompt{Text: "@Cy, what do you say?", Turns: 2, Speaker: "Grace", UserID: r.userID})
	if err != nil || advanced.Status != store.ConversationActive || advanced.MaxTurns != 4 || msg.Seq != 3 ||
		!slices.Equal(msg.Mentions, []int64{r.agents[2]}) {
		t.Fatalf("Advance = %+v, %+v, %v", advanced, msg, err)
	}
	eventsUntil(t, sub, conv.ID, "conversation.advanced")
	events := eventsUntil(t, sub, conv.ID, "conversation.completed")
	conv = r.ended(t, conv.ID)
	if got, want := r.speakers(t, conv.ID), []string{"Ada", "Bob", "Grace", "Cy", "Ada"}; !slices.Equal(got, want) {
		t.Fatalf("speakers %v, want %v", got, want)
	}
	if conv.Status != store.ConversationCompleted || conv.TurnsTaken != 4 || conv.Summary != "Second summary." || len(events) != 3 {
		t.Fatalf("ended %+v after events %v", conv, types(events))
	}
	if _, prompt := asked(r.chatRequests()[3]); !strings.Contains(prompt, "Grace: @Cy, what do you say?") {
		t.Errorf("the turn after the prompt does not see it:\n%s", prompt)
	}
}

// TestAdvanceRefusals: a prompt needs text and 1 to 50 turns, a
// conversation that is going or completed, and at most 500 turns in all.
func TestAdvanceRefusals(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	svc := r.unstarted("api", conversation.Options{}) // runs nothing: the conversation stays active
	ctx := context.Background()
	pending := r.create(t, svc, store.RoundRobin, 50)
	_, _, err := svc.Advance(ctx, pending.ID, conversation.Prompt{Text: "Hello?", Turns: 1})
	if gathering.ErrorCode(err) != gathering.ECONFLICT {
		t.Errorf("advance a pending conversation: %v", err)
	}
	_, _, err = svc.Advance(ctx, pending.ID, conversation.Prompt{Text: " ", Turns: 51})
	if fields := fieldsOf(err); !slices.Equal(fields, []string{"prompt", "turns"}) {
		t.Errorf("an empty prompt of 51 turns: %v (%v)", fields, err)
	}
	_, _, err = svc.Advance(ctx, "nosuch", conversation.Prompt{Text: "Hello?", Turns: 1})
	if gathering.ErrorCode(err) != gathering.ENOTFOUND {
		t.Errorf("advance a missing conversation: %v", err)
	}
	active, err := svc.Begin(ctx, pending.ID)
	if err != nil {
		t.Fatal(err)
	}
	for range (conversation.MaxTotalTurns - 50) / 50 {
		if _, _, err := svc.Advance(ctx, active.ID, conversation.Prompt{Text: "More.", Turns: 50}); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err = svc.Advance(ctx, active.ID, conversation.Prompt{Text: "One more.", Turns: 1})
	if fields := fieldsOf(err); !slices.Equal(fields, []string{"turns"}) {
		t.Errorf("advance past %d turns in all: %v", conversation.MaxTotalTurns, err)
	}
	if _, err := svc.Cancel(ctx, active.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = svc.Advance(ctx, active.ID, conversation.Prompt{Text: "Hello?", Turns: 1})
	if gathering.ErrorCode(err) != gathering.ECONFLICT {
		t.Errorf("advance a cancelled conversation: %v", err)
	}
	if _, err := svc.Cancel(ctx, active.ID); gathering.ErrorCode(err) != gathering.ECONFLICT {
		t.Errorf("cancel a cancelled conversation: %v", err)
	}
}

// fieldsOf lists the fields of a validation error.
func fieldsOf(err error) []string {
	var out []string
	for _, f := range gathering.ErrorFields(err) {
		out = append(out, f.Field)
	}
	return out
}

// TestCreateChecks: every problem of a new conversation is named by its
// field.
func TestCreateChecks(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	svc := r.unstarted("api", conversation.Options{})
	ctx := context.Background()
	twin, err := r.db.AgentCreate(ctx, store.Agent{Name: "ada", PersonaID: 1, Provider: "fake", Model: "fake-1"})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", conversation.MaxTopicLen+1)
	tests := []struct {
		name   string
		n      conversation.NewConversation
		fields []string
	}{
		{"every field wrong", conversation.NewConversation{Topic: long, InitialPrompt: strings.Repeat("x", conversation.MaxPromptLen+1),
			AgentIDs: r.agents[:1], MaxTurns: 51, Strategy: "loudest", SelectorAgentID: 4242},
			[]string{"topic", "initial_prompt", "max_turns", "turn_strategy", "agent_ids", "selector_agent_id"}},
		{"too many agents", conversation.NewConversation{Topic: "t", AgentIDs: make([]int64, 11)}, []string{"agent_ids"}},
		{"blank topic, repeated, unknown and twin agents", conversation.NewConversation{Topic: "  ",
			AgentIDs: []int64{r.agents[0], r.agents[0], 4242, twin.ID}}, []string{"topic", "agent_ids/1", "agent_ids/2", "agent_ids/3"}},
		{"a circle without circles", conversation.NewConversation{Topic: "t", AgentIDs: r.agents, Circle: "core"}, []string{"circle"}},
		{"a selector without the selector strategy", conversation.NewConversation{Topic: "t", AgentIDs: r.agents,
			SelectorAgentID: r.agents[1]}, []string{"selector_agent_id"}},
	}
	for _, tt := range tests {
		_, err := svc.Create(ctx, tt.n)
		if got := fieldsOf(err); gathering.ErrorCode(err) != gathering.EINVALID || !slices.Equal(got, tt.fields) {
			t.Errorf("%s: fields %v (%v), want %v", tt.name, got, err, tt.fields)
		}
	}
	c, err := svc.Create(ctx, conversation.NewConversation{Topic: strings.Repeat("é", conversation.MaxTopicLen), AgentIDs: r.agents[:2],
		InitialPrompt: strings.Repeat("x", conversation.MaxPromptLen), Strategy: store.SelectorBased, SelectorAgentID: r.agents[2]})
	if err != nil || c.MaxTurns != conversation.DefaultMaxTurns || c.Status != store.ConversationPending {
		t.Errorf("a conversation at the limits: %+v, %v", c, err)
	}
}

// TestAdvanceWhileActive: a prompt that comes in during a turn lands
// before that turn's message; the conversation gets the extra turn
// without losing the one in flight.
func TestAdvanceWhileActive(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	r.fake.Push(reply("One."), openaitest.Reply{Stall: time.Second, Content: "Two, slowly."}, reply("Three."), reply("Summary."))
	svc := r.service(t, "one", conversation.Options{})
	conv := r.begin(t, svc, store.RoundRobin, 2)
	r.waitRequests(t, 2)
	if _, _, err := svc.Advance(context.Background(), conv.ID, conversation.Prompt{Text: "Hurry up.", Turns: 1, Speaker: "Grace"}); err != nil {
		t.Fatal(err)
	}
	conv = r.ended(t, conv.ID)
	if got, want := r.speakers(t, conv.ID), []string{"Ada", "Grace", "Bob", "Cy"}; !slices.Equal(got, want) {
		t.Fatalf("speakers %v, want %v", got, want)
	}
	if conv.Status != store.ConversationCompleted || conv.TurnsTaken != 3 || conv.Epoch != 1 || len(r.chatRequests()) != 4 {
		t.Errorf("ended %+v after %d requests", conv, len(r.chatRequests()))
	}
}
