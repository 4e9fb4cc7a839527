package httpapi

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/schedule"
	"github.com/gathering/gathering/internal/store"
)

// scheduleBodyLimit bounds a scheduled action (its config is a tool input).
const scheduleBodyLimit = 256 << 10

// defaultPreviewCount is how many firings a preview shows without count.
const defaultPreviewCount = 5

// maxUpdateAttempts bounds how often a PUT without a version reads the
// action again because the scheduler changed it meanwhile.
const maxUpdateAttempts = 5

// scheduleRoutes are the scheduled actions and the runs of their
// occurrences; none without a scheduler. /scheduled-actions/preview is a
// static segment, which chi prefers to /scheduled-actions/{id}.
func (a *API) scheduleRoutes() []Route {
	if a.scheduler == nil {
		return nil
	}
	const tag = "scheduled-actions"
	return []Route{
		{Method: "GET", Pattern: "/scheduled-actions", Access: Viewer, Handler: HandlerFunc(a.listActions), Response: List[ScheduledActionResponse]{}, Tag: tag, Summary: "Scheduled actions by id (?status=, ?action_type=, ?agent_id=, ?tag=)"},
		{Method: "POST", Pattern: "/scheduled-actions", Access: Member, Handler: HandlerFunc(a.createAction), Request: ScheduledActionRequest{}, Response: ScheduledActionResponse{}, Status: http.StatusCreated, BodyLimit: scheduleBodyLimit, Tag: tag, Summary: "Create a scheduled action (422 names every field at fault)"},
		{Method: "GET", Pattern: "/scheduled-actions/preview", Access: Viewer, Handler: HandlerFunc(a.previewSchedule), Response: PreviewResponse{}, Tag: tag, Summary: "The next firings of a schedule, before saving it: ?cron=&timezone=&count= (1 to 100, default 5), or schedule_type with interval_seconds or run_at; start_date, end_date and from (default now) as RFC 3339. 422 names the query parameter at fault: cron (not cron_expression), timezone, count, …"},
		{Method: "GET", Pattern: "/scheduled-actions/{id}", Access: Viewer, Handler: HandlerFunc(a.getAction), Response: ScheduledActionResponse{}, Tag: tag, Summary: "One scheduled action"},
		{Method: "PUT", Pattern: "/scheduled-actions/{id}", Access: Member, Handler: HandlerFunc(a.updateAction), Request: ScheduledActionRequest{}, Response: ScheduledActionResponse{}, BodyLimit: scheduleBodyLimit, Tag: tag, Summary: "Replace a scheduled action and reschedule it from now (409 when version is stale; every firing changes the version)"},
		{Method: "DELETE", Pattern: "/scheduled-actions/{id}", Access: Member, Handler: HandlerFunc(a.deleteAction), Status: http.StatusNoContent, Tag: tag, Summary: "Delete a scheduled action and its runs"},
		{Method: "POST", Pattern: "/scheduled-actions/{id}/pause", Access: Member, Handler: HandlerFunc(a.setActionStatus(store.ActionPaused)), Response: ScheduledActionResponse{}, Tag: tag, Summary: "Pause a scheduled action on every instance"},
		{Method: "POST", Pattern: "/scheduled-actions/{id}/resume", Access: Member, Handler: HandlerFunc(a.setActionStatus(store.ActionActive)), Response: ScheduledActionResponse{}, Tag: tag, Summary: "Resume a scheduled action from now, its failure count reset"},
		{Method: "POST", Pattern: "/scheduled-actions/{id}/trigger", Access: Member, Handler: HandlerFunc(a.triggerAction), Response: ScheduleRunResponse{}, Status: http.StatusAccepted, Tag: tag, Summary: "Run a scheduled action now, outside its schedule: 202 with the run to follow"},
		{Method: "GET", Pattern: "/scheduled-actions/{id}/runs", Access: Viewer, Handler: HandlerFunc(a.listScheduleRuns), Response: List[ScheduleRunResponse]{}, Tag: tag, Summary: "A scheduled action's runs, newest scheduled_for first"},
		{Method: "GET", Pattern: "/scheduled-actions/{id}/runs/{run_id}", Access: Viewer, Handler: HandlerFunc(a.getScheduleRun), Response: ScheduleRunResponse{}, Tag: tag, Summary: "One run of a scheduled action"},
	}
}

