package tool

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

const itemsSchema = `{
	"type": "object",
	"additionalProperties": false,
	"required": ["expression"],
	"properties": {
		"expression": {"type": "string", "pattern": "^[0-9+ ]+$"},
		"mode": {"enum": ["fast", "exact"]},
		"count": {"type": "integer", "minimum": 1, "maximum": 10},
		"options": {
			"type": "object",
			"required": ["depth"],
			"properties": {"depth": {"type": "integer"}}
		},
		"items": {
			"type": "array",
			"items": {
				"type": "object",
				"required": ["name"],
				"properties": {"name": {"type": "string"}}
			}
		}
	}
}`

// counted returns a tool whose body counts its runs.
func counted(name string, runs *atomic.Int32) Tool {
	return Tool{
		Name:  name,
		Input: json.RawMessage(itemsSchema),
		Run: func(context.Context, json.RawMessage) (json.RawMessage, error) {
			runs.Add(1)
			return json.RawMessage(`{"ok":true}`), nil
		},
	}
}

func newRegistry(t *testing.T, tools ...Tool) *Registry {
	t.Helper()
	r := NewRegistry()
	for _, tl := range tools {
		if err := r.Register(tl); err != nil {
			t.Fatalf("Register(%s): %v", tl.Name, err)
		}
	}
	return r
}

var admin = UserCaller(gathering.RoleAdmin)

func TestValidationPointers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, input, field string
	}{
		{"missing required", `{}`, "/expression"},
		{"wrong type", `{"expression": 12}`, "/expression"},
		{"extra property", `{"expression": "1", "bogus": 1}`, "/bogus"},
		{"enum", `{"expression": "1", "mode": "slow"}`, "/mode"},
		{"pattern", `{"expression": "1; rm -rf"}`, "/expression"},
		{"minimum", `{"expression": "1", "count": 0}`, "/count"},
		{"maximum", `{"expression": "1", "count": 11}`, "/count"},
		{"nested object", `{"expression": "1", "options": {"depth": "deep"}}`, "/options/depth"},
		{"nested required", `{"expression": "1", "options": {}}`, "/options/depth"},
		{"array item", `{"expression": "1", "items": [{"name": "a"}, {"name": "b"}, {"name": 3}]}`, "/items/2/name"},
		{"whole document", `[]`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var runs atomic.Int32
			r := newRegistry(t, counted("calc.eval", &runs))
			_, err := r.Call(t.Context(), admin, "calc.eval", json.RawMessage(c.input))
			fields := wantInvalid(t, err)
			if len(fields) != 1 || fields[0].Field != c.field || fields[0].Message == "" {
				t.Errorf("fields = %+v, want one at %q", fields, c.field)
			}
			if n := runs.Load(); n != 0 {
				t.Errorf("body ran %d times", n)
			}
		})
	}
}

func wantInvalid(t *testing.T, err error) []gathering.FieldError {
	t.Helper()
	if code := gathering.ErrorCode(err); code != gathering.EINVALID {
		t.Fatalf("code = %q (%v), want %q", code, err, gathering.EINVALID)
	}
	if msg := gathering.ErrorMessage(err); msg != "The tool input is invalid." {
		t.Errorf("message = %q", msg)
	}
	return gathering.ErrorFields(err)
}

func TestValidationReportsEveryViolation(t *testing.T) {
	t.Parallel()
	var runs atomic.Int32
	r := newRegistry(t, counted("calc.eval", &runs))
	input := `{"mode": "slow", "count": 99, "extra": true, "b": 1,
		"items": [{"name": 1}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {"name": 2}]}`
	_, err := r.Call(t.Context(), admin, "calc.eval", json.RawMessage(input))
	var got []string
	for _, f := range wantInvalid(t, err) {
		got = append(got, f.Field)
	}
	want := []string{"/b", "/count", "/expression", "/extra", "/items/0/name",
		"/items/1/name", "/items/2/name", "/items/3/name", "/items/4/name", "/items/5/name",
		"/items/6/name", "/items/7/name", "/items/8/name", "/items/9/name", "/items/10/name", "/mode"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields = %q\nwant     %q", got, want)
	}
	if n := runs.Load(); n != 0 {
		t.Errorf("body ran %d times", n)
	}
}

