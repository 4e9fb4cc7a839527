package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/startstop"
	"github.com/gathering/gathering/internal/tool"
)

type addIn struct {
	A int `json:"a"`
	B int `json:"b"`
}

type addOut struct {
	Sum int `json:"sum"`
}

const (
	echoSchema   = `{"type":"object","properties":{"text":{"type":"string","maxLength":10}},"required":["text"],"additionalProperties":false}`
	addSchema    = `{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"required":["a","b"],"additionalProperties":false}`
	addOutSchema = `{"type":"object","properties":{"sum":{"type":"integer"}},"required":["sum"],"additionalProperties":false}`
	anyObject    = `{"type":"object"}`
)

// newMathServer returns an MCP server with four tools, listed two per
// page: add (typed input and output), echo (a text of at most 10
// characters, answered as text content, with no validation of its own),
// fail (always an error result) and refuse (always a JSON-RPC error).
func newMathServer() *sdk.Server {
	srv := sdk.NewServer(&sdk.Implementation{Name: "math", Version: "test"}, &sdk.ServerOptions{PageSize: 2})
	sdk.AddTool(srv, &sdk.Tool{Name: "add", Description: "Adds two integers."},
		func(_ context.Context, _ *sdk.CallToolRequest, in addIn) (*sdk.CallToolResult, addOut, error) {
			return nil, addOut{Sum: in.A + in.B}, nil
		})
	srv.AddTool(&sdk.Tool{Name: "echo", Description: "Echoes a short text.", InputSchema: json.RawMessage(echoSchema)}, echo)
	srv.AddTool(&sdk.Tool{Name: "fail", Description: "Always fails.", InputSchema: json.RawMessage(anyObject)},
		func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			var res sdk.CallToolResult
			res.SetError(errors.New("disk on fire"))
			return &res, nil
		})
	srv.AddTool(&sdk.Tool{Name: "refuse", Description: "Always refuses.", InputSchema: json.RawMessage(anyObject)},
		func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			return nil, &jsonrpc.Error{Code: -32000, Message: "quota exceeded"}
		})
	return srv
}

func echo(_ context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
	var in struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(req.Params.Arguments, &in); err != nil {
		return nil, err
	}
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: in.Text}}}, nil
}

// TestHTTPServer is the acceptance test: an MCP server over Streamable HTTP
// whose tools are listed, called, validated before the server sees them,
// reported unavailable while the server is down and usable again when it
// comes back on the same address, and relisted when they change.
func TestHTTPServer(t *testing.T) {
	ts := startTestServer(t, "127.0.0.1:0", newMathServer())
	reg := tool.NewRegistry()
	c := startClient(t, []Server{{Name: "test", URL: ts.hs.URL}}, reg, &syncBuffer{})
	waitFor(t, "the tools", usable(reg, "mcp.test.add", `{"a":1,"b":1}`))
	if err := c.Start(t.Context()); !errors.Is(err, startstop.ErrRunning) {
		t.Errorf("second Start: %v", err)
	}

	checkListed(t, reg)
	checkCalls(t, reg)
	checkRejected(t, reg, ts)
	if st := c.Status(); len(st) != 1 || st[0] != (ServerStatus{Name: "test", Connected: true, Tools: 4}) {
		t.Errorf("Status = %+v", st)
	}

	addr := ts.hs.Listener.Addr().String()
	add, _ := reg.Get("mcp.test.add")
	down := time.Now()
	ts.close()
	waitFor(t, "the tools to be unavailable", func() bool { return add.Check() != nil })
	t.Logf("server loss noticed in %s", time.Since(down).Round(time.Millisecond))
	if time.Since(down) > 5*time.Second {
		t.Errorf("server loss noticed after %s", time.Since(down))
	}
	if _, err := call(reg, "mcp.test.add", `{"a":2,"b":3}`); errorCode(err) != gathering.EUNAVAILABLE {
		t.Errorf("call while down: %v", err)
	}
	if _, ok := reg.Get("mcp.test.add"); !ok {
		t.Error("mcp.test.add vanished from the registry")
	}
	if st := c.Status()[0]; st.Connected || st.Tools != 0 || st.LastError == "" {
		t.Errorf("Status while down = %+v", st)
	}

	ts2 := startTestServer(t, addr, newMathServer())
	waitFor(t, "the tools to come back", usable(reg, "mcp.test.add", `{"a":2,"b":3}`))
	checkListChanged(t, c, reg, ts2)
}

