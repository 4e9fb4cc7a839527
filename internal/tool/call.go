package tool

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/gathering/gathering/internal/gathering"
)

// Caller is who calls a tool: a user with a role, or an agent with its
// enabled skills.
//
// Skills == nil means a user; a non-nil (possibly empty) slice means an
// agent, which may call only the tools of its skills. Build callers with
// UserCaller and AgentCaller so an agent with no skills is never mistaken
// for a user.
type Caller struct {
	Role   gathering.Role
	Skills []string
}

// UserCaller returns the caller for a user with the given role.
func UserCaller(role gathering.Role) Caller { return Caller{Role: role} }

// AgentCaller returns the caller for an agent with the given enabled skills.
func AgentCaller(skills ...string) Caller {
	return Caller{Skills: append([]string{}, skills...)}
}

// IsAgent reports whether the caller is an agent.
func (c Caller) IsAgent() bool { return c.Skills != nil }

// Allowed reports whether the caller may call t. A user needs RoleAdmin for
// a tool requiring PermAdmin, at least RoleMember for any other permission
// and at least RoleViewer for a tool requiring none. An agent needs the
// tool's skill among its enabled skills.
func (c Caller) Allowed(t *Tool) bool {
	if c.IsAgent() {
		return slices.Contains(c.Skills, t.Skill())
	}
	return c.Role.AtLeast(requiredRole(t.Permissions))
}

func requiredRole(perms []Permission) gathering.Role {
	switch {
	case slices.Contains(perms, PermAdmin):
		return gathering.RoleAdmin
	case len(perms) > 0:
		return gathering.RoleMember
	}
	return gathering.RoleViewer
}

// Call is the one execution path for tools. It resolves name (ENOTFOUND),
// checks the caller's permissions (EFORBIDDEN), validates input (EMALFORMED,
// or EINVALID listing every violation; the body does not run), runs the body
// under the tool's timeout (ETIMEOUT; the caller's own cancellation is
// returned as is) and validates the output when the tool has an output
// schema (EINTERNAL).
func (r *Registry) Call(ctx context.Context, caller Caller, name string, input json.RawMessage) (json.RawMessage, error) {
	t, err := r.admit(caller, name, input)
	if err != nil {
		return nil, err
	}
	return t.invoke(ctx, input)
}

// admit runs the checks that come before a tool body: resolve, permission,
// input validation, availability.
func (r *Registry) admit(caller Caller, name string, input json.RawMessage) (*Registered, error) {
	t, ok := r.Get(name)
	if !ok {
		return nil, gathering.Errorf(gathering.ENOTFOUND, "The tool %q does not exist.", name)
	}
	if !caller.Allowed(&t.Tool) {
		return nil, gathering.Errorf(gathering.EFORBIDDEN, "You may not call the tool %q.", name)
	}
	if err := t.ValidateInput(input); err != nil {
		return nil, err
	}
	if err := t.available(); err != nil {
		return nil, err
	}
	return t, nil
}

// invoke runs the body and validates its output.
func (t *Registered) invoke(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
	out, err := t.run(ctx, input)
	if err != nil {
		return nil, err
	}
	if err := t.validateOutput(out); err != nil {
		return nil, err
	}
	return out, nil
}

// ValidateInput checks input against the tool's input schema exactly as
// Call does; empty input counts as {}.
func (t *Registered) ValidateInput(input json.RawMessage) error {
	return validateInput(t.input, input)
}

// available reports EUNAVAILABLE when the tool's Check fails.
func (t *Registered) available() error {
	if t.Check == nil {
		return nil
	}
	if err := t.Check(); err != nil {
		e := gathering.Errorf(gathering.EUNAVAILABLE, "The tool %q is unavailable.", t.Name)
		e.Err = err
		return e
	}
	return nil
}

// run runs the body with the tool's timeout and maps its failure.
func (t *Registered) run(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
	rctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	out, err := t.safeRun(rctx, input)
	switch {
	case err == nil:
		return out, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		e := gathering.Errorf(gathering.ETIMEOUT, "The tool %q ran out of time after %s.", t.Name, t.Timeout)
		e.Err = err
		return nil, e
	}
	return nil, err
}

// safeRun calls the body, turning a panic into EINTERNAL.
func (t *Registered) safeRun(ctx context.Context, input json.RawMessage) (out json.RawMessage, err error) {
	defer func() {
		if p := recover(); p != nil {
			e := gathering.Errorf(gathering.EINTERNAL, "The tool %q failed.", t.Name)
			e.Err = fmt.Errorf("panic: %v", p)
			out, err = nil, e
		}
	}()
	return t.Run(ctx, input)
}

// validateOutput checks out against the output schema, if any. A mismatch
// is the tool's fault, never the caller's: EINTERNAL naming the tool.
func (t *Registered) validateOutput(out json.RawMessage) error {
	if t.output == nil {
		return nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		return outputError(t.Name, err)
	}
	if fields := violations(t.output, doc); len(fields) > 0 {
		return outputError(t.Name, fmt.Errorf("output violations: %v", fields))
	}
	return nil
}

func outputError(name string, err error) error {
	e := gathering.Errorf(gathering.EINTERNAL, "The tool %q returned an invalid output.", name)
	e.Err = err
	return e
}
