package tool

import (
	"context"
	"encoding/json"
	"regexp"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Permission is a capability a tool needs from its caller.
type Permission string

// The permissions a tool may require.
const (
	PermFSRead  Permission = "fs.read"  // reads files in a workspace
	PermFSWrite Permission = "fs.write" // writes or deletes files in a workspace
	PermNet     Permission = "net"      // makes network requests
	PermExec    Permission = "exec"     // runs programs
	PermGit     Permission = "git"      // reads or changes a git repository
	PermManage  Permission = "manage"   // creates or changes the server's own resources (tasks, runs, schedules, goals)
	PermAdmin   Permission = "admin"    // administers the server
)

// Valid reports whether p is one of the known permissions.
func (p Permission) Valid() bool {
	switch p {
	case PermFSRead, PermFSWrite, PermNet, PermExec, PermGit, PermManage, PermAdmin:
		return true
	}
	return false
}

// DefaultTimeout is the timeout of a tool that does not set one.
const DefaultTimeout = 30 * time.Second

// RunFunc is a tool body. It receives input that has already been validated
// against the tool's input schema and must honour ctx's cancellation.
type RunFunc func(ctx context.Context, input json.RawMessage) (json.RawMessage, error)

// Tool describes one callable tool.
type Tool struct {
	// Name is "skill.tool": lower-case [a-z0-9_] segments joined by dots,
	// at least two segments (for example "calc.eval" or "mcp.files.read").
	Name string
	// Description tells people and models what the tool does.
	Description string
	// Input is the JSON Schema (draft 2020-12 unless it says otherwise) of
	// the input. Required.
	Input json.RawMessage
	// Output is the optional JSON Schema of the output.
	Output json.RawMessage
	// Permissions lists what the caller needs to run the tool.
	Permissions []Permission
	// Dangerous marks a tool whose calls need a confirmation.
	Dangerous bool
	// Timeout bounds one run; zero means DefaultTimeout.
	Timeout time.Duration
	// Async marks a long-running tool: an Executor always runs it in the
	// background.
	Async bool
	// Concurrency caps how many runs of the tool an Executor runs at once;
	// zero means the Executor's default. Further calls wait, pending.
	Concurrency int
	// Run is the tool body. Required.
	Run RunFunc
	// Check, when set, reports whether the tool can run now (an MCP tool
	// whose server is down cannot); Call fails with EUNAVAILABLE, carrying
	// Check's error, without running the body.
	Check func() error
}

// Skill returns the part of the name before the first dot.
func (t *Tool) Skill() string {
	s, _ := splitName(t.Name)
	return s
}

// Registered is a tool with its compiled schemas, as held by a Registry.
// It must not be modified.
type Registered struct {
	Tool
	input  *jsonschema.Schema
	output *jsonschema.Schema
}

var nameRE = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)+$`)

// ValidName reports whether name is a well-formed "skill.tool" name.
func ValidName(name string) bool { return len(name) <= 200 && nameRE.MatchString(name) }

func splitName(name string) (skill, rest string) {
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			return name[:i], name[i+1:]
		}
	}
	return name, ""
}