// ScheduledActionRequest creates or replaces a scheduled action. Absent
// policies take their defaults; action_config is stored exactly as sent.
type ScheduledActionRequest struct {
	Name                 string          `json:"name" doc:"1 to 200 characters."`
	Description          string          `json:"description,omitempty" doc:"At most 5000 characters."`
	AgentID              int64           `json:"agent_id,omitempty"`
	CircleID             int64           `json:"circle_id,omitempty"`
	ActionType           string          `json:"action_type" enum:"execute_pipeline,send_notification,call_api,run_task" doc:"run_task starts a background task of the action's agent_id, as the action's creator."`
	ActionConfig         json.RawMessage `json:"action_config" doc:"call_api: the http.request input {method, url, headers?, body?}; send_notification: the notify.webhook input {url, payload?, secret?}; execute_pipeline: {pipeline_id, trigger_data?}; run_task: {goal, max_steps?, timeout_seconds?, checkpoint_interval?} (an event run's goal ends with the event)."`
	ScheduleType         string          `json:"schedule_type" enum:"cron,interval,once,event" doc:"event: fires on every event event_trigger matches, with no cron_expression, interval_seconds or run_at."`
	CronExpression       string          `json:"cron_expression,omitempty" doc:"cron: five fields, six with seconds, or a macro such as @daily."`
	TimeZone             string          `json:"timezone,omitempty" doc:"The IANA zone the cron expression reads in; UTC when absent."`
	IntervalSeconds      int64           `json:"interval_seconds,omitempty" doc:"interval: 1 to 31536000."`
	RunAt                string          `json:"run_at,omitempty" format:"date-time" doc:"once: when it fires."`
	EventTrigger         json.RawMessage `json:"event_trigger,omitempty" doc:"event only: {type, topics?} as the event stream filters them: type is an event type, a prefix such as pipeline.* or *; an event must have one of the topics (or a topic below one, as circle:core below circle) when topics are given."`
	StartDate            string          `json:"start_date,omitempty" format:"date-time" doc:"No firing before; an interval fires at start_date plus whole intervals."`
	EndDate              string          `json:"end_date,omitempty" format:"date-time" doc:"No firing after: the action then expires."`
	MaxExecutions        int             `json:"max_executions,omitempty" doc:"0: unlimited. The action expires once it ran this many times (an event action: once this many events fired it)."`
	Status               string          `json:"status,omitempty" enum:"active,paused,disabled" doc:"Create: active when absent. PUT: unchanged when absent (an expired action becomes active again)."`
	OverlapPolicy        string          `json:"overlap_policy,omitempty" enum:"skip,queue_one,allow" doc:"What an occurrence does while the previous one runs; skip when absent. Not for event schedules: every matching event fires."`
	CatchupPolicy        string          `json:"catchup_policy,omitempty" enum:"skip,run_once,run_all" doc:"Which missed occurrences run; run_once when absent."`
	CatchupWindowSeconds int64           `json:"catchup_window_seconds,omitempty" doc:"Older missed occurrences never run; 3600 when absent, at most 604800."`
	CatchupMax           int             `json:"catchup_max,omitempty" doc:"The most occurrences run_all catches up; 10 when absent."`
	MaxRetries           int             `json:"max_retries,omitempty" doc:"0 to 10."`
	RetryDelaySeconds    int64           `json:"retry_delay_seconds,omitempty"`
	PauseAfterFailures   int             `json:"pause_after_failures,omitempty" doc:"Pause after this many consecutive failed runs; 0: never."`
	TimeoutSeconds       int64           `json:"timeout_seconds,omitempty" doc:"3600 when absent, at most 86400."`
	Tags                 []string        `json:"tags,omitempty" doc:"At most 20, each 1 to 50 characters."`
	Version              int64           `json:"version,omitempty" doc:"PUT: the version you read; 409 when it changed since. Absent: the latest version is replaced."`
}

