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
	mu     sync.RWMutex
	tools  map[string]*Registered
	skills map[string]SkillDoc
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{tools: map[string]*Registered{}, skills: map[string]SkillDoc{}}
}

// SkillDoc describes a skill to people.
type SkillDoc struct {
	DisplayName string
	Description string
	Category    string // "general" when empty
}

// DescribeSkill sets how a skill is presented; a skill without a
// description is shown by its name alone.
func (r *Registry) DescribeSkill(skill string, d SkillDoc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.skills[skill] = d
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
	Name string // the skill, for example "fs"
	SkillDoc
	Tools       []string     // full tool names, sorted
	Permissions []Permission // every permission its tools require, sorted
	Dangerous   bool         // some tool of the skill is dangerous
}

// Skills returns the registered tools grouped by skill, sorted by name.
func (r *Registry) Skills() []Skill {
	var out []Skill
	for _, t := range r.List() {
		s := t.Skill()
		if n := len(out); n == 0 || out[n-1].Name != s {
			out = append(out, Skill{Name: s, SkillDoc: r.skillDoc(s)})
		}
		sk := &out[len(out)-1]
		sk.Tools = append(sk.Tools, t.Name)
		sk.Dangerous = sk.Dangerous || t.Dangerous
		for _, p := range t.Permissions {
			if !slices.Contains(sk.Permissions, p) {
				sk.Permissions = append(sk.Permissions, p)
			}
		}
		slices.Sort(sk.Permissions)
	}
	return out
}

func (r *Registry) skillDoc(skill string) SkillDoc {
	r.mu.RLock()
	defer r.mu.RUnlock()
	d := r.skills[skill]
	d.DisplayName = cmp.Or(d.DisplayName, skill)
	d.Category = cmp.Or(d.Category, "general")
	return d
}

// RequiredRole is the least role a user needs to call t, or to let an
// agent use its skill: admin for a tool requiring PermAdmin, member for any
// other permission, viewer for none.
func RequiredRole(t *Tool) gathering.Role { return requiredRole(t.Permissions) }

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

// RequiredRole is the least role a user needs to let an agent use the
// skill: the most any of its tools requires.
func (s Skill) RequiredRole() gathering.Role { return requiredRole(s.Permissions) }
