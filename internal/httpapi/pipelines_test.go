package httpapi

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

func TestPipelineDefinitions(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	member := callers(t, s)[2].token
	// Key order, spacing and an escape that must come back byte for byte.
	nodes := `[{"id":"a","type":"trigger","config":{}},{"type":"tool","id":"b","config":{"tool":"test.echo","input":{"text":"{{ trigger.word }}"}}},{"id":"c","type":"condition","config":{"expression":"nodes.b.output.text == \"hi\""}}]`
	cyclic := `[{"id":"a","to":"b","from":"a"},{"id":"bc","from":"b","to":"c"},{"id":"cb","from":"c","to":"b"}]`
	code, body := api(t, "POST", s.srv.URL+"/pipelines", member, `{"name":"Greeter","nodes":`+nodes+`,"edges":`+cyclic+`}`)
	mustStatus(t, 201, code, body, "an invalid draft is saved")
	var p PipelineResponse
	if err := json.Unmarshal([]byte(body), &p); err != nil || string(p.Nodes) != nodes || p.Status != "draft" || p.Version != 1 {
		t.Fatalf("created: %s", body)
	}
	id := strconv.FormatInt(p.ID, 10)
	code, body = api(t, "POST", s.srv.URL+"/pipelines/"+id+"/validate", member, "")
	if code != 200 || !strings.Contains(body, `"valid":false`) || !strings.Contains(body, "b → c → b") {
		t.Fatalf("validate: %d %s", code, body)
	}
	code, body = api(t, "POST", s.srv.URL+"/pipelines/"+id+"/activate", member, "")
	if code != 422 || !strings.Contains(body, "b → c → b") {
		t.Fatalf("activate an invalid pipeline: %d %s", code, body)
	}
	fixed := `[{"id":"ab","from":"a","to":"b"},{"id":"bc","from":"b","to":"c"}]`
	code, body = api(t, "PUT", s.srv.URL+"/pipelines/"+id, member, `{"name":"Greeter","nodes":`+nodes+`,"edges":`+fixed+`,"version":7}`)
	mustStatus(t, 409, code, body, "update with a stale version")
	code, body = api(t, "PUT", s.srv.URL+"/pipelines/"+id, member, `{"name":"Greeter","nodes":`+nodes+`,"edges":`+fixed+`,"version":1}`)
	mustStatus(t, 200, code, body, "update")
	code, body = api(t, "POST", s.srv.URL+"/pipelines/"+id+"/activate", member, "")
	if code != 200 || !strings.Contains(body, `"status":"active"`) {
		t.Fatalf("activate: %d %s", code, body)
	}
	code, body = api(t, "POST", s.srv.URL+"/pipelines/"+id+"/toggle", member, "")
	if code != 200 || !strings.Contains(body, `"status":"paused"`) {
		t.Fatalf("toggle: %d %s", code, body)
	}
	badConfig := `[{"id":"x","type":"agent","config":{"agent_id":99999,"task":"Summarise."}},{"id":"y","type":"agent","config":{"agent_id":1}}]`
	code, body = api(t, "POST", s.srv.URL+"/pipelines", member, `{"name":"Broken","status":"active","nodes":`+badConfig+`}`)
	if code != 422 || !strings.Contains(body, `"nodes/y/config/task"`) || !strings.Contains(body, `"nodes/x/config/agent_id"`) {
		t.Fatalf("an active pipeline with a bad agent node: %d %s", code, body)
	}
	code, body = api(t, "GET", s.srv.URL+"/pipelines?status=paused", member, "")
	if list := decodeList[PipelineResponse](t, body); code != 200 || list.Total != 1 {
		t.Fatalf("list: %d %s", code, body)
	}
	code, body = api(t, "DELETE", s.srv.URL+"/pipelines/"+id, member, "")
	mustStatus(t, 204, code, body, "delete")
	code, body = api(t, "GET", s.srv.URL+"/pipelines/"+id, member, "")
	mustStatus(t, 404, code, body, "get after delete")
}
