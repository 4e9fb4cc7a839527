package httpapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookServer is an API endpoint that records the Idempotency-Key of each
// request it gets.
type hookServer struct {
	*httptest.Server
	mu   sync.Mutex
	keys []string
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.keys = append(h.keys, r.Header.Get("Idempotency-Key"))
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) got() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.keys)
}

// apiHeaders is api that also returns the response headers.
func apiHeaders(t *testing.T, method, url, token, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// within polls cond until it holds, failing the test after limit.
func within(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
	}
}

func decodeAction(t *testing.T, body string) ScheduledActionResponse {
	t.Helper()
	var a ScheduledActionResponse
	if err := json.Unmarshal([]byte(body), &a); err != nil || a.ID == 0 {
		t.Fatalf("not a scheduled action: %s", body)
	}
	return a
}

func decodeScheduleRun(t *testing.T, body string) ScheduleRunResponse {
	t.Helper()
	var r ScheduleRunResponse
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.ID == "" {
		t.Fatalf("not a schedule run: %s", body)
	}
	return r
}

// callAPIAction is the body of a call_api action posting to target.
func callAPIAction(name, target, schedule string) string {
	return fmt.Sprintf(`{"name":%q,"action_type":"call_api","action_config":{"method":"POST","url":%q,"body":{"hello":"world"}},%s}`,
		name, target, schedule)
}

func TestScheduledActionFiresPausesResumes(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member := cs[1].token, cs[2].token
	hook := newHookServer(t)
	base := s.srv.URL + "/scheduled-actions"

	body := callAPIAction("ping", hook.URL, `"schedule_type":"interval","interval_seconds":1,"tags":["probe"]`)
	code, header, resp := apiHeaders(t, "POST", base, member, body)
	mustStatus(t, 201, code, resp, "create")
	act := decodeAction(t, resp)
	id := strconv.FormatInt(act.ID, 10)
	config := fmt.Sprintf(`{"method":"POST","url":%q,"body":{"hello":"world"}}`, hook.URL)
	if header.Get("Location") != "/scheduled-actions/"+id || string(act.ActionConfig) != config || act.Status != "active" ||
		act.NextRunAt.IsZero() || act.Version != 1 || act.TimeZone != "UTC" || act.OverlapPolicy != "skip" || act.CreatedBy == 0 {
		t.Fatalf("created %s (Location %q)", resp, header.Get("Location"))
	}
	within(t, 10*time.Second, "two calls", func() bool { return len(hook.got()) >= 2 })

	// Each call carries <action id>:<scheduled_for> of a completed run.
	var runs List[ScheduleRunResponse]
	within(t, 5*time.Second, "two completed runs", func() bool {
		code, resp = api(t, "GET", base+"/"+id+"/runs", viewer, "")
		mustStatus(t, 200, code, resp, "runs")
		runs = decodeList[ScheduleRunResponse](t, resp)
		completed := 0
		for _, r := range runs.Items {
			if r.Status == "completed" {
				completed++
			}
		}
		return completed >= 2
	})
	keys := map[string]ScheduleRunResponse{}
	for _, r := range runs.Items {
		keys[id+":"+r.ScheduledFor.UTC().Format(time.RFC3339Nano)] = r
	}
	for _, k := range hook.got()[:2] {
		r, ok := keys[k]
		if !ok {
			t.Fatalf("call with key %q matches no run of %s", k, resp)
		}
		if r.Status == "completed" && (r.TriggeredBy != "scheduler" || r.Attempt != 1 || !strings.Contains(string(r.Result), `"status":200`) ||
			r.DurationMS == nil || r.StartedAt.IsZero() || r.FinishedAt.IsZero()) {
			t.Errorf("run %+v", r)
		}
	}
	if strings.Contains(resp, "owner") || strings.Contains(resp, "epoch") || strings.Contains(resp, "lease") {
		t.Errorf("runs show their lease: %s", resp)
	}

	code, resp = api(t, "GET", base+"?tag=probe&action_type=call_api&status=active", viewer, "")
	if list := decodeList[ScheduledActionResponse](t, resp); code != 200 || list.Total != 1 || list.Items[0].ID != act.ID {
		t.Fatalf("list: %d %s", code, resp)
	}
	code, resp = api(t, "GET", base+"?tag=other", viewer, "")
	if list := decodeList[ScheduledActionResponse](t, resp); code != 200 || list.Total != 0 || list.Items == nil {
		t.Fatalf("list of another tag: %d %s", code, resp)
	}
	code, resp = api(t, "GET", base+"?status=sleeping&agent_id=x", viewer, "")
	if code != 422 || !slices.Equal(problemFields(t, resp), []string{"agent_id", "status"}) {
		t.Fatalf("list with a bad filter: %d %s", code, resp)
	}

	code, resp = api(t, "POST", base+"/"+id+"/pause", member, "")
	mustStatus(t, 200, code, resp, "pause")
	if paused := decodeAction(t, resp); paused.Status != "paused" || !paused.NextRunAt.IsZero() {
		t.Fatalf("paused: %s", resp)
	}
	time.Sleep(300 * time.Millisecond) // a call already on its way may still land
	calls := len(hook.got())
	time.Sleep(2 * time.Second)
	if n := len(hook.got()); n != calls {
		t.Fatalf("%d calls while paused", n-calls)
	}

	code, resp = api(t, "POST", base+"/"+id+"/resume", member, "")
	mustStatus(t, 200, code, resp, "resume")
	if resumed := decodeAction(t, resp); resumed.Status != "active" || resumed.NextRunAt.IsZero() {
		t.Fatalf("resumed: %s", resp)
	}
	within(t, 5*time.Second, "a call after resuming", func() bool { return len(hook.got()) > calls })

	code, resp = api(t, "DELETE", base+"/"+id, member, "")
	mustStatus(t, 204, code, resp, "delete")
	for _, path := range []string{"/" + id, "/" + id + "/runs"} {
		code, resp = api(t, "GET", base+path, viewer, "")
		mustStatus(t, 404, code, resp, "GET "+path+" after delete")
	}
	for _, op := range []string{"pause", "resume", "trigger"} {
		code, resp = api(t, "POST", base+"/"+id+"/"+op, member, "")
		mustStatus(t, 404, code, resp, op+" after delete")
	}
}

