package pipeline

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestProblemPath(t *testing.T) {
	for _, c := range []struct {
		p    Problem
		want string
	}{
		{Problem{NodeID: "fetch", Field: "config/task"}, "nodes/fetch/config/task"},
		{Problem{NodeID: "a"}, "nodes/a"},
		{Problem{EdgeID: "e1", Field: "condition"}, "edges/e1/condition"},
		{Problem{Field: "settings/max_parallel"}, "settings/max_parallel"},
	} {
		if got := c.p.Path(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.p, got, c.want)
		}
	}
}

func TestCheckParsesThenValidates(t *testing.T) {
	if got := Check(json.RawMessage(`{`), nil, nil, Refs{}); len(got) == 0 {
		t.Fatal("malformed nodes passed")
	}
	nodes := json.RawMessage(`[{"id":"a","type":"trigger","config":{}},{"id":"b","type":"delay","config":{"seconds":1}}]`)
	cyclic := json.RawMessage(`[{"id":"ab","from":"a","to":"b"},{"id":"bb","from":"b","to":"b"}]`)
	got := Check(nodes, cyclic, nil, Refs{})
	if len(got) == 0 || !strings.Contains(got[0].Path(), "b") {
		t.Fatalf("a self-loop passed: %+v", got)
	}
	if got := Check(nodes, json.RawMessage(`[{"id":"ab","from":"a","to":"b"}]`), nil, Refs{}); len(got) != 0 {
		t.Fatalf("a valid definition: %+v", got)
	}
}
