package conversation

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gathering/gathering/internal/store"
)

// Selection tells how a turn's speaker was chosen; the turn's event
// carries it.
type Selection struct {
	Strategy store.TurnStrategy `json:"strategy"`
	// By is order (round robin), mention, least_recent, selector (the
	// model's answer) or fallback (round robin after an answer that named
	// no participant, or a selector that failed).
	By     string `json:"by"`
	Answer string `json:"answer,omitempty"` // the selector's answer
	Reason string `json:"reason,omitempty"` // why the selector was not followed
}

// Mentions returns the participants that text names with @name, matched
// case-insensitively (the longest name wins), in the order of their first
// mention, without repeats and without author (0: a human, who may mention
// anyone). An @ inside a word (an e-mail address) is no mention.
func Mentions(text string, ps []Participant, author int64) []int64 {
	out := []int64{}
	for i := strings.IndexByte(text, '@'); i >= 0; {
		before, _ := utf8.DecodeLastRuneInString(text[:i])
		if i == 0 || !wordRune(before) {
			if p, ok := mentionAt(text[i+1:], ps); ok && p.AgentID != author && !slices.Contains(out, p.AgentID) {
				out = append(out, p.AgentID)
			}
		}
		next := strings.IndexByte(text[i+1:], '@')
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return out
}

// mentionAt returns the participant whose name rest begins with, followed
// by a word boundary; the longest such name wins.
func mentionAt(rest string, ps []Participant) (Participant, bool) {
	var best Participant
	for _, p := range ps {
		n := len(p.Name)
		if n == 0 || n <= len(best.Name) || len(rest) < n || !strings.EqualFold(rest[:n], p.Name) {
			continue
		}
		if after, _ := utf8.DecodeRuneInString(rest[n:]); n == len(rest) || !wordRune(after) {
			best = p
		}
	}
	return best, best.Name != ""
}

// wordRune reports whether r continues a word (a name or an address).
func wordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// lastSpeaker is the agent of the last agent's message, 0 when none spoke.
func lastSpeaker(msgs []store.ConversationMessage) int64 {
	for _, m := range slices.Backward(msgs) {
		if m.AgentID != 0 {
			return m.AgentID
		}
	}
	return 0
}

// index is the position of agent id among ps, -1 when it is none of them.
func index(ps []Participant, id int64) int {
	return slices.IndexFunc(ps, func(p Participant) bool { return p.AgentID == id })
}

// roundRobin is the participant after the last speaker, in order; the
// first when none spoke yet.
func roundRobin(ps []Participant, msgs []store.ConversationMessage) int {
	return (index(ps, lastSpeaker(msgs)) + 1) % len(ps)
}

// mentioned is the first participant the last message mentions, other
// than its author.
func mentioned(ps []Participant, msgs []store.ConversationMessage) (int, bool) {
	if len(msgs) == 0 {
		return 0, false
	}
	last := msgs[len(msgs)-1]
	for _, id := range last.Mentions {
		if i := index(ps, id); i >= 0 && id != last.AgentID {
			return i, true
		}
	}
	return 0, false
}

// leastRecent is the participant who spoke least recently (never is least
// recent; ties go in order), never the last speaker.
func leastRecent(ps []Participant, msgs []store.ConversationMessage) int {
	last := lastSpeaker(msgs)
	best, bestAt := 0, len(msgs)
	for i, p := range slices.Backward(ps) { // backward, so that the first of a tie wins
		if p.AgentID == last {
			continue
		}
		at := -1
		for j, m := range msgs {
			if m.AgentID == p.AgentID {
				at = j
			}
		}
		if at <= bestAt {
			best, bestAt = i, at
		}
	}
	return best
}

// choose picks the next speaker by a strategy that asks no model.
func choose(strategy store.TurnStrategy, ps []Participant, msgs []store.ConversationMessage) (int, Selection) {
	sel := Selection{Strategy: strategy}
	if strategy == store.MentionBased || strategy == store.FreeForm {
		if i, ok := mentioned(ps, msgs); ok {
			sel.By = "mention"
			return i, sel
		}
	}
	if strategy == store.FreeForm {
		sel.By = "least_recent"
		return leastRecent(ps, msgs), sel
	}
	sel.By = "order"
	return roundRobin(ps, msgs), sel
}

// parseChoice reads the participant a selector's answer names: the whole
// answer (without quotes, @ or punctuation) is a name, or exactly one
// participant's name appears in it as a word.
func parseChoice(answer string, ps []Participant) (int, bool) {
	clean := strings.Trim(strings.TrimSpace(answer), " \t\r\n\"'`*_.,!?:;@")
	for i, p := range ps {
		if p.Name != "" && strings.EqualFold(clean, p.Name) {
			return i, true
		}
	}
	found := -1
	for i, p := range ps {
		if !containsWord(answer, p.Name) {
			continue
		}
		if found >= 0 {
			return 0, false
		}
		found = i
	}
	return found, found >= 0
}

// containsWord reports whether name appears in text, case-insensitively,
// as a whole word.
func containsWord(text, name string) bool {
	if name == "" {
		return false
	}
	text, name = strings.ToLower(text), strings.ToLower(name)
	for from := 0; ; {
		i := strings.Index(text[from:], name)
		if i < 0 {
			return false
		}
		i += from
		before, _ := utf8.DecodeLastRuneInString(text[:i])
		after, _ := utf8.DecodeRuneInString(text[i+len(name):])
		if (i == 0 || !wordRune(before)) && (i+len(name) == len(text) || !wordRune(after)) {
			return true
		}
		from = i + 1
	}
}
