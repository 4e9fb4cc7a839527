//go:build unix

package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/tool"
)

// TestCommandServer runs testdata/stdioserver: its tools are listed and
// called, it sees only PATH, HOME and its own environment, it is started
// again when it dies, and Stop ends it and what it started.
func TestCommandServer(t *testing.T) {
	t.Setenv("GATHERING_MCP_TEST_SECRET", "leaked")
	reg := tool.NewRegistry()
	logs := &syncBuffer{}
	c := startClient(t, []Server{{Name: "local", Command: []string{stdioServer}, Env: []string{"GREETING=hello"}}}, reg, logs)
	waitFor(t, "the tools", usable(reg, "mcp.local.pid", `{}`))

	getenv := func(name string) string {
		var out struct{ Value string }
		if err := json.Unmarshal([]byte(mustCall(t, reg, "mcp.local.getenv", `{"name":"`+name+`"}`)), &out); err != nil {
			t.Fatal(err)
		}
		return out.Value
	}
	if v := getenv("GREETING"); v != "hello" {
		t.Errorf("GREETING = %q", v)
	}
	if v := getenv("GATHERING_MCP_TEST_SECRET"); v != "" {
		t.Errorf("the server inherited GATHERING_MCP_TEST_SECRET=%q", v)
	}
	if getenv("PATH") == "" {
		t.Error("the server has no PATH")
	}
	if r, _ := reg.Get("mcp.local.getenv"); !slices.Equal(r.Permissions, []tool.Permission{tool.PermExec}) {
		t.Errorf("permissions %v", r.Permissions)
	}

	first := pidOf(t, mustCall(t, reg, "mcp.local.pid", `{}`))
	if _, err := call(reg, "mcp.local.exit", `{}`); errorCode(err) != gathering.EUNAVAILABLE {
		t.Errorf("exit: %v", err)
	}
	waitFor(t, "a new process", func() bool {
		out, err := call(reg, "mcp.local.pid", `{}`)
		return err == nil && pidOf(t, string(out)) != first
	})
	if !strings.Contains(logs.String(), "stdioserver: exiting on request") {
		t.Errorf("the server's stderr was not logged:\n%s", logs)
	}

	second := pidOf(t, mustCall(t, reg, "mcp.local.pid", `{}`))
	grandchild := pidOf(t, mustCall(t, reg, "mcp.local.spawn", `{}`))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{second, grandchild} {
		waitFor(t, "the end of process "+strconv.Itoa(pid), func() bool {
			return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
		})
	}
	if _, err := call(reg, "mcp.local.pid", `{}`); errorCode(err) != gathering.EUNAVAILABLE {
		t.Errorf("call after Stop: %v", err)
	}
}

// pidOf reads the output of the pid tool.
func pidOf(t *testing.T, raw string) int {
	t.Helper()
	var out struct{ PID int }
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatal(err)
	}
	return out.PID
}
