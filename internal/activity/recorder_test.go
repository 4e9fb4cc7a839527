package activity_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gathering/gathering/internal/activity"
	"github.com/gathering/gathering/internal/builtin"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/storetest"
	"github.com/gathering/gathering/internal/tool"
	"github.com/gathering/gathering/internal/workspace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRecorderLogsToolWork: fs.write and fs.delete calls through the
// executor become the project's file activities, with the caller, and are
// announced; a call in no project and a read are not activity.
func TestRecorderLogsToolWork(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	now := time.Now()
	p, err := db.ProjectCreate(ctx, store.Project{Name: "Atlas", Status: store.ProjectActive, Settings: json.RawMessage(`{}`), CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.UserCreate(ctx, store.UserCreateParams{Email: "w@example.com", Name: "W", Role: gathering.RoleMember, PasswordHash: "x", IsActive: true, At: now})
	if err != nil {
		t.Fatal(err)
	}
	bus := event.NewBus(event.Config{Instance: "test"})
	reg := tool.NewRegistry()
	for _, tl := range builtin.Tools(builtin.Options{Workspaces: workspace.New(db, t.TempDir())}) {
		if err := reg.Register(tl); err != nil {
			t.Fatal(err)
		}
	}
	exec := tool.NewExecutor(reg, db, bus, tool.ExecutorOptions{Instance: "test", Exclusive: true})
	rec := activity.NewRecorder(db, bus, nil)
	sub, err := bus.Subscribe(event.SubscribeOptions{Filter: event.Filter{Types: []string{activity.Type}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for _, s := range []interface{ Start(context.Context) error }{bus, exec, rec} {
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, s := range []interface{ Stop(context.Context) error }{rec, exec, bus} {
			_ = s.Stop(ctx)
		}
	}()
	project := strconv.FormatInt(p.ID, 10)
	call := func(name, input string) {
		t.Helper()
		if _, err := exec.Execute(ctx, tool.Request{Tool: name, Input: json.RawMessage(input), Caller: tool.UserCaller(gathering.RoleMember), UserID: u.ID}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	call("fs.write", `{"project_id":"`+project+`","path":"notes/a.md","content":"hi"}`)
	call("fs.read", `{"project_id":"`+project+`","path":"notes/a.md"}`)
	call("fs.delete", `{"project_id":"`+project+`","path":"notes/a.md"}`)
	for range 2 {
		select {
		case f := <-sub.Frames():
			if f.Event.Topics[0] != activity.Topic(p.ID) {
				t.Errorf("topics %v", f.Event.Topics)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no activity announced")
		}
	}
	list, total, err := db.ActivityList(ctx, store.ActivityFilter{ProjectID: p.ID}, store.Page{Limit: 10})
	if err != nil || total != 2 {
		t.Fatalf("activities %+v (%d), %v", list, total, err)
	}
	if list[0].Kind != store.ActivityFileDeleted || list[1].Kind != store.ActivityFileEdited || list[1].Path != "notes/a.md" ||
		list[1].UserID != u.ID || list[1].Summary != "Wrote notes/a.md" {
		t.Errorf("activities %+v", list)
	}
}

func TestFromExecution(t *testing.T) {
	for _, c := range []struct {
		tool, input, kind, summary, path string
	}{
		{"fs.move", `{"project_id":"3","from":"a","to":"b"}`, store.ActivityFileEdited, "Moved a to b", "b"},
		{"git.commit", `{"project_id":"3","message":"Fix it\n\nLong story"}`, store.ActivityCommit, "Committed: Fix it", ""},
		{"shell.run", `{"project_id":"3","program":"go","args":["test","./..."]}`, store.ActivityCommandExecuted, "Ran go test ./...", ""},
	} {
		a, err := activity.FromExecution(store.ToolExecution{ID: "x", Tool: c.tool, Input: json.RawMessage(c.input), AgentID: 9})
		if err != nil || a.Kind != c.kind || a.Summary != c.summary || a.Path != c.path || a.ProjectID != 3 || a.AgentID != 9 {
			t.Errorf("%s: %+v, %v", c.tool, a, err)
		}
	}
	for _, x := range []store.ToolExecution{
		{Tool: "fs.read", Input: json.RawMessage(`{"project_id":"3"}`)},
		{Tool: "fs.write", Input: json.RawMessage(`{"project_id":"demo"}`)},
	} {
		if _, err := activity.FromExecution(x); gathering.ErrorCode(err) != gathering.ENOTFOUND {
			t.Errorf("%s %s: %v", x.Tool, x.Input, err)
		}
	}
}
