package httpapi

import (
	"bytes"
	"cmp"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/workspace"
)

// fileBodyLimit bounds a file written through the API: the largest file
// the workspace handles, JSON-escaped.
const fileBodyLimit = 12 << 20

// workspaceRoutes are a project's files; none without a workspace service.
func (a *API) workspaceRoutes() []Route {
	if a.workspace == nil {
		return nil
	}
	const tag = "workspace"
	return []Route{
		{Method: "GET", Pattern: "/workspace/{project_id}/info", Access: Viewer, Handler: HandlerFunc(a.workspaceInfo), Response: workspace.Info{}, Tag: tag, Summary: "The project's directory: whether it is a git repository, its file count and size"},
		{Method: "GET", Pattern: "/workspace/{project_id}/files", Access: Viewer, Handler: HandlerFunc(a.workspaceTree), Response: workspace.Tree{}, Tag: tag, Summary: "The file tree (?max_depth= 1 to 20, default 3; ?git_status=true), without what .gitignore ignores, .git and secret files"},
		{Method: "GET", Pattern: "/workspace/{project_id}/file", Access: Viewer, Handler: HandlerFunc(a.readFile), Response: workspace.File{}, Tag: tag, Summary: "A file (?path=): text with its encoding, type, lines, size, time and hash (also the ETag); binary files are reported as such. 403 for any path outside the project or not allowed"},
		{Method: "PUT", Pattern: "/workspace/{project_id}/file", Access: Member, Handler: HandlerFunc(a.writeFile), Request: FileRequest{}, Response: workspace.File{}, BodyLimit: fileBodyLimit, Tag: tag, Summary: "Create or replace a file (?path=); If-Match: <hash> writes only over that content (412 otherwise)"},
		{Method: "DELETE", Pattern: "/workspace/{project_id}/file", Access: Member, Handler: HandlerFunc(a.deleteFile), Status: http.StatusNoContent, Tag: tag, Summary: "Delete a file or an empty directory (?path=)"},
		{Method: "GET", Pattern: "/workspace/{project_id}/file/raw", Access: Viewer, Handler: HandlerFunc(a.rawFile), Response: "", ContentType: "application/octet-stream", Tag: tag, Summary: "A file's bytes (?path=) with its Content-Type, nosniff, and a sandbox CSP so that HTML or SVG cannot run script in this origin"},
	}
}

// FileRequest is the body of a file write.
type FileRequest struct {
	Content string `json:"content" doc:"The file's text, at most 10 MiB."`
	Backup  bool   `json:"backup,omitempty" doc:"Keep the previous content as <path>.bak (then .bak.1, …)."`
}

func (a *API) workspaceInfo(w http.ResponseWriter, r *http.Request) error {
	info, err := a.workspace.Info(r.Context(), r.PathValue("project_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

func (a *API) workspaceTree(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	depth := workspace.DefaultTreeDepth
	var fields []gathering.FieldError
	if v := q.Get("max_depth"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			fields = append(fields, gathering.FieldError{Field: "max_depth", Message: "must be a whole number from 1 to 20"})
		}
		depth = n
	}
	withGit, err := strconv.ParseBool(cmp.Or(q.Get("git_status"), "false"))
	if err != nil {
		fields = append(fields, gathering.FieldError{Field: "git_status", Message: "must be true or false"})
	}
	if len(fields) > 0 {
		return gathering.Invalid("The query is invalid.", fields...)
	}
	tree, err := a.workspace.Tree(r.Context(), r.PathValue("project_id"), depth, withGit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tree)
	return nil
}

func (a *API) readFile(w http.ResponseWriter, r *http.Request) error {
	f, err := a.workspace.Read(r.Context(), r.PathValue("project_id"), r.URL.Query().Get("path"))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", strconv.Quote(f.Hash))
	writeJSON(w, http.StatusOK, f)
	return nil
}

func (a *API) writeFile(w http.ResponseWriter, r *http.Request) error {
	var q FileRequest
	if err := DecodeJSON(r, &q); err != nil {
		return err
	}
	ifMatch := strings.Trim(r.Header.Get("If-Match"), `"`)
	f, err := a.workspace.Write(r.Context(), r.PathValue("project_id"), r.URL.Query().Get("path"), q.Content, ifMatch, q.Backup)
	if err != nil {
		return preconditionFailed(err)
	}
	kind, verb := store.ActivityFileEdited, "Edited "
	if f.Created {
		kind, verb = store.ActivityFileCreated, "Created "
	}
	a.recordActivity(r, r.PathValue("project_id"), store.Activity{Kind: kind, Summary: verb + f.Path, Path: f.Path})
	w.Header().Set("ETag", strconv.Quote(f.Hash))
	writeJSON(w, http.StatusOK, f)
	return nil
}

// preconditionFailed answers a stale If-Match with 412 rather than 409.
func preconditionFailed(err error) error {
	for _, f := range gathering.ErrorFields(err) {
		if f.Field == "if_match" {
			return &gathering.Error{Code: codePreconditionFailed, Message: gathering.ErrorMessage(err),
				Fields: gathering.ErrorFields(err), Err: err}
		}
	}
	return err
}

func (a *API) deleteFile(w http.ResponseWriter, r *http.Request) error {
	path := r.URL.Query().Get("path")
	if err := a.workspace.Delete(r.Context(), r.PathValue("project_id"), path); err != nil {
		return err
	}
	a.recordActivity(r, r.PathValue("project_id"), store.Activity{Kind: store.ActivityFileDeleted, Summary: "Deleted " + path, Path: path})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rawFile serves a file's bytes so that a browser never runs them in this
// origin: nosniff keeps the declared type, and the sandbox CSP gives HTML
// and SVG an opaque origin without script.
func (a *API) rawFile(w http.ResponseWriter, r *http.Request) error {
	f, err := a.workspace.Raw(r.Context(), r.PathValue("project_id"), r.URL.Query().Get("path"))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'")
	h.Set("ETag", strconv.Quote(f.Hash))
	http.ServeContent(w, r, "", f.Modified.UTC().Truncate(time.Second), bytes.NewReader(f.Data))
	return nil
}