func TestTriggerScheduledAction(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member := cs[1].token, cs[2].token
	hook := newHookServer(t)
	base := s.srv.URL + "/scheduled-actions"
	code, resp := api(t, "POST", base, member, callAPIAction("nightly", hook.URL, `"schedule_type":"cron","cron_expression":"0 3 * * *","timezone":"Europe/Paris"`))
	mustStatus(t, 201, code, resp, "create")
	id := strconv.FormatInt(decodeAction(t, resp).ID, 10)

	code, header, resp := apiHeaders(t, "POST", base+"/"+id+"/trigger", member, "")
	mustStatus(t, 202, code, resp, "trigger")
	run := decodeScheduleRun(t, resp)
	location := header.Get("Location")
	if location != "/scheduled-actions/"+id+"/runs/"+run.ID || run.TriggeredBy != "manual" || run.Attempt != 1 {
		t.Fatalf("triggered %s (Location %q)", resp, location)
	}
	within(t, 5*time.Second, "the triggered run completes", func() bool {
		code, resp = api(t, "GET", s.srv.URL+location, viewer, "")
		mustStatus(t, 200, code, resp, "run")
		run = decodeScheduleRun(t, resp)
		return run.Status == "completed"
	})
	if !strings.Contains(string(run.Result), `"status":200`) || run.DurationMS == nil {
		t.Errorf("completed run %s", resp)
	}
	if got, want := hook.got(), id+":"+run.ScheduledFor.UTC().Format(time.RFC3339Nano); len(got) != 1 || got[0] != want {
		t.Errorf("calls %q, want one with key %q", got, want)
	}

	// A run is found only under its own action.
	code, resp = api(t, "POST", base, member, callAPIAction("other", hook.URL, `"schedule_type":"cron","cron_expression":"0 3 * * *"`))
	mustStatus(t, 201, code, resp, "create another")
	other := strconv.FormatInt(decodeAction(t, resp).ID, 10)
	code, resp = api(t, "GET", base+"/"+other+"/runs/"+run.ID, viewer, "")
	mustStatus(t, 404, code, resp, "a run under another action")
	code, resp = api(t, "GET", base+"/"+id+"/runs/no-such-run", viewer, "")
	mustStatus(t, 404, code, resp, "an unknown run")
	code, resp = api(t, "POST", base+"/99999/trigger", member, "")
	mustStatus(t, 404, code, resp, "trigger an unknown action")
	code, resp = api(t, "POST", base+"/"+id+"/trigger", viewer, "")
	mustStatus(t, 403, code, resp, "a viewer triggers")
}

