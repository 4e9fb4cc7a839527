package tool

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/gathering/gathering/internal/gathering"
)

// Registry holds the registered tools. It is safe for concurrent use.
type Registry struct {
	mu    sync.RWMutex
	tools map[string]*Registered
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{tools: map[string]*Registered{}}
}

// Register validates t, compiles its schemas and adds it. It refuses a bad
// name, an unknown permission, a nil Run, a missing or invalid schema
// (EINVALID) and a name already registered (ECONFLICT).
func (r *Registry) Register(t Tool) error {
	reg, err := prepare(t)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.tools[t.Name]; dup {
		return gathering.Errorf(gathering.ECONFLICT, "The tool %q is already registered.", t.Name)
	}
	r.tools[t.Name] = reg
	return nil
}

// Get returns the tool with the given name.
func (r *Registry) Get(name string) (*Registered, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.tools[name]
	return t, ok
}

// List returns every registered tool, sorted by name.
func (r *Registry) List() []*Registered {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Registered, 0, len(r.tools))
	for _, t := range r.tools {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Registered) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Skill is a group of tools sharing the part of their name before the
// first dot.
type Skill struct {
	Name  string   // the skill, for example "fs"
	Tools []string // full tool names, sorted
}

// Skills returns the registered tools grouped by skill, sorted by name.
func (r *Registry) Skills() []Skill {
	var out []Skill
	for _, t := range r.List() {
		s := t.Skill()
		if n := len(out); n == 0 || out[n-1].Name != s {
			out = append(out, Skill{Name: s})
		}
		out[len(out)-1].Tools = append(out[len(out)-1].Tools, t.Name)
	}
	return out
}

func prepare(t Tool) (*Registered, error) {
	if err := checkTool(&t); err != nil {
		return nil, err
	}
	t.Permissions = slices.Clone(t.Permissions)
	if t.Timeout <= 0 {
		t.Timeout = DefaultTimeout
	}
	in, err := compileSchema(t.Name, "input", t.Input)
	if err != nil {
		return nil, err
	}
	reg := &Registered{Tool: t, input: in}
	if len(bytes.TrimSpace(t.Output)) > 0 {
		if reg.output, err = compileSchema(t.Name, "output", t.Output); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

func checkTool(t *Tool) error {
	switch {
	case !ValidName(t.Name):
		return gathering.Errorf(gathering.EINVALID, "The tool name %q is not of the form skill.tool.", t.Name)
	case t.Run == nil:
		return gathering.Errorf(gathering.EINVALID, "The tool %q has no body.", t.Name)
	case len(bytes.TrimSpace(t.Input)) == 0:
		return gathering.Errorf(gathering.EINVALID, "The tool %q has no input schema.", t.Name)
	}
	for _, p := range t.Permissions {
		if !p.Valid() {
			return gathering.Errorf(gathering.EINVALID, "The tool %q requires an unknown permission %q.", t.Name, p)
		}
	}
	return nil
}

// compileSchema compiles one schema with a compiler that loads nothing from
// outside: every $ref must resolve inside the document or to a meta-schema.
func compileSchema(name, which string, raw []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, schemaError(name, which, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	loc := fmt.Sprintf("urn:gathering:tool:%s:%s", name, which)
	if err := c.AddResource(loc, doc); err != nil {
		return nil, schemaError(name, which, err)
	}
	sch, err := c.Compile(loc)
	if err != nil {
		return nil, schemaError(name, which, err)
	}
	return sch, nil
}

func schemaError(name, which string, err error) error {
	e := gathering.Errorf(gathering.EINVALID, "The %s schema of the tool %q is invalid.", which, name)
	e.Err = err
	return e
}

// errRemoteRef is returned for any schema URL outside the document.
var errRemoteRef = errors.New("remote schema references are not allowed")

// noLoader refuses every URL.
type noLoader struct{}

// Load implements jsonschema.URLLoader.
func (noLoader) Load(string) (any, error) { return nil, errRemoteRef }
