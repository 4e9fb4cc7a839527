package httpapi

import (
	"cmp"
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gathering/gathering/internal/activity"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/gitrepo"
	"github.com/gathering/gathering/internal/store"
)

// gitRoutes are a project's git repository; none without a workspace
// service. Push and pull are not offered.
func (a *API) gitRoutes() []Route {
	if a.workspace == nil {
		return nil
	}
	const tag = "git"
	get := func(path string, h HandlerFunc, response any, summary string) Route {
		return Route{Method: "GET", Pattern: "/workspace/{project_id}/git/" + path, Access: Viewer, Handler: h, Response: response, Tag: tag, Summary: summary}
	}
	post := func(path string, h HandlerFunc, request, response any, summary string) Route {
		return Route{Method: "POST", Pattern: "/workspace/{project_id}/git/" + path, Access: Member, Handler: h, Request: request, Response: response, Tag: tag, Summary: summary}
	}
	return []Route{
		get("status", a.gitStatus, gitrepo.Status{}, "The branch and the changed files, staged and not"),
		get("log", a.gitLog, List[gitrepo.Commit]{}, "Commits newest first (?branch=, ?author= part of a name or email, ?limit= 1 to 200, default 20)"),
		get("history", a.gitHistory, List[gitrepo.Commit]{}, "The commits that changed a file (?path=, ?limit=)"),
		get("diff", a.gitDiff, gitrepo.Diff{}, "A unified diff: the working tree (?staged=true: the index) against HEAD or ?commit=; ?show=true: what ?commit= itself changed; ?path= narrows it"),
		get("branches", a.gitBranches, gitrepo.Branches{}, "The branches and the current one"),
		get("graph", a.gitGraph, List[gitrepo.GraphCommit]{}, "Commits of every branch and tag with their parents and refs, children first, for drawing (?limit= 1 to 1000, default 100)"),
		post("init", a.gitInit, nil, gitrepo.Status{}, "Make the project's directory a git repository (409 when it is one)"),
		post("stage", a.gitPaths(a.workspace.GitStage), PathsRequest{}, PathsRequest{}, "Stage files"),
		post("unstage", a.gitPaths(a.workspace.GitUnstage), PathsRequest{}, PathsRequest{}, "Unstage files"),
		post("commit", a.gitCommit, CommitRequest{}, gitrepo.Commit{}, "Commit what is staged, with you as the author (409 when nothing is staged)"),
	}
}

// PathsRequest names files of the project.
type PathsRequest struct {
	Paths []string `json:"paths" doc:"1 to 1000 paths in the project."`
}

// CommitRequest is a commit's message.
type CommitRequest struct {
	Message string `json:"message" doc:"The commit message; the author is the caller."`
}

// queryInt reads an optional whole-number query parameter.
func queryInt(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, gathering.Invalid("The query is invalid.", gathering.FieldError{Field: name, Message: "must be a whole number"})
	}
	return n, nil
}

// queryBool reads an optional true/false query parameter.
func queryBool(r *http.Request, name string) (bool, error) {
	b, err := strconv.ParseBool(cmp.Or(r.URL.Query().Get(name), "false"))
	if err != nil {
		return false, gathering.Invalid("The query is invalid.", gathering.FieldError{Field: name, Message: "must be true or false"})
	}
	return b, nil
}

// writeItems answers a whole list as {items, total}.
func writeItems[T any](w http.ResponseWriter, items []T) {
	writeJSON(w, http.StatusOK, List[T]{Items: append(make([]T, 0, len(items)), items...), Total: len(items)})
}

func (a *API) gitStatus(w http.ResponseWriter, r *http.Request) error {
	st, err := a.workspace.GitStatus(r.Context(), r.PathValue("project_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (a *API) gitLog(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	commits, err := a.workspace.GitLog(r.Context(), r.PathValue("project_id"), gitrepo.LogOptions{Branch: q.Get("branch"), Author: q.Get("author"), Limit: limit})
	if err != nil {
		return err
	}
	writeItems(w, commits)
	return nil
}

func (a *API) gitHistory(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	commits, err := a.workspace.GitFileHistory(r.Context(), r.PathValue("project_id"), r.URL.Query().Get("path"), limit)
	if err != nil {
		return err
	}
	writeItems(w, commits)
	return nil
}

func (a *API) gitDiff(w http.ResponseWriter, r *http.Request) error {
	staged, err := queryBool(r, "staged")
	if err != nil {
		return err
	}
	show, err := queryBool(r, "show")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	d, err := a.workspace.GitDiff(r.Context(), r.PathValue("project_id"), gitrepo.DiffOptions{Commit: q.Get("commit"), Show: show, Path: q.Get("path"), Staged: staged})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (a *API) gitBranches(w http.ResponseWriter, r *http.Request) error {
	b, err := a.workspace.GitBranches(r.Context(), r.PathValue("project_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

func (a *API) gitGraph(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	commits, err := a.workspace.GitGraph(r.Context(), r.PathValue("project_id"), limit)
	if err != nil {
		return err
	}
	writeItems(w, commits)
	return nil
}

func (a *API) gitInit(w http.ResponseWriter, r *http.Request) error {
	project := r.PathValue("project_id")
	if err := a.workspace.GitInit(r.Context(), project); err != nil {
		return err
	}
	st, err := a.workspace.GitStatus(r.Context(), project)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// gitPaths is a handler that stages or unstages the request's paths.
func (a *API) gitPaths(op func(ctx context.Context, projectID string, paths []string) ([]string, error)) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var q PathsRequest
		if err := DecodeJSON(r, &q); err != nil {
			return err
		}
		if len(q.Paths) < 1 || len(q.Paths) > 1000 {
			return gathering.Invalid("The request is invalid.", gathering.FieldError{Field: "paths", Message: "must hold 1 to 1000 paths"})
		}
		paths, err := op(r.Context(), r.PathValue("project_id"), q.Paths)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, PathsRequest{Paths: paths})
		return nil
	}
}

// gitCommit commits as the caller and records the commit in the
// project's activity.
func (a *API) gitCommit(w http.ResponseWriter, r *http.Request) error {
	var q CommitRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	p, _ := principal(r.Context())
	project := r.PathValue("project_id")
	c, err := a.workspace.GitCommit(r.Context(), project, gitrepo.CommitOptions{Message: q.Message,
		AuthorName: cmp.Or(p.User.Name, p.Email), AuthorEmail: p.Email})
	if err != nil {
		return err
	}
	a.recordActivity(r, project, store.Activity{Kind: store.ActivityCommit, Summary: "Committed: " + c.Subject})
	writeJSON(w, http.StatusOK, c)
	return nil
}

// recordActivity adds what the caller did to the project's log; a failure
// is logged, the change itself stands.
func (a *API) recordActivity(r *http.Request, projectID string, x store.Activity) {
	id, err := strconv.ParseInt(projectID, 10, 64)
	if err != nil {
		return
	}
	x.ProjectID, x.UserID, x.At, x.Summary = id, principalID(r), time.Now(), activity.Clip(x.Summary)
	if _, err := activity.Record(r.Context(), a.store, a.bus, x); err != nil {
		a.log.Warn("recording an activity failed", "project_id", id, "kind", x.Kind, "err", err)
	}
}