func TestMalformedAndValidInput(t *testing.T) {
	t.Parallel()
	var runs atomic.Int32
	r := newRegistry(t, counted("calc.eval", &runs))
	for _, in := range []string{`{"expression":`, `{"expression":"1"} x`, `nope`} {
		_, err := r.Call(t.Context(), admin, "calc.eval", json.RawMessage(in))
		if code := gathering.ErrorCode(err); code != gathering.EMALFORMED {
			t.Errorf("input %q: code = %q, want malformed", in, code)
		}
	}
	if runs.Load() != 0 {
		t.Fatal("body ran on malformed input")
	}
	out, err := r.Call(t.Context(), admin, "calc.eval", json.RawMessage(`{"expression":"1 + 2","count":3}`))
	if err != nil || string(out) != `{"ok":true}` || runs.Load() != 1 {
		t.Fatalf("valid call: out=%s err=%v runs=%d", out, err, runs.Load())
	}
	if _, err := r.Call(t.Context(), admin, "calc.nope", nil); gathering.ErrorCode(err) != gathering.ENOTFOUND {
		t.Errorf("unknown tool: %v", err)
	}
}

func TestRegisterRefuses(t *testing.T) {
	t.Parallel()
	var runs atomic.Int32
	ok := counted("calc.eval", &runs)
	with := func(f func(*Tool)) Tool { tl := ok; f(&tl); return tl }
	cases := []struct {
		name string
		tool Tool
		code string
	}{
		{"invalid schema type", with(func(tl *Tool) { tl.Input = json.RawMessage(`{"type": 5}`) }), gathering.EINVALID},
		{"invalid schema minimum", with(func(tl *Tool) { tl.Input = json.RawMessage(`{"minimum": "x"}`) }), gathering.EINVALID},
		{"invalid schema pattern", with(func(tl *Tool) { tl.Input = json.RawMessage(`{"pattern": "("}`) }), gathering.EINVALID},
		{"schema not JSON", with(func(tl *Tool) { tl.Input = json.RawMessage(`{`) }), gathering.EINVALID},
		{"no input schema", with(func(tl *Tool) { tl.Input = nil }), gathering.EINVALID},
		{"invalid output schema", with(func(tl *Tool) { tl.Output = json.RawMessage(`{"required": 1}`) }), gathering.EINVALID},
		{"remote ref", with(func(tl *Tool) { tl.Input = json.RawMessage(`{"$ref": "https://example.com/s.json"}`) }), gathering.EINVALID},
		{"file ref", with(func(tl *Tool) { tl.Input = json.RawMessage(`{"$ref": "file:///etc/passwd"}`) }), gathering.EINVALID},
		{"duplicate", ok, gathering.ECONFLICT},
		{"nil run", with(func(tl *Tool) { tl.Name = "calc.other"; tl.Run = nil }), gathering.EINVALID},
		{"unknown permission", with(func(tl *Tool) { tl.Name = "calc.other"; tl.Permissions = []Permission{"root"} }), gathering.EINVALID},
	}
	for _, name := range []string{"", "calc", "Calc.eval", "calc.", ".eval", "calc..eval", "calc.ev-al", "calc eval", "calc.eval/x"} {
		cases = append(cases, struct {
			name string
			tool Tool
			code string
		}{"bad name " + name, with(func(tl *Tool) { tl.Name = name }), gathering.EINVALID})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newRegistry(t, ok)
			if err := r.Register(c.tool); gathering.ErrorCode(err) != c.code {
				t.Errorf("Register: %v, want code %q", err, c.code)
			}
		})
	}
}

