package activity

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/startstop"
	"github.com/gathering/gathering/internal/store"
)

// writeTimeout bounds the lookups and the record of one execution.
const writeTimeout = 10 * time.Second

// Recorder records the activity of the fs, git and shell tool executions
// this instance runs (each instance records its own, so none is recorded
// twice). It is a startstop.Service.
type Recorder struct {
	db   store.Store
	bus  *event.Bus
	log  *slog.Logger
	loop startstop.Loop
}

// NewRecorder returns a recorder of the executions announced on bus.
func NewRecorder(db store.Store, bus *event.Bus, log *slog.Logger) *Recorder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{db: db, bus: bus, log: log}
}

// Start begins listening for succeeded tool executions.
func (r *Recorder) Start(ctx context.Context) error {
	return event.Listen(ctx, r.bus, []string{"tool.execution.succeeded"}, &r.loop, r.listen)
}

// Stop stops listening.
func (r *Recorder) Stop(ctx context.Context) error { return r.loop.Stop(ctx) }

func (r *Recorder) listen(ctx context.Context, frames <-chan event.Frame) {
	for {
		select {
		case <-ctx.Done():
			return
		case f, ok := <-frames:
			if !ok {
				return
			}
			if f.Kind == event.KindEvent && f.Event.Origin == r.bus.Instance() {
				r.execution(ctx, f.Event)
			}
		}
	}
}

// execution records the activity of the execution e announces, if its
// tool changes a project.
func (r *Recorder) execution(ctx context.Context, e event.Event) {
	var ref struct {
		ID   string `json:"id"`
		Tool string `json:"tool"`
	}
	if json.Unmarshal(e.Data, &ref) != nil || kinds[ref.Tool] == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	x, err := r.db.ToolExecutionGet(ctx, ref.ID)
	if err == nil {
		var a store.Activity
		if a, err = FromExecution(x); err == nil {
			_, err = Record(ctx, r.db, r.bus, a)
		}
	}
	if err != nil && gathering.ErrorCode(err) != gathering.ENOTFOUND {
		r.log.Warn("recording a tool execution's activity failed", "execution", ref.ID, "tool", ref.Tool, "err", err)
	}
}

// kinds are the tools whose executions are activity, with their kind.
var kinds = map[string]string{
	"fs.write": store.ActivityFileEdited, "fs.delete": store.ActivityFileDeleted, "fs.move": store.ActivityFileEdited,
	"git.commit": store.ActivityCommit, "shell.run": store.ActivityCommandExecuted,
}

// toolInput is what FromExecution reads of an execution's input.
type toolInput struct {
	ProjectID string   `json:"project_id"`
	Path      string   `json:"path"`
	From      string   `json:"from"`
	To        string   `json:"to"`
	Message   string   `json:"message"`
	Program   string   `json:"program"`
	Args      []string `json:"args"`
}

// FromExecution is the activity of a succeeded fs, git or shell
// execution; ENOTFOUND when its tool or project id makes it none.
func FromExecution(x store.ToolExecution) (store.Activity, error) {
	var in toolInput
	_ = json.Unmarshal(x.Input, &in)
	id, err := strconv.ParseInt(in.ProjectID, 10, 64)
	if kinds[x.Tool] == "" || err != nil || id < 1 {
		return store.Activity{}, gathering.Errorf(gathering.ENOTFOUND, "The execution %s changed no project.", x.ID)
	}
	a := store.Activity{ProjectID: id, Kind: kinds[x.Tool], Path: in.Path, UserID: x.UserID, AgentID: x.AgentID, At: x.FinishedAt}
	a.Details, _ = json.Marshal(map[string]any{"tool": x.Tool, "execution_id": x.ID, "output": x.Output})
	switch x.Tool {
	case "fs.write":
		a.Summary = "Wrote " + in.Path
	case "fs.delete":
		a.Summary = "Deleted " + in.Path
	case "fs.move":
		a.Path, a.Summary = in.To, fmt.Sprintf("Moved %s to %s", in.From, in.To)
	case "git.commit":
		a.Summary = "Committed: " + firstLine(in.Message)
	case "shell.run":
		a.Summary = "Ran " + strings.TrimSpace(in.Program+" "+strings.Join(in.Args, " "))
	}
	if a.At.IsZero() {
		a.At = time.Now()
	}
	a.Summary = Clip(a.Summary)
	return a, nil
}

// MaxSummary bounds an activity's summary, in characters.
const MaxSummary = 500

// Clip shortens s to MaxSummary characters.
func Clip(s string) string {
	if r := []rune(s); len(r) > MaxSummary {
		return string(r[:MaxSummary-1]) + "…"
	}
	return s
}

// firstLine is the first line of s.
func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
