package httpapi

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gathering/gathering/internal/activity"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// activityRoutes are a project's activity log; none without a workspace
// service.
func (a *API) activityRoutes() []Route {
	if a.workspace == nil {
		return nil
	}
	const tag = "workspace"
	return []Route{
		{Method: "GET", Pattern: "/workspace/{project_id}/activities", Access: Viewer, Handler: HandlerFunc(a.listActivities), Response: List[ActivityResponse]{}, Tag: tag, Summary: "The project's activity, newest first (?kind=, ?user_id=, ?agent_id=, ?path=, ?since=, ?until= as RFC 3339)"},
		{Method: "GET", Pattern: "/workspace/{project_id}/activities/stats", Access: Viewer, Handler: HandlerFunc(a.activityStats), Response: ActivityStatsResponse{}, Tag: tag, Summary: "How many activities of each kind (?since=, ?until=)"},
		{Method: "POST", Pattern: "/workspace/{project_id}/activities", Access: Member, Handler: HandlerFunc(a.addActivity), Request: ActivityRequest{}, Response: ActivityResponse{}, Status: http.StatusCreated, Tag: tag, Summary: "Record an activity (a test run, a build, a discussion, …) as you"},
	}
}

// ActivityRequest records an activity.
type ActivityRequest struct {
	Kind    string          `json:"kind" enum:"file_created,file_edited,file_deleted,commit,test_run,build,discussion,command_executed"`
	Summary string          `json:"summary" doc:"1 to 500 characters."`
	Path    string          `json:"path,omitempty" doc:"The file it concerns."`
	Details json.RawMessage `json:"details,omitempty" doc:"A JSON object."`
}

// Validate checks the request.
func (q ActivityRequest) Validate() error {
	var fields []gathering.FieldError
	if !slices.Contains(store.ActivityKinds, q.Kind) {
		fields = append(fields, gathering.FieldError{Field: "kind", Message: "must be one of the activity kinds"})
	}
	if n := len([]rune(q.Summary)); n < 1 || n > activity.MaxSummary {
		fields = append(fields, gathering.FieldError{Field: "summary", Message: fmt.Sprintf("must be 1 to %d characters", activity.MaxSummary)})
	}
	if len(q.Path) > 4096 {
		fields = append(fields, gathering.FieldError{Field: "path", Message: "at most 4096 bytes"})
	}
	if len(q.Details) > 0 && !isJSONObject(q.Details) {
		fields = append(fields, gathering.FieldError{Field: "details", Message: "must be a JSON object"})
	}
	if len(fields) > 0 {
		return gathering.Invalid("The activity is invalid.", fields...)
	}
	return nil
}

// ActivityResponse is one entry of a project's activity log.
type ActivityResponse struct {
	ID        int64           `json:"id"`
	ProjectID int64           `json:"project_id"`
	Kind      string          `json:"kind"`
	Summary   string          `json:"summary"`
	Path      string          `json:"path,omitempty"`
	Details   json.RawMessage `json:"details"`
	UserID    int64           `json:"user_id,omitempty"`
	AgentID   int64           `json:"agent_id,omitempty"`
	At        time.Time       `json:"at"`
}

// ActivityStatsResponse counts a project's activities by kind.
type ActivityStatsResponse struct {
	Counts map[string]int `json:"counts"`
	Total  int            `json:"total"`
}

func activityResponse(x store.Activity) ActivityResponse {
	return ActivityResponse{ID: x.ID, ProjectID: x.ProjectID, Kind: x.Kind, Summary: x.Summary, Path: x.Path,
		Details: x.Details, UserID: x.UserID, AgentID: x.AgentID, At: x.At}
}

// pathProjectID reads {project_id} and checks that the project exists.
func (a *API) pathProjectID(r *http.Request) (int64, error) {
	id, err := pathID(r, "project_id")
	if err != nil {
		return 0, err
	}
	_, err = a.store.ProjectGet(r.Context(), id)
	return id, err
}

func (a *API) addActivity(w http.ResponseWriter, r *http.Request) error {
	var q ActivityRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	id, err := a.pathProjectID(r)
	if err != nil {
		return err
	}
	x, err := activity.Record(r.Context(), a.store, a.bus, store.Activity{ProjectID: id, Kind: q.Kind, Summary: q.Summary,
		Path: q.Path, Details: q.Details, UserID: principalID(r), At: time.Now()})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, activityResponse(x))
	return nil
}

// activityFilter reads the query of the activity list and stats.
func activityFilter(r *http.Request, projectID int64) (store.ActivityFilter, error) {
	q := r.URL.Query()
	f := store.ActivityFilter{ProjectID: projectID, Kind: q.Get("kind"), Path: q.Get("path")}
	var fields []gathering.FieldError
	if f.Kind != "" && !slices.Contains(store.ActivityKinds, f.Kind) {
		fields = append(fields, gathering.FieldError{Field: "kind", Message: "must be one of the activity kinds"})
	}
	f.AgentID = queryAgentID(q, &fields)
	f.UserID = queryID(q, "user_id", "must be a user's id", &fields)
	for name, t := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			at, err := time.Parse(time.RFC3339, v)
			if err != nil {
				fields = append(fields, gathering.FieldError{Field: name, Message: "must be an RFC 3339 time"})
			}
			*t = at
		}
	}
	if len(fields) > 0 {
		slices.SortFunc(fields, func(x, y gathering.FieldError) int { return cmp.Compare(x.Field, y.Field) })
		return f, gathering.Invalid("The query is invalid.", fields...)
	}
	return f, nil
}

func (a *API) listActivities(w http.ResponseWriter, r *http.Request) error {
	id, err := a.pathProjectID(r)
	if err != nil {
		return err
	}
	pg, err := page(r)
	if err != nil {
		return err
	}
	f, err := activityFilter(r, id)
	if err != nil {
		return err
	}
	list, total, err := a.store.ActivityList(r.Context(), f, pg)
	if err != nil {
		return err
	}
	out := List[ActivityResponse]{Items: make([]ActivityResponse, 0, len(list)), Total: total}
	for _, x := range list {
		out.Items = append(out.Items, activityResponse(x))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) activityStats(w http.ResponseWriter, r *http.Request) error {
	id, err := a.pathProjectID(r)
	if err != nil {
		return err
	}
	f, err := activityFilter(r, id)
	if err != nil {
		return err
	}
	counts, err := a.store.ActivityStats(r.Context(), f)
	if err != nil {
		return err
	}
	out := ActivityStatsResponse{Counts: counts}
	for _, n := range counts {
		out.Total += n
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
