package circle_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/agent/agenttest"
	"github.com/gathering/gathering/internal/background"
	"github.com/gathering/gathering/internal/circle"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/startstop"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/pgstore"
	"github.com/gathering/gathering/internal/store/pgtest"
	"github.com/gathering/gathering/internal/store/sqlitestore"
	"github.com/gathering/gathering/internal/store/storetest"
	"github.com/gathering/gathering/internal/tool"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rig is a store with agents on a fake OpenAI-compatible provider, a
// background task runner and a circle service, all on one bus.
type rig struct {
	db      store.Store
	bus     *event.Bus
	fake    *openaitest.Server
	chat    *agent.Service
	tasks   *background.Runner
	circles *circle.Service
	userID  int64
	events  *recorder
}

// newRig builds a rig on db (nil: a fresh SQLite store) with a circle
// service sweeping every sweep (0: the default); its services stop when
// the test ends.
func newRig(t *testing.T, db store.Store, sweep time.Duration) *rig {
	t.Helper()
	r := newQuietRig(t, db, sweep)
	start(t, r.circles)
	return r
}

// newQuietRig is newRig with a circle service that is not started: its
// methods work, but nothing listens for events.
func newQuietRig(t *testing.T, db store.Store, sweep time.Duration) *rig {
	t.Helper()
	return buildRig(t, db, sweep, 20)
}

// buildRig is newQuietRig with a runner of at most maxRunning background
// tasks.
func buildRig(t *testing.T, db store.Store, sweep time.Duration, maxRunning int) *rig {
	t.Helper()
	r := &rig{db: db, fake: openaitest.New(t)}
	if r.db == nil {
		r.db = storetest.SQLite(t)
	}
	r.bus = event.NewBus(event.Config{Instance: "test"})
	r.events = record(t, r.bus)
	exec := tool.NewExecutor(tool.NewRegistry(), r.db, r.bus, tool.ExecutorOptions{Instance: "test", Exclusive: true})
	r.chat = agenttest.NewService(t, r.db, exec, nil)
	r.tasks = background.New(r.db, r.chat, r.bus, background.Options{Instance: "test", Lease: 3 * time.Second, MaxRunning: maxRunning})
	r.circles = circle.New(r.db, r.tasks, r.bus, circle.Options{Sweep: sweep, Logger: testLogger(t)})
	start(t, r.bus, exec, r.tasks)
	agenttest.Seed(t, r.db, r.fake.URL)
	r.userID = agenttest.User(t, r.db, "Lead", gathering.RoleMember)
	return r
}

// agent creates an agent on the fake model with competencies.
func (r *rig) agent(t *testing.T, name string, canReview bool, competencies ...string) int64 {
	t.Helper()
	return agenttest.Agent(t, r.db, store.Agent{Name: name, Competencies: competencies, CanReview: canReview})
}

// circle creates a circle and adds members (each with its agent's own
// competencies and review right).
func (r *rig) circle(t *testing.T, n circle.NewCircle, members ...int64) store.Circle {
	t.Helper()
	n.CreatedBy = r.userID
	c, err := r.circles.Create(t.Context(), n)
	if err != nil {
		t.Fatalf("Create(%s): %v", n.Name, err)
	}
	for _, id := range members {
		if _, err := r.circles.AddMember(t.Context(), c.Name, circle.NewMember{AgentID: id}); err != nil {
			t.Fatalf("AddMember(%d): %v", id, err)
		}
	}
	return c
}

// task creates a task in a circle as the rig's user.
func (r *rig) task(t *testing.T, circleName, title string, priority int, required ...string) store.CircleTask {
	t.Helper()
	task, err := r.circles.CreateTask(t.Context(), circleName, circle.NewTask{Title: title, Description: "Please " + title + ".",
		RequiredCompetencies: required, Priority: priority, CreatedBy: r.userID})
	if err != nil {
		t.Fatalf("CreateTask(%s): %v", title, err)
	}
	return task
}

