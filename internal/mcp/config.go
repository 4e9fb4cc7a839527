package mcp

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/tool"
)

// Setting is the name of the configuration variable ParseServers reads.
const Setting = "GATHERING_MCP_SERVERS"

// Server is one configured MCP server: either a program (Command) or a
// Streamable HTTP endpoint (URL).
type Server struct {
	// Name is [a-z0-9_]{1,64}; the server's tools are mcp.<Name>.<tool>.
	Name string
	// Command is the program and its arguments, run without a shell.
	Command []string
	// URL is the Streamable HTTP endpoint (http or https).
	URL string
	// Env is the extra environment of a Command server, as KEY=value
	// entries. The program sees only PATH, HOME and these: GatheRing's own
	// secrets are not inherited.
	Env []string
}

// entry is one element of the setting as written.
type entry struct {
	Name    string            `json:"name"`
	Command []string          `json:"command"`
	URL     string            `json:"url"`
	Env     map[string]string `json:"env"`
}

var (
	serverName = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)
	envName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// ParseServers parses the GATHERING_MCP_SERVERS setting, a JSON array of
// {"name", "command": [program, args...] | "url", "env": {KEY: value}}
// objects; an empty setting means no servers. Every problem is reported at
// once in one EINVALID error whose fields are JSON pointers into the
// setting and whose message names each faulty entry.
func ParseServers(s string) ([]Server, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, invalidSetting([]gathering.FieldError{{Field: "", Message: "must be a JSON array of server objects (" + err.Error() + ")"}})
	}
	var (
		out      []Server
		problems []gathering.FieldError
		seen     = map[string]bool{}
	)
	for i, r := range raw {
		srv, fe := parseEntry(r)
		if fe == nil && seen[srv.Name] {
			fe = &gathering.FieldError{Field: "/name", Message: "is used by an earlier entry"}
		}
		if fe != nil {
			problems = append(problems, entryProblem(i, srv.Name, *fe))
			continue
		}
		seen[srv.Name] = true
		out = append(out, srv)
	}
	if len(problems) > 0 {
		return nil, invalidSetting(problems)
	}
	return out, nil
}

// invalidSetting is the EINVALID error listing problems.
func invalidSetting(problems []gathering.FieldError) error {
	msgs := make([]string, len(problems))
	for i, p := range problems {
		msgs[i] = p.Message
	}
	return gathering.Invalid(Setting+": "+strings.Join(msgs, "; "), problems...)
}

// entryProblem places fe, relative to entry i, in the whole setting and
// words its message so that it names the entry.
func entryProblem(i int, name string, fe gathering.FieldError) gathering.FieldError {
	subject := cmp.Or(strings.ReplaceAll(strings.TrimPrefix(fe.Field, "/"), "/", "."), "it")
	return gathering.FieldError{
		Field:   fmt.Sprintf("/%d%s", i, fe.Field),
		Message: fmt.Sprintf("entry %d (%q): %s %s", i+1, name, subject, fe.Message),
	}
}

// parseEntry decodes and checks one entry. The returned Server carries the
// name even when the entry is invalid, so the error can name it.
func parseEntry(raw json.RawMessage) (Server, *gathering.FieldError) {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return Server{}, &gathering.FieldError{Message: "is null, not a server object"}
	}
	var e entry
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Server{}, &gathering.FieldError{Message: "is not a server object: " + err.Error()}
	}
	srv := Server{Name: e.Name, Command: e.Command, URL: e.URL, Env: envList(e.Env)}
	return srv, checkEntry(&e)
}

// checkEntry reports the first problem of a decoded entry.
func checkEntry(e *entry) *gathering.FieldError {
	problem := func(field, msg string) *gathering.FieldError {
		return &gathering.FieldError{Field: field, Message: msg}
	}
	switch {
	case e.Name == "":
		return problem("/name", "is required")
	case !serverName.MatchString(e.Name):
		return problem("/name", "must be 1 to 64 characters among a-z, 0-9 and _")
	case e.Command != nil && e.URL != "":
		return problem("/url", "cannot be set together with command")
	case e.Command == nil && e.URL == "":
		return problem("", "needs either command or url")
	case e.URL != "" && e.Env != nil:
		return problem("/env", "applies only to command servers")
	case e.URL != "":
		return checkURL(e.URL)
	}
	if fe := checkCommand(e.Command); fe != nil {
		return fe
	}
	return checkEnv(e.Env)
}

// checkURL accepts an absolute http or https URL.
func checkURL(s string) *gathering.FieldError {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &gathering.FieldError{Field: "/url", Message: "must be an http:// or https:// URL"}
	}
	return nil
}

// checkCommand accepts a non-empty program and NUL-free arguments.
func checkCommand(cmd []string) *gathering.FieldError {
	if len(cmd) == 0 || cmd[0] == "" {
		return &gathering.FieldError{Field: "/command", Message: "must start with a program"}
	}
	for i, a := range cmd {
		if strings.ContainsRune(a, 0) {
			return &gathering.FieldError{Field: tool.Pointer("command", fmt.Sprint(i)), Message: "contains a NUL byte"}
		}
	}
	return nil
}

// checkEnv accepts portable variable names and NUL-free values.
func checkEnv(env map[string]string) *gathering.FieldError {
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if !envName.MatchString(k) || strings.ContainsRune(env[k], 0) {
			return &gathering.FieldError{Field: tool.Pointer("env", k), Message: "must be a name like API_TOKEN with a value without NUL bytes"}
		}
	}
	return nil
}

// envList turns the env object into sorted KEY=value entries.
func envList(env map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}