// Validate implements validator: what the scheduler cannot see, the
// shapes of the times and JSON values. The scheduler checks the rest.
func (q ScheduledActionRequest) Validate() error {
	_, fields := q.times()
	if len(q.ActionConfig) == 0 || string(q.ActionConfig) == "null" {
		fields = append(fields, gathering.FieldError{Field: "action_config", Message: "is required"})
	} else if !isJSONObject(q.ActionConfig) {
		fields = append(fields, gathering.FieldError{Field: "action_config", Message: "must be an object"})
	}
	if len(q.EventTrigger) > 0 && string(q.EventTrigger) != "null" && !isJSONObject(q.EventTrigger) {
		fields = append(fields, gathering.FieldError{Field: "event_trigger", Message: "must be an object"})
	}
	if q.AgentID < 0 {
		fields = append(fields, gathering.FieldError{Field: "agent_id", Message: "must be an agent's id"})
	}
	if q.CircleID < 0 {
		fields = append(fields, gathering.FieldError{Field: "circle_id", Message: "must be a circle's id"})
	}
	if len(fields) > 0 {
		return gathering.Invalid("The scheduled action is invalid.", fields...)
	}
	return nil
}

// isJSONObject reports whether raw holds a JSON object.
func isJSONObject(raw json.RawMessage) bool {
	var v map[string]json.RawMessage
	return json.Unmarshal(raw, &v) == nil && v != nil
}

// requestTimes are the times of a request, zero when absent.
type requestTimes struct{ runAt, start, end time.Time }

// times parses the request's RFC 3339 times.
func (q ScheduledActionRequest) times() (requestTimes, []gathering.FieldError) {
	var t requestTimes
	var fields, more []gathering.FieldError
	t.runAt, fields = queryTime(q.RunAt, "run_at")
	t.start, more = queryTime(q.StartDate, "start_date")
	fields = append(fields, more...)
	t.end, more = queryTime(q.EndDate, "end_date")
	return t, append(fields, more...)
}

// apply returns a with every field the request sets; Validate passed.
func (q ScheduledActionRequest) apply(a store.ScheduledAction) store.ScheduledAction {
	t, _ := q.times()
	a.Name, a.Description, a.AgentID, a.CircleID = q.Name, q.Description, q.AgentID, q.CircleID
	a.ActionType, a.ActionConfig = q.ActionType, q.ActionConfig
	a.ScheduleType, a.CronExpression, a.TimeZone, a.IntervalSec = q.ScheduleType, q.CronExpression, q.TimeZone, q.IntervalSeconds
	a.RunAt, a.StartDate, a.EndDate, a.MaxExecutions = t.runAt, t.start, t.end, q.MaxExecutions
	a.EventTrigger = nil
	if len(q.EventTrigger) > 0 && string(q.EventTrigger) != "null" {
		a.EventTrigger = q.EventTrigger
	}
	a.OverlapPolicy, a.CatchupPolicy, a.CatchupWindowSec, a.CatchupMax = q.OverlapPolicy, q.CatchupPolicy, q.CatchupWindowSeconds, q.CatchupMax
	a.MaxRetries, a.RetryDelaySec, a.PauseAfterFailures, a.TimeoutSec = q.MaxRetries, q.RetryDelaySeconds, q.PauseAfterFailures, q.TimeoutSeconds
	a.Tags = cmpSlice(q.Tags)
	switch {
	case q.Status != "":
		a.Status = q.Status
	case a.Status == store.ActionExpired:
		a.Status = store.ActionActive
	}
	return a
}

