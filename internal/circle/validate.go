package circle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// Limits of circles, members and tasks.
const (
	MaxDescription       = 5000   // characters of a circle's description
	DefaultMaxConcurrent = 5      // a circle's max_concurrent_tasks when not given
	MaxConcurrentLimit   = 100    // the highest max_concurrent_tasks
	MaxMembers           = 500    // members of one circle
	MaxCompetencies      = 20     // competencies of a member, or required by a task
	MaxCompetency        = 50     // characters of one competency
	MaxTitle             = 200    // characters of a task's title
	MaxTaskDescription   = 20_000 // characters of a task's description
	MaxResult            = 100_000
	MaxFiles             = 500  // paths in files_modified
	MaxPath              = 500  // characters of one path
	MaxComment           = 2000 // characters of a review's comments or reason
	MaxResolution        = 2000 // characters of a conflict's resolution
	DefaultPriority      = 5
	minPriority          = 1
	maxPriority          = 10
)

// Priorities are the named priorities a task may be given instead of a
// number from 1 to 10.
var Priorities = map[string]int{"low": 3, "medium": 5, "high": 7, "critical": 9}

// problems collects field errors.
type problems []gathering.FieldError

// add records what is wrong with field.
func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, gathering.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// err is nil without problems, else EINVALID with them.
func (p problems) err(what string) error {
	if len(p) == 0 {
		return nil
	}
	return gathering.Invalid("The "+what+" is invalid.", p...)
}

// runes counts the characters of s.
func runes(s string) int { return len([]rune(s)) }

// checkText records a problem when s has more than most characters.
func (p *problems) checkText(field, s string, most int) {
	if runes(s) > most {
		p.add(field, "at most %d characters", most)
	}
}

// checkCompetencies records the problems of a list of competencies.
func (p *problems) checkCompetencies(field string, list []string) {
	if len(list) > MaxCompetencies {
		p.add(field, "at most %d competencies", MaxCompetencies)
		return
	}
	for i, c := range list {
		if n := runes(strings.TrimSpace(c)); n < 1 || n > MaxCompetency {
			p.add(fmt.Sprintf("%s/%d", field, i), "must be 1 to %d characters", MaxCompetency)
		}
	}
}

// cleanCompetencies trims each competency; nil stays nil.
func cleanCompetencies(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = strings.TrimSpace(c)
	}
	return out
}

// checkName records the problem of a circle's name.
func (p *problems) checkName(name string) {
	if !store.ValidCircleName(name) {
		p.add("name", "must be 1 to %d letters, digits, '.', '_' or '-', starting with a letter or a digit", store.MaxCircleName)
	}
}

// checkMaxConcurrent records the problem of a max_concurrent_tasks.
func (p *problems) checkMaxConcurrent(n int) {
	if n < 1 || n > MaxConcurrentLimit {
		p.add("max_concurrent_tasks", "must be between 1 and %d", MaxConcurrentLimit)
	}
}

// ParsePriority reads a priority given as a JSON number from 1 to 10 or
// as one of the names low, medium, high and critical (3, 5, 7 and 9);
// absent (empty or null) is 0, for the default. EINVALID on the field
// priority otherwise.
func ParsePriority(raw json.RawMessage) (int, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var name string
	if json.Unmarshal(raw, &name) == nil {
		if n, ok := Priorities[strings.ToLower(name)]; ok {
			return n, nil
		}
	} else if n, err := strconv.Atoi(string(raw)); err == nil && n >= minPriority && n <= maxPriority {
		return n, nil
	}
	return 0, gathering.Invalid("The task is invalid.", gathering.FieldError{Field: "priority",
		Message: "must be a whole number from 1 to 10, or low, medium, high or critical"})
}

// cleanPaths normalises the paths of files_modified (slashes, no "./",
// no trailing slash) and drops duplicates, recording the problems of the
// list: too many, empty, too long, or leaving the project.
func (p *problems) cleanPaths(field string, list []string) []string {
	if len(list) > MaxFiles {
		p.add(field, "at most %d paths", MaxFiles)
		return nil
	}
	out := make([]string, 0, len(list))
	for i, raw := range list {
		clean := cleanPath(raw)
		switch {
		case runes(raw) > MaxPath:
			p.add(fmt.Sprintf("%s/%d", field, i), "at most %d characters", MaxPath)
		case clean == "" || clean == "." || clean == ".." || strings.HasPrefix(clean, "../"):
			p.add(fmt.Sprintf("%s/%d", field, i), "must be a path inside the project")
		default:
			if !slices.Contains(out, clean) {
				out = append(out, clean)
			}
		}
	}
	return out
}

// cleanPath is a path in one form whoever wrote it: forward slashes,
// relative to the project ("/src/a.go" and "./src/a.go" are "src/a.go"),
// cleaned; "" for an empty one.
func cleanPath(p string) string {
	p = strings.TrimLeft(strings.TrimSpace(strings.ReplaceAll(p, "\\", "/")), "/")
	if p == "" {
		return ""
	}
	return path.Clean(p)
}
