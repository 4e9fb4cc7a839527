package event_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
)

func TestPublishValidates(t *testing.T) {
	t.Parallel()
	b := setup(t, event.Config{})
	many := make([]string, event.MaxTopics+1)
	for i := range many {
		many[i] = "t:1"
	}
	tests := []struct {
		name  string
		event event.Event
		field string
	}{
		{"empty type", event.Event{}, "type"},
		{"uppercase type", event.Event{Type: "Pipeline.done"}, "type"},
		{"space in type", event.Event{Type: "pipeline done"}, "type"},
		{"leading dot", event.Event{Type: ".pipeline"}, "type"},
		{"trailing dot", event.Event{Type: "pipeline."}, "type"},
		{"double dot", event.Event{Type: "pipeline..done"}, "type"},
		{"long type", event.Event{Type: strings.Repeat("a", event.MaxTypeLen+1)}, "type"},
		{"too many topics", event.Event{Type: "a.b", Topics: many}, "topics"},
		{"empty topic", event.Event{Type: "a.b", Topics: []string{""}}, "topics[0]"},
		{"long topic", event.Event{Type: "a.b", Topics: []string{"x", strings.Repeat("t", event.MaxTopicLen+1)}}, "topics[1]"},
		{"invalid JSON", event.Event{Type: "a.b", Data: []byte("{nope")}, "data"},
		{"large data", event.Event{Type: "a.b", Data: []byte(`"` + strings.Repeat("x", event.MaxDataLen) + `"`)}, "data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := b.Publish(context.Background(), tt.event)
			if gathering.ErrorCode(err) != gathering.EINVALID {
				t.Fatalf("error %v, want EINVALID", err)
			}
			if fields := gathering.ErrorFields(err); len(fields) != 1 || fields[0].Field != tt.field {
				t.Fatalf("fields %+v, want %s", fields, tt.field)
			}
		})
	}
	if got := b.Stats().Published; got != 0 {
		t.Fatalf("published %d invalid events", got)
	}
}

func TestPublishAcceptsLimitsAndFills(t *testing.T) {
	t.Parallel()
	b := setup(t, event.Config{Instance: "inst-a"})
	topics := make([]string, event.MaxTopics)
	for i := range topics {
		topics[i] = strings.Repeat("t", event.MaxTopicLen)
	}
	e, err := b.Publish(context.Background(), event.Event{Type: strings.Repeat("a", event.MaxTypeLen), Topics: topics})
	if err != nil {
		t.Fatal(err)
	}
	if e.ID == "" || e.At.IsZero() || e.Origin != "inst-a" || string(e.Data) != "{}" {
		t.Fatalf("not filled: %+v", e)
	}
	e = publish(t, b, "user_2.logged_in.v2", `{"n": 1}`)
	if string(e.Data) != `{"n": 1}` {
		t.Fatalf("data %s", e.Data)
	}
}

func TestPublishCopiesCallerSlices(t *testing.T) {
	t.Parallel()
	b := setup(t, event.Config{})
	s := subscribe(t, b, event.SubscribeOptions{})
	topics, data := []string{"run:1"}, []byte(`{"a":1}`)
	if _, err := b.Publish(context.Background(), event.Event{Type: "a.b", Topics: topics, Data: data}); err != nil {
		t.Fatal(err)
	}
	topics[0], data[2] = "run:2", 'b'
	if e := nextEvent(t, s); e.Topics[0] != "run:1" || string(e.Data) != `{"a":1}` {
		t.Fatalf("event shares the caller's slices: %v %s", e.Topics, e.Data)
	}
}

func TestEventJSON(t *testing.T) {
	t.Parallel()
	b := setup(t, event.Config{Instance: "secret-instance"})
	e := publish(t, b, "pipeline.node.completed", `{"node":3}`, "pipeline:7")
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "type", "topics", "data", "timestamp"} {
		if _, ok := got[k]; !ok {
			t.Errorf("%s missing from %s", k, raw)
		}
	}
	if strings.Contains(string(raw), "secret-instance") || strings.Contains(string(raw), "actor") {
		t.Fatalf("origin or empty actor serialised: %s", raw)
	}
	noTopics := publish(t, b, "a.b", "")
	if raw, _ := json.Marshal(noTopics); !strings.Contains(string(raw), `"topics":[]`) {
		t.Fatalf("topics not an empty list: %s", raw)
	}
}
