package mcp

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
)

func TestParseServers(t *testing.T) {
	got, err := ParseServers(`[
		{"name": "files", "command": ["npx", "-y", "files-server"], "env": {"B": "2", "A": "1"}},
		{"name": "web_1", "url": "https://mcp.example.com/mcp"}
	]`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Server{
		{Name: "files", Command: []string{"npx", "-y", "files-server"}, Env: []string{"A=1", "B=2"}},
		{Name: "web_1", URL: "https://mcp.example.com/mcp"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, empty := range []string{"", "  ", "[]"} {
		if got, err := ParseServers(empty); err != nil || len(got) != 0 {
			t.Errorf("ParseServers(%q) = %v, %v", empty, got, err)
		}
	}
}

func TestParseServersInvalid(t *testing.T) {
	for _, tc := range []struct{ setting, fields, message string }{
		{`{`, "", "JSON array"},
		{`{"name": "x"}`, "", "JSON array"},
		{`[null]`, "/0", `entry 1 (""): it is null`},
		{`[{"command": ["x"]}]`, "/0/name", `entry 1 (""): name is required`},
		{`[{"name": "Bad-Name", "command": ["x"]}]`, "/0/name", `entry 1 ("Bad-Name"): name must be`},
		{`[{"name": "x", "command": ["x"], "url": "http://h"}]`, "/0/url", "cannot be set together with command"},
		{`[{"name": "x"}]`, "/0", `entry 1 ("x"): it needs either command or url`},
		{`[{"name": "x", "url": "ftp://h"}]`, "/0/url", "http:// or https://"},
		{`[{"name": "x", "url": "http://h", "env": {"A": "1"}}]`, "/0/env", "only to command servers"},
		{`[{"name": "x", "command": []}]`, "/0/command", "must start with a program"},
		{`[{"name": "x", "command": ["a", "b\u0000"]}]`, "/0/command/1", "NUL"},
		{`[{"name": "x", "command": ["a"], "env": {"1BAD": "v"}}]`, "/0/env/1BAD", "env.1BAD must be a name"},
		{`[{"name": "x", "cmd": ["a"]}]`, "/0", "unknown field"},
		{`[{"name": "a", "command": ["x"]}, {"name": "a", "url": "http://h"}]`, "/1/name", `entry 2 ("a"): name is used by an earlier entry`},
		{`[{"name": "a"}, {"name": "B", "command": ["x"]}]`, "/0,/1/name", `entry 2 ("B")`},
	} {
		got, err := ParseServers(tc.setting)
		msg := gathering.ErrorMessage(err)
		if gathering.ErrorCode(err) != gathering.EINVALID || fieldsOf(err) != tc.fields ||
			!strings.HasPrefix(msg, Setting+": ") || !strings.Contains(msg, tc.message) {
			t.Errorf("ParseServers(%s) = %v, %v (fields %q), want invalid %s mentioning %q", tc.setting, got, err, fieldsOf(err), tc.fields, tc.message)
		}
	}
}