// ScheduledActionResponse is a stored scheduled action.
type ScheduledActionResponse struct {
	ID                   int64           `json:"id"`
	Name                 string          `json:"name"`
	Description          string          `json:"description"`
	AgentID              int64           `json:"agent_id,omitempty"`
	CircleID             int64           `json:"circle_id,omitempty"`
	ActionType           string          `json:"action_type" enum:"run_task,execute_pipeline,send_notification,call_api"`
	ActionConfig         json.RawMessage `json:"action_config" doc:"Exactly as it was sent."`
	ScheduleType         string          `json:"schedule_type" enum:"cron,interval,once,event"`
	CronExpression       string          `json:"cron_expression,omitempty"`
	TimeZone             string          `json:"timezone" doc:"IANA name."`
	IntervalSeconds      int64           `json:"interval_seconds,omitempty"`
	RunAt                time.Time       `json:"run_at,omitzero"`
	EventTrigger         json.RawMessage `json:"event_trigger,omitempty"`
	StartDate            time.Time       `json:"start_date,omitzero"`
	EndDate              time.Time       `json:"end_date,omitzero"`
	MaxExecutions        int             `json:"max_executions" doc:"0: unlimited."`
	Status               string          `json:"status" enum:"active,paused,disabled,expired"`
	OverlapPolicy        string          `json:"overlap_policy" enum:"skip,queue_one,allow"`
	CatchupPolicy        string          `json:"catchup_policy" enum:"skip,run_once,run_all"`
	CatchupWindowSeconds int64           `json:"catchup_window_seconds"`
	CatchupMax           int             `json:"catchup_max"`
	MaxRetries           int             `json:"max_retries"`
	RetryDelaySeconds    int64           `json:"retry_delay_seconds"`
	PauseAfterFailures   int             `json:"pause_after_failures" doc:"0: never."`
	TimeoutSeconds       int64           `json:"timeout_seconds"`
	NextRunAt            time.Time       `json:"next_run_at,omitzero" doc:"Absent when it will not fire: paused, disabled, expired or an event schedule."`
	LastRunAt            time.Time       `json:"last_run_at,omitzero"`
	ExecutionCount       int             `json:"execution_count"`
	ConsecutiveFailures  int             `json:"consecutive_failures"`
	Tags                 []string        `json:"tags"`
	CreatedBy            int64           `json:"created_by"`
	CreatedAt            time.Time       `json:"created_at"`
	UpdatedAt            time.Time       `json:"updated_at"`
	Version              int64           `json:"version"`
}

func actionResponse(a store.ScheduledAction) ScheduledActionResponse {
	return ScheduledActionResponse{
		ID: a.ID, Name: a.Name, Description: a.Description, AgentID: a.AgentID, CircleID: a.CircleID,
		ActionType: a.ActionType, ActionConfig: a.ActionConfig,
		ScheduleType: a.ScheduleType, CronExpression: a.CronExpression, TimeZone: cmp.Or(a.TimeZone, "UTC"),
		IntervalSeconds: a.IntervalSec, RunAt: a.RunAt, EventTrigger: a.EventTrigger, StartDate: a.StartDate, EndDate: a.EndDate,
		MaxExecutions: a.MaxExecutions, Status: a.Status, OverlapPolicy: a.OverlapPolicy, CatchupPolicy: a.CatchupPolicy,
		CatchupWindowSeconds: a.CatchupWindowSec, CatchupMax: a.CatchupMax, MaxRetries: a.MaxRetries,
		RetryDelaySeconds: a.RetryDelaySec, PauseAfterFailures: a.PauseAfterFailures, TimeoutSeconds: a.TimeoutSec,
		NextRunAt: a.NextRunAt, LastRunAt: a.LastRunAt, ExecutionCount: a.ExecutionCount,
		ConsecutiveFailures: a.ConsecutiveFailures, Tags: cmpSlice(a.Tags), CreatedBy: a.CreatedBy,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, Version: a.Version,
	}
}

// ScheduleRunResponse is one occurrence of a scheduled action.
type ScheduleRunResponse struct {
	ID               string          `json:"id"`
	ActionID         int64           `json:"action_id"`
	ScheduledFor     time.Time       `json:"scheduled_for" doc:"The occurrence; with the action id, the Idempotency-Key of its calls."`
	TriggeredBy      string          `json:"triggered_by" enum:"scheduler,manual,event,recovery"`
	TriggerData      json.RawMessage `json:"trigger_data,omitempty" doc:"An event run's event: {id, type, topics, actor?, data, timestamp, depth}."`
	Depth            int             `json:"depth" doc:"0, or in a chain of event runs one more than the run that caused the event; an event that would go past 3 is recorded as a skipped run."`
	Attempt          int             `json:"attempt"`
	Status           string          `json:"status" enum:"pending,running,completed,failed,skipped"`
	Result           json.RawMessage `json:"result,omitempty" doc:"The tool's output, or the pipeline run's id and status."`
	Error            string          `json:"error,omitempty"`
	PipelineRunID    string          `json:"pipeline_run_id,omitempty"`
	BackgroundTaskID string          `json:"background_task_id,omitempty"`
	StartedAt        time.Time       `json:"started_at,omitzero"`
	FinishedAt       time.Time       `json:"finished_at,omitzero"`
	DurationMS       *int64          `json:"duration_ms,omitempty"`
}