func TestScheduledActionValidation(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	anon, viewer, member := cs[0].token, cs[1].token, cs[2].token
	base := s.srv.URL + "/scheduled-actions"
	const target = "http://127.0.0.1:1/hook"

	bad := `{"name":"bad","action_type":"run_later","action_config":{},"schedule_type":"cron","cron_expression":"61 * * * *",` +
		`"timezone":"Mars/Olympus","overlap_policy":"sometimes"}`
	code, resp := api(t, "POST", base, member, bad)
	mustStatus(t, 422, code, resp, "invalid action")
	fields := problemFields(t, resp)
	for _, want := range []string{"cron_expression", "timezone", "action_type", "overlap_policy"} {
		if !slices.Contains(fields, want) {
			t.Errorf("problem lacks %s: %s", want, resp)
		}
	}
	for _, c := range []struct{ what, body, field string }{
		{"unknown field", callAPIAction("x", target, `"schedule_type":"once","run_at":"2030-01-01T00:00:00Z","colour":"red"`), "colour"},
		{"bad run_at", callAPIAction("x", target, `"schedule_type":"once","run_at":"tomorrow"`), "run_at"},
		{"no config", `{"name":"x","action_type":"call_api","schedule_type":"interval","interval_seconds":60}`, "action_config"},
		{"config not an object", `{"name":"x","action_type":"call_api","action_config":[1],"schedule_type":"interval","interval_seconds":60}`, "action_config"},
		{"config without url", `{"name":"x","action_type":"call_api","action_config":{"method":"GET"},"schedule_type":"interval","interval_seconds":60}`, "action_config"},
		{"no schedule type", callAPIAction("x", target, `"interval_seconds":60`), "schedule_type"},
		{"interval of zero", callAPIAction("x", target, `"schedule_type":"interval"`), "interval_seconds"},
		{"no name", callAPIAction("", target, `"schedule_type":"interval","interval_seconds":60`), "name"},
	} {
		code, resp := api(t, "POST", base, member, c.body)
		if fields := problemFields(t, resp); code != 422 || !slices.ContainsFunc(fields, func(f string) bool { return strings.HasPrefix(f, c.field) }) {
			t.Errorf("%s: %d %s, want 422 naming %s", c.what, code, resp, c.field)
		}
	}

	good := callAPIAction("daily", target, `"schedule_type":"cron","cron_expression":"0 3 * * *"`)
	code, resp = api(t, "POST", base, viewer, good)
	mustStatus(t, 403, code, resp, "a viewer creates")
	code, resp = api(t, "POST", base, anon, good)
	mustStatus(t, 401, code, resp, "anonymous creates")
	code, resp = api(t, "POST", base, member, good)
	mustStatus(t, 201, code, resp, "create")
	act := decodeAction(t, resp)
	path := base + "/" + strconv.FormatInt(act.ID, 10)

	update := func(version string) string {
		return callAPIAction("daily", target, `"schedule_type":"cron","cron_expression":"30 4 * * *","timezone":"Asia/Tokyo"`+version)
	}
	code, resp = api(t, "PUT", path, member, update(`,"version":7`))
	mustStatus(t, 409, code, resp, "update with a stale version")
	code, resp = api(t, "PUT", path, viewer, update(`,"version":1`))
	mustStatus(t, 403, code, resp, "a viewer updates")
	code, resp = api(t, "PUT", path, member, update(`,"version":1`))
	mustStatus(t, 200, code, resp, "update")
	updated := decodeAction(t, resp)
	if updated.Version != 2 || updated.CronExpression != "30 4 * * *" || updated.TimeZone != "Asia/Tokyo" ||
		updated.NextRunAt.In(time.UTC).Hour() != 19 || updated.CreatedAt.IsZero() || updated.CreatedBy != act.CreatedBy {
		t.Fatalf("updated: %s", resp)
	}
	code, resp = api(t, "PUT", path, member, update(`,"version":1`))
	mustStatus(t, 409, code, resp, "update with the version replaced")
	code, resp = api(t, "PUT", path, member, update(""))
	if code != 200 || decodeAction(t, resp).Version != 3 {
		t.Fatalf("update without a version: %d %s", code, resp)
	}
	code, resp = api(t, "PUT", path, member, `{"name":"daily","action_type":"call_api","action_config":{},"schedule_type":"cron","cron_expression":"0 3 * * *"}`)
	if code != 422 || !slices.ContainsFunc(problemFields(t, resp), func(f string) bool { return strings.HasPrefix(f, "action_config") }) {
		t.Fatalf("invalid update: %d %s", code, resp)
	}
	code, resp = api(t, "PUT", base+"/99999", member, update(""))
	mustStatus(t, 404, code, resp, "update an unknown action")
	code, resp = api(t, "DELETE", path, viewer, "")
	mustStatus(t, 403, code, resp, "a viewer deletes")
}