// checkListed checks the registered tools and their schemas.
func checkListed(t *testing.T, reg *tool.Registry) {
	t.Helper()
	var names []string
	for _, r := range reg.List() {
		names = append(names, r.Name)
	}
	if want := []string{"mcp.test.add", "mcp.test.echo", "mcp.test.fail", "mcp.test.refuse"}; !slices.Equal(names, want) {
		t.Fatalf("registered %v, want %v", names, want)
	}
	add, _ := reg.Get("mcp.test.add")
	echo, _ := reg.Get("mcp.test.echo")
	checkJSON(t, "add input", add.Input, addSchema)
	checkJSON(t, "add output", add.Output, addOutSchema)
	checkJSON(t, "echo input", echo.Input, echoSchema)
	if len(echo.Output) != 0 {
		t.Errorf("echo output schema = %s, want none", echo.Output)
	}
	if add.Description != "Adds two integers." || !slices.Equal(add.Permissions, []tool.Permission{tool.PermNet}) || add.Timeout != 5*time.Second {
		t.Errorf("add = %q %v %s", add.Description, add.Permissions, add.Timeout)
	}
}

// checkCalls checks structured, text and error results.
func checkCalls(t *testing.T, reg *tool.Registry) {
	t.Helper()
	checkJSON(t, "add", json.RawMessage(mustCall(t, reg, "mcp.test.add", `{"a":2,"b":3}`)), `{"sum":5}`)
	checkJSON(t, "echo", json.RawMessage(mustCall(t, reg, "mcp.test.echo", `{"text":"hi"}`)),
		`{"content":[{"type":"text","text":"hi"}]}`)
	for name, text := range map[string]string{"mcp.test.fail": "disk on fire", "mcp.test.refuse": "quota exceeded"} {
		_, err := call(reg, name, `{}`)
		if errorCode(err) != gathering.EUNAVAILABLE || !strings.Contains(gathering.ErrorMessage(err), text) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// checkRejected checks that invalid input is refused with JSON pointers
// and never reaches the server.
func checkRejected(t *testing.T, reg *tool.Registry, ts *testServer) {
	t.Helper()
	before := ts.calls.Load()
	for _, tc := range []struct{ tool, input, fields string }{
		{"mcp.test.add", `{"a":"x","b":1}`, "/a"},
		{"mcp.test.add", `{"a":1}`, "/b"},
		{"mcp.test.add", `{"a":1,"b":2,"c":3}`, "/c"},
		{"mcp.test.echo", `{"text":"far too long"}`, "/text"},
	} {
		_, err := call(reg, tc.tool, tc.input)
		if errorCode(err) != gathering.EINVALID || fieldsOf(err) != tc.fields {
			t.Errorf("%s %s: %v %v, want invalid %s", tc.tool, tc.input, err, gathering.ErrorFields(err), tc.fields)
		}
	}
	if n := ts.calls.Load() - before; n != 0 {
		t.Errorf("%d invalid calls reached the server", n)
	}
	mustCall(t, reg, "mcp.test.add", `{"a":0,"b":0}`)
	if n := ts.calls.Load() - before; n != 1 {
		t.Errorf("a valid call was counted %d times", n)
	}
}

// checkListChanged adds and removes tools on the server and checks that
// the client follows.
func checkListChanged(t *testing.T, c *Client, reg *tool.Registry, ts *testServer) {
	t.Helper()
	ts.srv.AddTool(&sdk.Tool{Name: "Echo-Again", InputSchema: json.RawMessage(echoSchema)}, echo)
	waitFor(t, "a new tool", usable(reg, "mcp.test.echo_again", `{"text":"x"}`))
	before := ts.calls.Load()
	ts.srv.RemoveTools("echo")
	removed, ok := reg.Get("mcp.test.echo")
	if !ok {
		t.Fatal("mcp.test.echo vanished from the registry")
	}
	waitFor(t, "a removed tool to be unavailable", func() bool { return removed.Check() != nil })
	if _, err := call(reg, "mcp.test.echo", `{"text":"x"}`); errorCode(err) != gathering.EUNAVAILABLE || ts.calls.Load() != before {
		t.Errorf("removed tool: %v", err)
	}
	if st := c.Status()[0]; !st.Connected || st.Tools != 4 {
		t.Errorf("Status = %+v", st)
	}
}

// checkJSON compares JSON documents by value.
func checkJSON(t *testing.T, what string, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s: %v in %s", what, err, got)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

// TestSkippedTools checks that names colliding after sanitizing, names too
// long and schemas the registry cannot compile are skipped with a warning.
func TestSkippedTools(t *testing.T) {
	srv := sdk.NewServer(&sdk.Implementation{Name: "odd", Version: "test"}, nil)
	for name, schema := range map[string]string{
		"Say-Hi":                 anyObject,
		"say_hi":                 anyObject,
		"bad_schema":             `{"type":"object","properties":{"x":{"type":12}}}`,
		strings.Repeat("a", 200): anyObject,
	} {
		srv.AddTool(&sdk.Tool{Name: name, InputSchema: json.RawMessage(schema)}, echo)
	}
	ts := startTestServer(t, "127.0.0.1:0", srv)
	reg := tool.NewRegistry()
	logs := &syncBuffer{}
	c := startClient(t, []Server{{Name: "odd", URL: ts.hs.URL}}, reg, logs)
	waitFor(t, "the connection", func() bool { return c.Status()[0].Connected })

	if got := reg.List(); len(got) != 1 || got[0].Name != "mcp.odd.say_hi" {
		t.Errorf("registered %d tools, want only mcp.odd.say_hi", len(got))
	}
	for _, want := range []string{"collides", "too long", "bad_schema"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no warning mentioning %q in:\n%s", want, logs)
		}
	}
	if st := c.Status()[0]; st.Tools != 1 {
		t.Errorf("Status = %+v", st)
	}
}

// TestUnreachable checks the status of a server that never answers, with
// the secret in its URL kept out of the error.
func TestUnreachable(t *testing.T) {
	ln := listen(t, "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	reg := tool.NewRegistry()
	c := startClient(t, []Server{{Name: "gone", URL: "http://" + addr + "/mcp?token=s3cret"}}, reg, &syncBuffer{})
	waitFor(t, "a failed attempt", func() bool { return c.Status()[0].LastError != "" })
	st := c.Status()[0]
	if st.Connected || strings.Contains(st.LastError, "s3cret") || !strings.Contains(st.LastError, addr) {
		t.Errorf("Status = %+v", st)
	}
	if len(reg.List()) != 0 {
		t.Error("tools registered for an unreachable server")
	}
}

// TestKeepAlive checks that pings notice the loss of a server that offers
// no event stream.
func TestKeepAlive(t *testing.T) {
	ts := startTestServer(t, "127.0.0.1:0", newMathServer())
	ts.rejectGET.Store(true)
	reg := tool.NewRegistry()
	startClient(t, []Server{{Name: "quiet", URL: ts.hs.URL}}, reg, &syncBuffer{},
		func(o *Options) { o.KeepAlive = 50 * time.Millisecond })
	waitFor(t, "the tools", usable(reg, "mcp.quiet.add", `{"a":1,"b":1}`))
	add, _ := reg.Get("mcp.quiet.add")
	ts.close()
	waitFor(t, "the tools to be unavailable", func() bool { return add.Check() != nil })
}
