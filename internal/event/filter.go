package event

import "strings"

// Filter selects events. An empty list matches everything; otherwise an
// event must match one of the Types and one of the Topics.
//
// A type pattern is an exact type, "*" (every type) or a prefix ending in
// ".*": "pipeline.*" matches pipeline.x and pipeline.x.y but not pipeline.
// A topic entry is "*" (every topic) or matches a topic equal to it or
// starting with it and a colon: "circles" matches circles and circles:core.
// An event matches the topics when any of its topics matches an entry.
type Filter struct {
	Types  []string
	Topics []string
}

// Match reports whether f selects e.
func (f Filter) Match(e Event) bool {
	return f.matchType(e.Type) && f.matchTopics(e.Topics)
}

func (f Filter) matchType(t string) bool {
	if len(f.Types) == 0 {
		return true
	}
	for _, p := range f.Types {
		if typeMatches(p, t) {
			return true
		}
	}
	return false
}

func (f Filter) matchTopics(topics []string) bool {
	if len(f.Topics) == 0 {
		return true
	}
	for _, p := range f.Topics {
		if p == "*" {
			return true
		}
		for _, t := range topics {
			if topicMatches(p, t) {
				return true
			}
		}
	}
	return false
}

// typeMatches reports whether type pattern p matches type t.
func typeMatches(p, t string) bool {
	if p == "*" || p == t {
		return true
	}
	prefix, ok := strings.CutSuffix(p, "*")
	return ok && strings.HasSuffix(prefix, ".") && len(t) > len(prefix) && strings.HasPrefix(t, prefix)
}

// topicMatches reports whether topic entry p matches topic t.
func topicMatches(p, t string) bool {
	return t == p || len(t) > len(p) && t[len(p)] == ':' && strings.HasPrefix(t, p)
}

// clone returns a copy of f that shares no slice with it.
func (f Filter) clone() Filter {
	return Filter{Types: append([]string(nil), f.Types...), Topics: append([]string(nil), f.Topics...)}
}