func TestSchedulePreview(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	viewer := callers(t, s)[1].token
	preview := func(query url.Values) (int, string) {
		return api(t, "GET", s.srv.URL+"/scheduled-actions/preview?"+query.Encode(), viewer, "")
	}
	times := func(body string) []time.Time {
		var p PreviewResponse
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatalf("not a preview: %s", body)
		}
		return p.Times
	}

	// A static segment, served before /scheduled-actions/{id}.
	code, body := preview(url.Values{"cron": {"0 9 * * MON-FRI"}, "timezone": {"Europe/Paris"}, "count": {"3"}})
	mustStatus(t, 200, code, body, "preview")
	got := times(body)
	paris, _ := time.LoadLocation("Europe/Paris")
	if len(got) != 3 || !strings.Contains(body, "Z\"") {
		t.Fatalf("preview: %s", body)
	}
	for i, at := range got {
		if h := at.UTC().Hour(); (h != 7 && h != 8) || at.Minute() != 0 || at.In(paris).Hour() != 9 ||
			at.In(paris).Weekday() == time.Saturday || at.In(paris).Weekday() == time.Sunday || (i > 0 && !at.After(got[i-1])) {
			t.Fatalf("preview: %s", body)
		}
	}

	// From a Friday morning across the spring change of 2026-03-29.
	code, body = preview(url.Values{"cron": {"0 9 * * MON-FRI"}, "timezone": {"Europe/Paris"}, "count": {"3"}, "from": {"2026-03-27T06:00:00Z"}})
	mustStatus(t, 200, code, body, "preview from a Friday")
	if want := `{"times":["2026-03-27T08:00:00Z","2026-03-30T07:00:00Z","2026-03-31T07:00:00Z"]}`; strings.TrimSpace(body) != want {
		t.Fatalf("preview from a Friday: %s, want %s", body, want)
	}
	code, body = preview(url.Values{"schedule_type": {"interval"}, "interval_seconds": {"90"}, "start_date": {"2026-01-01T00:00:00Z"},
		"end_date": {"2026-01-01T00:04:00Z"}, "from": {"2025-12-31T00:00:00Z"}})
	if want := `{"times":["2026-01-01T00:00:00Z","2026-01-01T00:01:30Z","2026-01-01T00:03:00Z"]}`; code != 200 || strings.TrimSpace(body) != want {
		t.Fatalf("interval preview: %d %s, want %s", code, body, want)
	}
	if got := times(body); len(got) != 3 {
		t.Fatalf("interval preview: %s", body)
	}
	code, body = preview(url.Values{"run_at": {"2030-05-01T10:00:00+02:00"}})
	if want := `{"times":["2030-05-01T08:00:00Z"]}`; code != 200 || strings.TrimSpace(body) != want {
		t.Fatalf("once preview: %d %s, want %s", code, body, want)
	}

	for _, c := range []struct {
		query url.Values
		field string
	}{
		{url.Values{"cron": {"61 * * * *"}}, "cron"},
		{url.Values{"cron": {"0 9 * * *"}, "count": {"0"}}, "count"},
		{url.Values{"cron": {"0 9 * * *"}, "count": {"101"}}, "count"},
		{url.Values{"cron": {"0 9 * * *"}, "count": {"many"}}, "count"},
		{url.Values{"cron": {"0 9 * * *"}, "timezone": {"Mars/Olympus"}}, "timezone"},
		{url.Values{"cron": {"0 9 * * *"}, "from": {"yesterday"}}, "from"},
		{url.Values{"schedule_type": {"interval"}, "interval_seconds": {"0"}}, "interval_seconds"},
		{url.Values{}, "schedule_type"},
	} {
		code, body := preview(c.query)
		if code != 422 || !slices.Equal(problemFields(t, body), []string{c.field}) {
			t.Errorf("preview %s: %d %s, want 422 naming %s", c.query.Encode(), code, body, c.field)
		}
	}
	code, body = api(t, "GET", s.srv.URL+"/scheduled-actions/preview?cron=0+9+*+*+*", "", "")
	mustStatus(t, 401, code, body, "anonymous preview")
}