func scheduleRunResponse(r store.ScheduleRun) ScheduleRunResponse {
	return ScheduleRunResponse{ID: r.ID, ActionID: r.ActionID, ScheduledFor: r.ScheduledFor, TriggeredBy: r.TriggeredBy,
		TriggerData: r.TriggerData, Depth: r.Depth,
		Attempt: r.Attempt, Status: r.Status, Result: r.Result, Error: r.Error, PipelineRunID: r.PipelineRunID,
		BackgroundTaskID: r.BackgroundTaskID, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		DurationMS: durationMS(r.StartedAt, r.FinishedAt)}
}

// PreviewResponse lists a schedule's next firings.
type PreviewResponse struct {
	Times []time.Time `json:"times" doc:"RFC 3339, UTC, oldest first; fewer than count when the schedule ends sooner."`
}

func (a *API) listActions(w http.ResponseWriter, r *http.Request) error {
	f, pg, err := actionFilter(r)
	if err != nil {
		return err
	}
	list, total, err := a.store.ActionList(r.Context(), f, pg)
	if err != nil {
		return err
	}
	out := List[ScheduledActionResponse]{Items: make([]ScheduledActionResponse, 0, len(list)), Total: total}
	for _, act := range list {
		out.Items = append(out.Items, actionResponse(act))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// actionFilter reads the query of the action list.
func actionFilter(r *http.Request) (store.ActionFilter, store.Page, error) {
	pg, err := page(r)
	if err != nil {
		return store.ActionFilter{}, pg, err
	}
	q := r.URL.Query()
	f := store.ActionFilter{Status: q.Get("status"), ActionType: q.Get("action_type"), Tag: q.Get("tag")}
	var fields []gathering.FieldError
	if f.Status != "" && !slices.Contains([]string{store.ActionActive, store.ActionPaused, store.ActionDisabled, store.ActionExpired}, f.Status) {
		fields = append(fields, gathering.FieldError{Field: "status", Message: "must be active, paused, disabled or expired"})
	}
	types := []string{store.ActionExecutePipeline, store.ActionSendNotification, store.ActionCallAPI, store.ActionRunTask}
	if f.ActionType != "" && !slices.Contains(types, f.ActionType) {
		fields = append(fields, gathering.FieldError{Field: "action_type", Message: "must be execute_pipeline, send_notification, call_api or run_task"})
	}
	f.AgentID = queryAgentID(q, &fields)
	if len(fields) > 0 {
		return f, pg, gathering.Invalid("The query is invalid.", fields...)
	}
	return f, pg, nil
}

func (a *API) createAction(w http.ResponseWriter, r *http.Request) error {
	var q ScheduledActionRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	act, err := a.scheduler.Create(r.Context(), q.apply(store.ScheduledAction{}), principalID(r))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/scheduled-actions/"+strconv.FormatInt(act.ID, 10))
	writeJSON(w, http.StatusCreated, actionResponse(act))
	return nil
}

func (a *API) pathAction(r *http.Request) (store.ScheduledAction, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return store.ScheduledAction{}, err
	}
	return a.store.ActionGet(r.Context(), id)
}

func (a *API) getAction(w http.ResponseWriter, r *http.Request) error {
	act, err := a.pathAction(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, actionResponse(act))
	return nil
}

// updateAction replaces an action. With a version, a stale one is a
// conflict; without, the latest version is replaced, read again when a
// firing changed it meanwhile.
func (a *API) updateAction(w http.ResponseWriter, r *http.Request) error {
	var q ScheduledActionRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		old, err := a.pathAction(r)
		if err != nil {
			return err
		}
		act := q.apply(old)
		if q.Version != 0 {
			act.Version = q.Version
		}
		act, err = a.scheduler.Update(r.Context(), act)
		if gathering.ErrorCode(err) == gathering.ECONFLICT && q.Version == 0 && attempt < maxUpdateAttempts {
			continue
		}
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, actionResponse(act))
		return nil
	}
}

func (a *API) deleteAction(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.scheduler.Delete(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// setActionStatus is a handler that pauses or resumes the path's action.
func (a *API) setActionStatus(status string) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		act, err := a.scheduler.SetStatus(r.Context(), id, status)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, actionResponse(act))
		return nil
	}
}

