package event

import "strings"

// TypePatternProblem says what is wrong with a type pattern of a Filter,
// or "" when nothing is: it must be "*", an event type, or an event type
// followed by ".*" (every type below it), so that it can match an event.
func TypePatternProblem(p string) string {
	if p == "*" {
		return ""
	}
	if msg := typeProblem(strings.TrimSuffix(p, ".*")); msg != "" {
		return `must be "*", an event type or a type followed by ".*": ` + msg
	}
	return ""
}
