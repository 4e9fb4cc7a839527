package httpapi

import (
	"strings"
	"testing"
)

func TestProjectActivities(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member := cs[1].token, cs[2].token
	p := newProject(t, s, member, `{"name":"Atlas"}`)
	url := s.srv.URL + "/workspace/" + p + "/activities"
	for _, body := range []string{
		`{"kind":"test_run","summary":"go test ./... passed","details":{"passed":120}}`,
		`{"kind":"build","summary":"built v2"}`,
		`{"kind":"test_run","summary":"go test ./... failed","path":"pkg/a_test.go"}`,
	} {
		code, resp := api(t, "POST", url, member, body)
		mustStatus(t, 201, code, resp, "record an activity")
	}
	code, resp := api(t, "POST", url, viewer, `{"kind":"build","summary":"x"}`)
	mustStatus(t, 403, code, resp, "a viewer records")
	code, resp = api(t, "POST", url, member, `{"kind":"nap","summary":"","details":[1]}`)
	mustStatus(t, 422, code, resp, "an invalid activity")
	for _, field := range []string{`"field":"kind"`, `"field":"summary"`, `"field":"details"`} {
		if !strings.Contains(resp, field) {
			t.Errorf("422 lacks %s: %s", field, resp)
		}
	}
	code, resp = api(t, "GET", url+"?kind=test_run", viewer, "")
	if code != 200 || !strings.Contains(resp, `"total":2`) || strings.Index(resp, "failed") > strings.Index(resp, "passed") {
		t.Fatalf("list test runs newest first: %d %s", code, resp)
	}
	code, resp = api(t, "GET", url+"/stats", viewer, "")
	if code != 200 || !strings.Contains(resp, `"test_run":2`) || !strings.Contains(resp, `"build":1`) || !strings.Contains(resp, `"total":3`) {
		t.Fatalf("stats: %d %s", code, resp)
	}
	code, resp = api(t, "GET", url+"?since=yesterday&user_id=x", viewer, "")
	mustStatus(t, 422, code, resp, "a bad filter")
	code, resp = api(t, "GET", s.srv.URL+"/workspace/999/activities", viewer, "")
	mustStatus(t, 404, code, resp, "an unknown project")
}
