package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// Limits on a published event.
const (
	MaxTypeLen  = 100     // characters in Event.Type
	MaxTopics   = 32      // entries in Event.Topics
	MaxTopicLen = 200     // characters in one topic
	MaxDataLen  = 1 << 20 // bytes in Event.Data
)

// Event is one thing that happened. Its JSON form is
// {"id","type","topics","actor","data","timestamp"}; Origin is never
// serialised to clients. Subscribers share the same Event values, so they
// must treat Topics and Data as read-only.
type Event struct {
	ID     string          `json:"id"`              // sortable, unique across instances
	Type   string          `json:"type"`            // dotted: pipeline.node.completed
	Topics []string        `json:"topics"`          // pipeline:7, run:42, circle:core
	Actor  string          `json:"actor,omitempty"` // "user:3", "agent:7"
	Data   json.RawMessage `json:"data"`
	At     time.Time       `json:"timestamp"`
	Origin string          `json:"-"` // id of the instance that published it
}

// emptyData is the payload of an event published without data.
var emptyData = json.RawMessage("{}")

// prepare validates e and returns a copy that no longer shares Topics or
// Data with the caller.
func prepare(e Event) (Event, error) {
	if err := validate(e); err != nil {
		return Event{}, err
	}
	e.Topics = append(make([]string, 0, len(e.Topics)), e.Topics...)
	if len(e.Data) == 0 {
		e.Data = emptyData
	} else {
		e.Data = bytes.Clone(e.Data)
	}
	return e, nil
}

// validate returns an EINVALID error naming every field that breaks the
// limits.
func validate(e Event) error {
	var fields []gathering.FieldError
	add := func(field, format string, args ...any) {
		fields = append(fields, gathering.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if msg := typeProblem(e.Type); msg != "" {
		add("type", "%s", msg)
	}
	if len(e.Topics) > MaxTopics {
		add("topics", "at most %d topics", MaxTopics)
	}
	for i, t := range e.Topics {
		if t == "" || len(t) > MaxTopicLen {
			add(fmt.Sprintf("topics[%d]", i), "must be 1 to %d characters", MaxTopicLen)
		}
	}
	if len(e.Data) > MaxDataLen {
		add("data", "at most %d bytes", MaxDataLen)
	} else if len(e.Data) > 0 && !json.Valid(e.Data) {
		add("data", "must be valid JSON")
	}
	if fields != nil {
		return gathering.Invalid("The event is invalid.", fields...)
	}
	return nil
}

// typeProblem says what is wrong with an event type, or "" when nothing is:
// 1 to 100 characters of [a-z0-9_] in dot-separated, non-empty segments.
func typeProblem(t string) string {
	if t == "" || len(t) > MaxTypeLen {
		return fmt.Sprintf("must be 1 to %d characters", MaxTypeLen)
	}
	prev := byte('.')
	for i := range len(t) {
		c := t[i]
		switch {
		case c == '.' && prev == '.':
			return "must be dot-separated words"
		case c != '.' && c != '_' && (c < 'a' || c > 'z') && (c < '0' || c > '9'):
			return "may only contain a-z, 0-9, _ and ."
		}
		prev = c
	}
	if prev == '.' {
		return "must be dot-separated words"
	}
	return ""
}
