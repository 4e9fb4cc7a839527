package conversation

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/store"
)

// DoneMarker, on a line of its own in an agent's message, ends the
// conversation.
const DoneMarker = "[DONE]"

// Done reports whether content declares the conversation done: a line of
// it, trimmed, is DoneMarker (in any case).
func Done(content string) bool {
	for line := range strings.Lines(content) {
		if strings.EqualFold(strings.TrimSpace(line), DoneMarker) {
			return true
		}
	}
	return false
}

// Line is a message as the transcript shows it: "speaker: content".
func Line(m store.ConversationMessage) string { return m.Speaker + ": " + m.Content }

// Transcript is the messages as plain text, one "speaker: content" entry
// a line (a multi-line content goes on over the next lines).
func Transcript(msgs []store.ConversationMessage) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(Line(m))
		b.WriteByte('\n')
	}
	return b.String()
}

// names lists the participants' names: "Ada, Bob and Cy".
func names(ps []Participant) string {
	list := make([]string, len(ps))
	for i, p := range ps {
		list[i] = p.Name
	}
	if len(list) < 2 {
		return strings.Join(list, "")
	}
	return strings.Join(list[:len(list)-1], ", ") + " and " + list[len(list)-1]
}

// opening is the topic and the initial prompt of c, the start of every
// prompt about it.
func opening(c store.Conversation) string {
	s := "Topic: " + c.Topic + "\n"
	if c.InitialPrompt != "" {
		s += "Opening prompt: " + c.InitialPrompt + "\n"
	}
	return s
}

// turnPrompt asks speaker for its next message in c.
func turnPrompt(c store.Conversation, ps []Participant, speaker Participant, msgs []store.ConversationMessage) string {
	var others []Participant
	for _, p := range ps {
		if p.AgentID != speaker.AgentID {
			others = append(others, p)
		}
	}
	head := fmt.Sprintf("You are %s, in a conversation with %s.\n%s\n", speaker.Name, names(others), opening(c))
	tail := fmt.Sprintf("\nIt is your turn, %s. Write only your next message, without your name in front. "+
		"To address another participant, write @ and their name (for example @%s). When the conversation has "+
		"reached its goal, write %s on a line of its own at the end of your message.", speaker.Name, others[0].Name, DoneMarker)
	return bounded(head, tail, msgs)
}

// selectorPrompt asks the selector agent who speaks next in c.
func selectorPrompt(c store.Conversation, ps []Participant, msgs []store.ConversationMessage) string {
	head := fmt.Sprintf("You choose who speaks next in a conversation between %s.\n%s\n", names(ps), opening(c))
	tail := "\nWho should speak next? Answer with the name of one participant (" + names(ps) + ") and nothing else."
	return bounded(head, tail, msgs)
}

// summaryPrompt asks the first participant to summarise c.
func summaryPrompt(c store.Conversation, ps []Participant, msgs []store.ConversationMessage) string {
	head := fmt.Sprintf("The conversation below, between %s, has ended.\n%s\n", names(ps), opening(c))
	tail := "\nWrite a short summary of it, in a few sentences: what was discussed, what was agreed, and what " +
		"remains open. Write only the summary."
	return bounded(head, tail, msgs)
}

// transcriptIntro and leftOut frame the transcript in a prompt.
const (
	transcriptIntro = "Transcript so far:\n"
	leftOut         = "[… %d earlier messages left out …]\n"
)

// bounded is head, the transcript of msgs and tail, within
// agent.MaxMessageLen bytes: the oldest messages are left out, with a
// marker saying how many, and a newest message too long on its own is
// cut.
func bounded(head, tail string, msgs []store.ConversationMessage) string {
	if len(msgs) == 0 {
		return clip(head+"Transcript so far: nothing yet, yours is the first message.\n"+tail, agent.MaxMessageLen)
	}
	budget := agent.MaxMessageLen - len(head) - len(transcriptIntro) - len(tail) - len(fmt.Sprintf(leftOut, len(msgs)))
	first, used := len(msgs), 0
	for first > 0 && used+len(Line(msgs[first-1]))+1 <= budget {
		first--
		used += len(Line(msgs[first])) + 1
	}
	var b strings.Builder
	b.WriteString(head + transcriptIntro)
	cut := first == len(msgs) // the newest message alone is too long: it is cut
	if cut {
		first--
	}
	if first > 0 {
		fmt.Fprintf(&b, leftOut, first)
	}
	for _, m := range msgs[first:] {
		if cut {
			b.WriteString(clip(Line(m), max(budget-len("…"), 0)) + "…\n")
			break
		}
		b.WriteString(Line(m) + "\n")
	}
	b.WriteString(tail)
	return clip(b.String(), agent.MaxMessageLen)
}

// clip cuts s to at most n bytes, at a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