func (a *API) triggerAction(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	run, err := a.scheduler.Trigger(r.Context(), id)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/scheduled-actions/"+strconv.FormatInt(id, 10)+"/runs/"+run.ID)
	writeJSON(w, http.StatusAccepted, scheduleRunResponse(run))
	return nil
}

func (a *API) listScheduleRuns(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	act, err := a.pathAction(r)
	if err != nil {
		return err
	}
	runs, total, err := a.store.ScheduleRunList(r.Context(), act.ID, pg)
	if err != nil {
		return err
	}
	out := List[ScheduleRunResponse]{Items: make([]ScheduleRunResponse, 0, len(runs)), Total: total}
	for _, run := range runs {
		out.Items = append(out.Items, scheduleRunResponse(run))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getScheduleRun answers with the path's run, which must be one of the
// path's action.
func (a *API) getScheduleRun(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	run, err := a.store.ScheduleRunGet(r.Context(), r.PathValue("run_id"))
	if err == nil && run.ActionID != id {
		err = gathering.Errorf(gathering.ENOTFOUND, "The scheduled action %d has no run %q.", id, run.ID)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, scheduleRunResponse(run))
	return nil
}

func (a *API) previewSchedule(w http.ResponseWriter, r *http.Request) error {
	spec, from, count, err := previewQuery(r.URL.Query())
	if err != nil {
		return err
	}
	times, err := schedule.Preview(spec, from, count)
	if err != nil {
		return asQueryError(err)
	}
	out := PreviewResponse{Times: make([]time.Time, 0, len(times))}
	for _, t := range times {
		out.Times = append(out.Times, t.UTC())
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// previewQuery reads the schedule, start and count of a preview. Without
// schedule_type, the type is the one whose parameter is given: cron,
// interval_seconds or run_at.
func previewQuery(q url.Values) (schedule.Spec, time.Time, int, error) {
	spec := schedule.Spec{Type: q.Get("schedule_type"), Cron: q.Get("cron"), TimeZone: q.Get("timezone")}
	var fields []gathering.FieldError
	if v := q.Get("interval_seconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			fields = append(fields, gathering.FieldError{Field: "interval_seconds", Message: "must be a whole number of seconds"})
		}
		spec.IntervalSeconds = n
	}
	from := time.Now()
	for name, dst := range map[string]*time.Time{"run_at": &spec.RunAt, "start_date": &spec.StartDate, "end_date": &spec.EndDate, "from": &from} {
		t, problems := queryTime(q.Get(name), name)
		if !t.IsZero() {
			*dst = t
		}
		fields = append(fields, problems...)
	}
	count := defaultPreviewCount
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			fields = append(fields, gathering.FieldError{Field: "count", Message: "must be a whole number from 1 to " + strconv.Itoa(schedule.MaxPreview)})
		}
		count = n
	}
	if spec.Type == "" {
		if spec.Type = previewType(spec); spec.Type == "" {
			fields = append(fields, gathering.FieldError{Field: "schedule_type", Message: "is required unless cron, interval_seconds or run_at is given"})
		}
	}
	if len(fields) > 0 {
		slices.SortFunc(fields, func(a, b gathering.FieldError) int { return cmp.Compare(a.Field, b.Field) })
		return spec, from, count, gathering.Invalid("The query is invalid.", fields...)
	}
	return spec, from, count, nil
}

// previewType is the schedule type a preview's parameters imply; "" when
// none does.
func previewType(spec schedule.Spec) string {
	switch {
	case spec.Cron != "":
		return schedule.TypeCron
	case spec.IntervalSeconds != 0:
		return schedule.TypeInterval
	case !spec.RunAt.IsZero():
		return schedule.TypeOnce
	}
	return ""
}

// asQueryError renames the fields of a schedule's problems after the
// preview's query parameters: cron_expression is cron.
func asQueryError(err error) error {
	fields := gathering.ErrorFields(err)
	if gathering.ErrorCode(err) != gathering.EINVALID || len(fields) == 0 {
		return err
	}
	renamed := make([]gathering.FieldError, 0, len(fields))
	for _, f := range fields {
		if f.Field == "cron_expression" {
			f.Field = "cron"
		}
		renamed = append(renamed, f)
	}
	return gathering.Invalid("The schedule is invalid.", renamed...)
}