func TestRegisterAcceptsLocalRefsAndDrafts(t *testing.T) {
	t.Parallel()
	var runs atomic.Int32
	local := counted("calc.local", &runs)
	local.Input = json.RawMessage(`{"$defs": {"n": {"type": "integer"}}, "type": "object",
		"properties": {"x": {"$ref": "#/$defs/n"}}}`)
	draft7 := counted("calc.draft7", &runs)
	draft7.Input = json.RawMessage(`{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}`)
	r := newRegistry(t, local, draft7)
	_, err := r.Call(t.Context(), admin, "calc.local", json.RawMessage(`{"x": "no"}`))
	if f := wantInvalid(t, err); len(f) != 1 || f[0].Field != "/x" {
		t.Errorf("fields = %+v", f)
	}
	if tl, _ := r.Get("calc.local"); tl.Timeout != DefaultTimeout {
		t.Errorf("timeout = %s, want default", tl.Timeout)
	}
}

func TestListAndSkills(t *testing.T) {
	t.Parallel()
	var runs atomic.Int32
	r := newRegistry(t, counted("fs.read", &runs), counted("calc.eval", &runs),
		counted("mcp.files.read", &runs), counted("fs.list", &runs))
	var names []string
	for _, tl := range r.List() {
		names = append(names, tl.Name)
	}
	if want := []string{"calc.eval", "fs.list", "fs.read", "mcp.files.read"}; !reflect.DeepEqual(names, want) {
		t.Errorf("List = %q", names)
	}
	r.DescribeSkill("fs", SkillDoc{DisplayName: "Files", Category: "workspace"})
	got := map[string][]string{}
	for _, s := range r.Skills() {
		got[s.Name] = s.Tools
	}
	want := map[string][]string{"calc": {"calc.eval"}, "fs": {"fs.list", "fs.read"}, "mcp": {"mcp.files.read"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Skills = %+v", got)
	}
	if s := r.Skills(); s[0].DisplayName != "calc" || s[0].Category != "general" || s[1].DisplayName != "Files" || s[1].Category != "workspace" {
		t.Errorf("skill docs = %+v", s[:2])
	}
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	perms := map[string][]Permission{
		"calc.eval": nil, "fs.read": {PermFSRead}, "git.commit": {PermGit, PermFSWrite},
		"shell.run": {PermExec}, "admin.users": {PermAdmin, PermNet},
	}
	r := NewRegistry()
	for name, p := range perms {
		tl := Tool{Name: name, Input: json.RawMessage(`{}`), Permissions: p,
			Run: func(context.Context, json.RawMessage) (json.RawMessage, error) { return nil, nil }}
		if err := r.Register(tl); err != nil {
			t.Fatal(err)
		}
	}
	allowed := map[string][]string{
		"viewer": {"calc.eval"},
		"member": {"calc.eval", "fs.read", "git.commit", "shell.run"},
		"admin":  {"calc.eval", "fs.read", "git.commit", "shell.run", "admin.users"},
		"none":   nil,
		"agent0": nil,
		"agentF": {"fs.read", "calc.eval"},
		"agentA": {"admin.users"},
	}
	callers := map[string]Caller{
		"viewer": UserCaller(gathering.RoleViewer), "member": UserCaller(gathering.RoleMember),
		"admin": UserCaller(gathering.RoleAdmin), "none": UserCaller(""),
		"agent0": AgentCaller(), "agentF": AgentCaller("fs", "calc"), "agentA": AgentCaller("admin"),
	}
	for who, c := range callers {
		for name := range perms {
			want := contains(allowed[who], name)
			_, err := r.Call(t.Context(), c, name, nil)
			if got := err == nil; got != want {
				t.Errorf("%s calling %s: err = %v, want allowed=%v", who, name, err, want)
			}
			if err != nil && gathering.ErrorCode(err) != gathering.EFORBIDDEN {
				t.Errorf("%s calling %s: code %q", who, name, gathering.ErrorCode(err))
			}
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestForbiddenBeforeValidation(t *testing.T) {
	t.Parallel()
	var runs atomic.Int32
	tl := counted("fs.write", &runs)
	tl.Permissions = []Permission{PermFSWrite}
	r := newRegistry(t, tl)
	_, err := r.Call(t.Context(), UserCaller(gathering.RoleViewer), "fs.write", json.RawMessage(`not json`))
	if gathering.ErrorCode(err) != gathering.EFORBIDDEN || runs.Load() != 0 {
		t.Fatalf("err = %v, runs = %d", err, runs.Load())
	}
}

func blocking(name string, timeout time.Duration, saw chan<- error) Tool {
	return Tool{
		Name: name, Input: json.RawMessage(`{}`), Timeout: timeout,
		Run: func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
			<-ctx.Done()
			saw <- ctx.Err()
			return nil, ctx.Err()
		},
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	saw := make(chan error, 1)
	r := newRegistry(t, blocking("slow.wait", 50*time.Millisecond, saw))
	start := time.Now()
	_, err := r.Call(t.Context(), admin, "slow.wait", nil)
	if gathering.ErrorCode(err) != gathering.ETIMEOUT {
		t.Fatalf("err = %v, want timeout", err)
	}
	if ctxErr := <-saw; !errors.Is(ctxErr, context.DeadlineExceeded) {
		t.Errorf("body ctx err = %v", ctxErr)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestCallerCancellationReturnedAsIs(t *testing.T) {
	t.Parallel()
	saw := make(chan error, 1)
	r := newRegistry(t, blocking("slow.wait", time.Minute, saw))
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err := r.Call(ctx, admin, "slow.wait", nil)
	if !errors.Is(err, context.Canceled) || gathering.ErrorCode(err) == gathering.ETIMEOUT {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if ctxErr := <-saw; !errors.Is(ctxErr, context.Canceled) {
		t.Errorf("body ctx err = %v", ctxErr)
	}
}

func TestBodyErrorsAndPanics(t *testing.T) {
	t.Parallel()
	own := gathering.Errorf(gathering.ECONFLICT, "busy")
	r := newRegistry(t,
		Tool{Name: "x.fail", Input: json.RawMessage(`{}`),
			Run: func(context.Context, json.RawMessage) (json.RawMessage, error) { return nil, own }},
		Tool{Name: "x.panic", Input: json.RawMessage(`{}`),
			Run: func(context.Context, json.RawMessage) (json.RawMessage, error) { panic("boom") }})
	if _, err := r.Call(t.Context(), admin, "x.fail", nil); !errors.Is(err, own) {
		t.Errorf("x.fail: %v", err)
	}
	if _, err := r.Call(t.Context(), admin, "x.panic", nil); gathering.ErrorCode(err) != gathering.EINTERNAL {
		t.Errorf("x.panic: %v", err)
	}
}

func TestOutputValidation(t *testing.T) {
	t.Parallel()
	out := func(s string) RunFunc {
		return func(context.Context, json.RawMessage) (json.RawMessage, error) { return json.RawMessage(s), nil }
	}
	schema := json.RawMessage(`{"type":"object","required":["result"],"properties":{"result":{"type":"number"}}}`)
	r := newRegistry(t,
		Tool{Name: "x.good", Input: json.RawMessage(`{}`), Output: schema, Run: out(`{"result": 3}`)},
		Tool{Name: "x.bad", Input: json.RawMessage(`{}`), Output: schema, Run: out(`{"result": "3"}`)},
		Tool{Name: "x.garbage", Input: json.RawMessage(`{}`), Output: schema, Run: out(`{`)})
	if got, err := r.Call(t.Context(), admin, "x.good", nil); err != nil || string(got) != `{"result": 3}` {
		t.Errorf("x.good: %s, %v", got, err)
	}
	for _, name := range []string{"x.bad", "x.garbage"} {
		got, err := r.Call(t.Context(), admin, name, nil)
		if gathering.ErrorCode(err) != gathering.EINTERNAL || got != nil {
			t.Errorf("%s: %s, %v", name, got, err)
		}
		if msg := gathering.ErrorMessage(err); msg != `The tool "`+name+`" returned an invalid output.` {
			t.Errorf("%s: message %q", name, msg)
		}
		if f := gathering.ErrorFields(err); f != nil {
			t.Errorf("%s: output fields leaked as caller fields: %+v", name, f)
		}
	}
}
