package httpapi

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/event"
)

// TestEventScheduledActionFiresOnEvents creates an event action through
// the API and publishes an event it matches: the action's runs show one
// run triggered by the event, with the event as its trigger data.
func TestEventScheduledActionFiresOnEvents(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	member := callers(t, s)[2].token
	hook := newHookServer(t)
	base := s.srv.URL + "/scheduled-actions"

	body := callAPIAction("on deploy", hook.URL, `"schedule_type":"event","event_trigger":{"type":"deploy.*","topics":["service:api"]}`)
	code, resp := api(t, "POST", base, member, body)
	mustStatus(t, 201, code, resp, "create an event action")
	act := decodeAction(t, resp)
	if act.ScheduleType != "event" || act.Status != "active" || !act.NextRunAt.IsZero() ||
		string(act.EventTrigger) != `{"type":"deploy.*","topics":["service:api"]}` {
		t.Fatalf("created %s", resp)
	}
	runsPath := base + "/" + strconv.FormatInt(act.ID, 10) + "/runs"
	e, err := s.api.bus.Publish(t.Context(), event.Event{Type: "deploy.finished", Topics: []string{"service:api"},
		Data: json.RawMessage(`{"version":"1.2.3"}`)})
	if err != nil {
		t.Fatal(err)
	}
	var run ScheduleRunResponse
	within(t, 10*time.Second, "a completed event run", func() bool {
		code, resp = api(t, "GET", runsPath, member, "")
		mustStatus(t, 200, code, resp, "runs")
		runs := decodeList[ScheduleRunResponse](t, resp)
		if len(runs.Items) == 1 {
			run = runs.Items[0]
		}
		return run.Status == "completed"
	})
	var trigger struct {
		ID    string          `json:"id"`
		Type  string          `json:"type"`
		Data  json.RawMessage `json:"data"`
		Depth int             `json:"depth"`
	}
	if err := json.Unmarshal(run.TriggerData, &trigger); err != nil || trigger.ID != e.ID || trigger.Type != e.Type ||
		string(trigger.Data) != string(e.Data) || trigger.Depth != 1 || run.TriggeredBy != "event" || run.Depth != 1 {
		t.Errorf("run %s", resp)
	}
	if n := len(hook.got()); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestEventScheduledActionValidation(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	member := callers(t, s)[2].token
	base := s.srv.URL + "/scheduled-actions"
	const target = "http://127.0.0.1:1/hook"
	for _, c := range []struct {
		what, schedule string
		fields         []string
	}{
		{"no trigger", `"schedule_type":"event"`, []string{"event_trigger"}},
		{"trigger not an object", `"schedule_type":"event","event_trigger":"deploy.*"`, []string{"event_trigger"}},
		{"trigger of another shape", `"schedule_type":"event","event_trigger":{"type":"a","topics":"b"}`, []string{"event_trigger"}},
		{"no type", `"schedule_type":"event","event_trigger":{"topics":["service:api"]}`, []string{"event_trigger/type"}},
		{"type that matches nothing", `"schedule_type":"event","event_trigger":{"type":"Deploy.*"}`, []string{"event_trigger/type"}},
		{"empty topic", `"schedule_type":"event","event_trigger":{"type":"*","topics":["a",""]}`, []string{"event_trigger/topics/1"}},
		{"a time with an event", `"schedule_type":"event","event_trigger":{"type":"*"},"cron_expression":"0 3 * * *","interval_seconds":60`,
			[]string{"cron_expression", "interval_seconds"}},
		{"a trigger on a timer", `"schedule_type":"interval","interval_seconds":60,"event_trigger":{"type":"*"}`, []string{"event_trigger"}},
	} {
		code, resp := api(t, "POST", base, member, callAPIAction("x", target, c.schedule))
		if fields := problemFields(t, resp); code != 422 || !slices.Equal(fields, c.fields) {
			t.Errorf("%s: %d %s, want 422 naming %v", c.what, code, resp, c.fields)
		}
	}

	// A timed action becomes an event action: it no longer has a next run.
	code, resp := api(t, "POST", base, member, callAPIAction("daily", target, `"schedule_type":"cron","cron_expression":"0 3 * * *"`))
	mustStatus(t, 201, code, resp, "create")
	path := fmt.Sprintf("%s/%d", base, decodeAction(t, resp).ID)
	code, resp = api(t, "PUT", path, member, callAPIAction("daily", target, `"schedule_type":"event","event_trigger":{"type":"pipeline.run.failed"}`))
	mustStatus(t, 200, code, resp, "make it an event action")
	if act := decodeAction(t, resp); act.ScheduleType != "event" || !act.NextRunAt.IsZero() || act.Status != "active" {
		t.Errorf("updated: %s", resp)
	}
}
