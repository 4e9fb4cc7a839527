package conversation

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/store"
)

// trio are three participants, one with a two-word name that begins like
// another's.
var trio = []Participant{{AgentID: 1, Name: "Ada"}, {AgentID: 2, Name: "Ada Lovelace"}, {AgentID: 3, Name: "Bob"}}

func TestMentions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text   string
		author int64
		want   []int64
	}{
		{"@bob, and @ADA?", 0, []int64{3, 1}},
		{"Ask @Ada Lovelace, then @Ada.", 0, []int64{2, 1}},
		{"@Ada's idea", 0, []int64{1}},
		{"mail ada@bob.org or @Bobby or @ or @", 0, []int64{}},
		{"@Bob @bob @Ada", 3, []int64{1}},
		{"@Ada\n@Bob", 1, []int64{3}},
		{"", 0, []int64{}},
	}
	for _, tt := range tests {
		if got := Mentions(tt.text, trio, tt.author); !slices.Equal(got, tt.want) {
			t.Errorf("Mentions(%q by %d) = %v, want %v", tt.text, tt.author, got, tt.want)
		}
	}
}

// said is a conversation's messages, each "agent:mentions" (agent 0: a
// human), e.g. "1:3" for agent 1 mentioning agent 3.
func said(specs ...string) []store.ConversationMessage {
	var out []store.ConversationMessage
	for i, spec := range specs {
		m := store.ConversationMessage{Seq: i + 1, Mentions: []int64{}}
		by, mentions, _ := strings.Cut(spec, ":")
		fmt.Sscan(by, &m.AgentID)
		for _, f := range strings.Fields(mentions) {
			var id int64
			fmt.Sscan(f, &id)
			m.Mentions = append(m.Mentions, id)
		}
		out = append(out, m)
	}
	return out
}

func TestChoose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		strategy store.TurnStrategy
		msgs     []store.ConversationMessage
		want     int64
		by       string
	}{
		{store.RoundRobin, nil, 1, "order"},
		{store.RoundRobin, said("1", "2", "3"), 1, "order"},
		{store.RoundRobin, said("1:3", "0"), 2, "order"}, // a human's prompt keeps the order
		{store.MentionBased, said("1:3"), 3, "mention"},
		{store.MentionBased, said("1:3", "3"), 1, "order"},
		{store.MentionBased, said("2", "0:1"), 1, "mention"},   // a human may mention anyone
		{store.MentionBased, said("2", "0:9 3"), 3, "mention"}, // not a participant: the next mention
		{store.FreeForm, nil, 1, "least_recent"},
		{store.FreeForm, said("1"), 2, "least_recent"},
		{store.FreeForm, said("1", "2", "3", "2"), 1, "least_recent"},
		{store.FreeForm, said("3", "1", "2", "1"), 3, "least_recent"},
		{store.FreeForm, said("1", "2", "3", "1:2"), 2, "mention"},
		{store.FreeForm, said("1", "0"), 2, "least_recent"}, // never the last agent to speak
	}
	for _, tt := range tests {
		i, sel := choose(tt.strategy, trio, tt.msgs)
		if trio[i].AgentID != tt.want || sel.By != tt.by || sel.Strategy != tt.strategy {
			t.Errorf("%s after %v: agent %d by %s, want %d by %s", tt.strategy, tt.msgs, trio[i].AgentID, sel.By, tt.want, tt.by)
		}
	}
}

func TestParseChoice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		answer string
		want   int64 // 0: no choice
	}{
		{"Bob", 3},
		{"  **@bob.**\n", 3},
		{"ada lovelace", 2},
		{"I pick Bob for this one.", 3},
		{"Ada or Bob", 0},
		{"Bobby", 0},
		{"nobody", 0},
		{"", 0},
	}
	for _, tt := range tests {
		i, ok := parseChoice(tt.answer, trio)
		got := int64(0)
		if ok {
			got = trio[i].AgentID
		}
		if got != tt.want {
			t.Errorf("parseChoice(%q) = %d, want %d", tt.answer, got, tt.want)
		}
	}
}

func TestDone(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]bool{"Agreed.\n[DONE]": true, "  [done]  \nmore": true, "We are [DONE] here.": false,
		"[DONE]x": false, "": false} {
		if Done(text) != want {
			t.Errorf("Done(%q) = %t", text, !want)
		}
	}
}

// TestBoundedTranscript: a prompt never passes agent.MaxMessageLen; the
// oldest messages go first, and a marker says how many; a newest message
// too long on its own is cut at a character boundary.
func TestBoundedTranscript(t *testing.T) {
	t.Parallel()
	c := store.Conversation{Topic: "Size", InitialPrompt: strings.Repeat("p", 1000)}
	ps := []Participant{{AgentID: 1, Name: "Ada"}, {AgentID: 2, Name: "Bob"}}
	var msgs []store.ConversationMessage
	for i := range 30 {
		msgs = append(msgs, store.ConversationMessage{Seq: i + 1, AgentID: 1 + int64(i%2), Speaker: ps[i%2].Name,
			Content: fmt.Sprintf("%02d:%s", i+1, strings.Repeat("é", 5000))})
	}
	prompt := turnPrompt(c, ps, ps[0], msgs)
	if len(prompt) > agent.MaxMessageLen || !utf8.ValidString(prompt) {
		t.Fatalf("prompt of %d bytes (valid UTF-8: %t)", len(prompt), utf8.ValidString(prompt))
	}
	kept := strings.Count(prompt, ":"+strings.Repeat("é", 5000))
	if kept < 5 || !strings.Contains(prompt, fmt.Sprintf("[… %d earlier messages left out …]\n%s: %02d:", 30-kept, ps[(30-kept)%2].Name, 30-kept+1)) ||
		!strings.Contains(prompt, "Bob: 30:") || !strings.HasSuffix(prompt, "on a line of its own at the end of your message.") {
		t.Errorf("kept %d messages; prompt starts %q… ends …%q", kept, prompt[:200], prompt[len(prompt)-300:])
	}
	huge := []store.ConversationMessage{{Seq: 1, AgentID: 2, Speaker: "Bob", Content: strings.Repeat("é", agent.MaxMessageLen)}}
	prompt = turnPrompt(c, ps, ps[0], huge)
	if len(prompt) > agent.MaxMessageLen || !utf8.ValidString(prompt) || !strings.Contains(prompt, "Bob: éé") ||
		!strings.Contains(prompt, "é…\n") || strings.Contains(prompt, "left out") {
		t.Errorf("a message too long on its own: %d bytes, valid %t", len(prompt), utf8.ValidString(prompt))
	}
	if p := turnPrompt(c, ps, ps[1], nil); !strings.Contains(p, "yours is the first message") || !strings.Contains(p, "@Ada") {
		t.Errorf("first prompt: %s", p)
	}
}