// await polls a task until ok holds, failing after 20 s.
func (r *rig) await(t *testing.T, id int64, what string, ok func(store.CircleTask) bool) store.CircleTask {
	t.Helper()
	var task store.CircleTask
	held := agenttest.Eventually(20*time.Second, func() bool {
		var err error
		if task, err = r.db.CircleTaskGet(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		return ok(task)
	})
	if !held {
		t.Fatalf("task %d never %s: %+v", id, what, task)
	}
	return task
}

// awaitStatus waits for a task to reach status.
func (r *rig) awaitStatus(t *testing.T, id int64, status store.TaskState) store.CircleTask {
	t.Helper()
	return r.await(t, id, string(status), func(task store.CircleTask) bool { return task.Status == status })
}

// start starts services and stops them, in reverse order, when the test
// ends.
func start(t *testing.T, services ...startstop.Service) {
	t.Helper()
	agenttest.Start(t, services...)
}

// recorder keeps the circle events published on a bus.
type recorder struct {
	mu     sync.Mutex
	events []event.Event
}

// record subscribes to the circle events of bus until the test ends.
func record(t *testing.T, bus *event.Bus) *recorder {
	t.Helper()
	rec := &recorder{}
	sub, err := bus.Subscribe(event.SubscribeOptions{Filter: event.Filter{Types: []string{"circle.*"}}, Overflow: event.Block})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for f := range sub.Frames() {
			rec.mu.Lock()
			rec.events = append(rec.events, f.Event)
			rec.mu.Unlock()
		}
	}()
	t.Cleanup(func() { sub.Close(); <-done })
	return rec
}

// types lists the types of the events recorded so far whose data names
// the task (every event when task is 0).
func (rec *recorder) types(task int64) []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []string
	for _, e := range rec.events {
		var d struct {
			TaskID int64 `json:"task_id"`
		}
		_ = json.Unmarshal(e.Data, &d)
		if task == 0 || d.TaskID == task {
			out = append(out, e.Type)
		}
	}
	return out
}

// await waits until the events recorded for task (0: all) are want, and
// fails the test with what they are after 10 s.
func (rec *recorder) await(t *testing.T, task int64, want ...string) {
	t.Helper()
	if !agenttest.Eventually(10*time.Second, func() bool { return slices.Equal(rec.types(task), want) }) {
		t.Errorf("events %v,\nwant %v", rec.types(task), want)
	}
}

// find returns the recorded events of type typ once there are n of them
// (events are delivered asynchronously), or those there are after 10 s.
func (rec *recorder) find(typ string, n int) []event.Event {
	var out []event.Event
	agenttest.Eventually(10*time.Second, func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		out = nil
		for _, e := range rec.events {
			if e.Type == typ {
				out = append(out, e)
			}
		}
		return len(out) >= n
	})
	return out
}

// sqliteAt returns a function that opens, and migrates, one SQLite file
// each time it is called; each store closes when the test ends.
func sqliteAt(t *testing.T) func() store.Store {
	path := filepath.Join(t.TempDir(), "circles.db")
	return func() store.Store {
		s, err := sqlitestore.Open(context.Background(), sqlitestore.Config{Path: path})
		return migrated(t, s, err)
	}
}

// postgresAt returns a function that opens, and migrates, one PostgreSQL
// schema each time it is called; each store closes when the test ends.
func postgresAt(t *testing.T) func() store.Store {
	url := pgtest.URL(t)
	return func() store.Store {
		s, err := pgstore.Open(context.Background(), pgstore.Config{URL: url, MaxConns: 4})
		return migrated(t, s, err)
	}
}

// migrated migrates an opened store, which closes when the test ends.
func migrated(t *testing.T, s store.Store, err error) store.Store {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// wantCode fails the test unless err has code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := gathering.ErrorCode(err); got != code {
		t.Errorf("%s: code %q (%v), want %q", what, got, err, code)
	}
}

// wantField fails the test unless err is EINVALID naming field.
func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	for _, f := range gathering.ErrorFields(err) {
		if f.Field == field {
			return
		}
	}
	t.Errorf("%s: %v, want a problem with field %s", what, err, field)
}
