package builtin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/gathering/gathering/internal/fsguard"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/tool"
)

// project is the part of every workspace tool's input naming the project.
type project struct {
	ProjectID string `json:"project_id"`
}

// body adapts a typed tool body to a tool.RunFunc: it decodes the
// (already validated) input into In and encodes the result as JSON.
func body[In any](f func(context.Context, In) (any, error)) tool.RunFunc {
	return func(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
		var in In
		if len(bytes.TrimSpace(raw)) > 0 {
			if err := json.Unmarshal(raw, &in); err != nil {
				e := gathering.Errorf(gathering.EMALFORMED, "The tool input cannot be decoded.")
				e.Err = err
				return nil, e
			}
		}
		out, err := f(ctx, in)
		if err != nil {
			return nil, err
		}
		return encode(out)
	}
}

func encode(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		e := gathering.Errorf(gathering.EINTERNAL, "The tool output cannot be encoded.")
		e.Err = err
		return nil, e
	}
	return b, nil
}

// workspaces wraps the configured Workspaces for the tools.
type workspaces struct{ Workspaces }

// root resolves projectID to its workspace root.
func (w workspaces) root(ctx context.Context, projectID string) (string, error) {
	root, err := w.Root(ctx, projectID)
	if err != nil {
		return "", pointerFields(err)
	}
	return root, nil
}

// with resolves projectID, opens its workspace with fsguard for the
// duration of f, and closes it afterwards.
func (w workspaces) with(ctx context.Context, projectID string, f func(root string, dir *fsguard.Dir) (any, error)) (any, error) {
	root, err := w.root(ctx, projectID)
	if err != nil {
		return nil, err
	}
	dir, err := fsguard.Open(root)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	return f(root, dir)
}

// withPath is with for a tool whose input names one path at the JSON
// pointer ptr: an error about it carries that field.
func (w workspaces) withPath(ctx context.Context, projectID, ptr string, f func(dir *fsguard.Dir) (any, error)) (any, error) {
	return w.with(ctx, projectID, func(_ string, dir *fsguard.Dir) (any, error) {
		out, err := f(dir)
		return out, atField(err, ptr)
	})
}

// atField gives an error without field details the field ptr, so path
// refusals name the input they refuse.
func atField(err error, ptr string) error {
	e, ok := errors.AsType[*gathering.Error](err)
	if !ok || len(e.Fields) > 0 || e.Code == gathering.EINTERNAL {
		return err
	}
	c := *e
	c.Fields = []gathering.FieldError{{Field: ptr, Message: e.Message}}
	return &c
}

// pointerFields rewrites the field names of a *gathering.Error that name a
// top-level input field ("expression") as the JSON pointers the registry
// reports ("/expression"). Other errors are returned as they are.
func pointerFields(err error) error {
	return gathering.RenameFields(err, func(f string) string {
		if f != "" && !strings.HasPrefix(f, "/") {
			return tool.Pointer(f)
		}
		return f
	})
}

// fieldError returns an error with code and message, carrying one
// FieldError at the JSON pointer ptr.
func fieldError(code, ptr, msg string) *gathering.Error {
	return &gathering.Error{Code: code, Message: msg, Fields: []gathering.FieldError{{Field: ptr, Message: msg}}}
}
