package pipeline

import (
	"cmp"
	"encoding/json"
)

// The node types.
const (
	TypeTrigger   = "trigger"   // the run's trigger_data is its output
	TypeAgent     = "agent"     // a chat turn of an agent on a task template
	TypeTool      = "tool"      // a tool call on an input template
	TypeCondition = "condition" // an expression; false makes its outgoing edges dead
	TypeAction    = "action"    // send_notification or call_api
	TypeDelay     = "delay"     // waits a number of seconds
	TypeApproval  = "approval"  // waits for a person to approve or reject
	TypeParallel  = "parallel"  // a readability marker
	TypeJoin      = "join"      // a readability marker
)

// The on_error modes of a node.
const (
	OnErrorFail     = "fail"     // the run fails (the default)
	OnErrorContinue = "continue" // the node fails, its successors run
	OnErrorDefault  = "default"  // the node's Default is its output
)

// The defaults of Settings and RetryPolicy, applied to zero fields.
const (
	DefaultTimeoutSeconds = 3600
	DefaultMaxParallel    = 4
	DefaultMaxAttempts    = 3
	DefaultInitialSeconds = 1.0
	DefaultMultiplier     = 2.0
	DefaultMaxSeconds     = 60.0
	DefaultJitter         = 0.2
)

// Definition is what a pipeline runs: its nodes, the edges between them and
// its settings.
type Definition struct {
	Nodes    []Node   `json:"nodes"`
	Edges    []Edge   `json:"edges"`
	Settings Settings `json:"settings"`
}

// Node is one step of a pipeline.
type Node struct {
	// ID is unique in the pipeline: 1 to 64 letters, digits, '_' or '-'.
	ID string `json:"id"`
	// Type is one of the Type constants.
	Type string `json:"type"`
	// Name is an optional label for people.
	Name string `json:"name,omitempty"`
	// Config is the type's configuration, a JSON object; absent is {}.
	Config json.RawMessage `json:"config,omitempty"`
	// Retry overrides the pipeline's retry policy field by field.
	Retry *RetryPolicy `json:"retry,omitempty"`
	// TimeoutSeconds bounds one attempt of the node; nil means only the
	// run's timeout applies.
	TimeoutSeconds *int `json:"timeout_seconds,omitempty"`
	// OnError is one of the OnError constants; empty means OnErrorFail.
	OnError string `json:"on_error,omitempty"`
	// Default is the node's output when it fails and OnError is
	// OnErrorDefault.
	Default json.RawMessage `json:"default,omitempty"`
}

// Edge leads from one node to another. When Condition is set, the edge is
// live only if the expression evaluates to true.
type Edge struct {
	ID        string `json:"id"`
	From      string `json:"from"`
	To        string `json:"to"`
	Condition string `json:"condition,omitempty"`
}

// Settings are a pipeline's run-wide settings. A zero field means its
// default.
type Settings struct {
	// TimeoutSeconds bounds a whole run (default 3,600).
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
	// MaxParallel caps the nodes of one run running at once (default 4).
	MaxParallel int `json:"max_parallel,omitempty"`
	// Retry is the default retry policy of the nodes.
	Retry RetryPolicy `json:"retry,omitzero"`
}

// RetryPolicy says how often and how fast a failed node is tried again. A
// zero field means its default, so a jitter of 0 is the default ±20 %.
type RetryPolicy struct {
	// MaxAttempts counts the first attempt (default 3).
	MaxAttempts int `json:"max_attempts,omitempty"`
	// InitialSeconds is the delay before the second attempt (default 1).
	InitialSeconds float64 `json:"initial_seconds,omitempty"`
	// Multiplier grows the delay after each attempt (default 2).
	Multiplier float64 `json:"multiplier,omitempty"`
	// MaxSeconds caps the delay (default 60).
	MaxSeconds float64 `json:"max_seconds,omitempty"`
	// Jitter spreads each delay by ± this fraction (default 0.2).
	Jitter float64 `json:"jitter,omitempty"`
}

// WithDefaults returns s with its zero fields set to their defaults.
func (s Settings) WithDefaults() Settings {
	s.TimeoutSeconds = cmp.Or(s.TimeoutSeconds, DefaultTimeoutSeconds)
	s.MaxParallel = cmp.Or(s.MaxParallel, DefaultMaxParallel)
	s.Retry = s.Retry.WithDefaults()
	return s
}

// WithDefaults returns p with its zero fields set to their defaults.
func (p RetryPolicy) WithDefaults() RetryPolicy {
	return p.over(RetryPolicy{
		MaxAttempts:    DefaultMaxAttempts,
		InitialSeconds: DefaultInitialSeconds,
		Multiplier:     DefaultMultiplier,
		MaxSeconds:     DefaultMaxSeconds,
		Jitter:         DefaultJitter,
	})
}

// Policy returns the node's effective retry policy: each field from the
// node's Retry when set there, else from the pipeline's settings, else its
// default.
func (n Node) Policy(settings Settings) RetryPolicy {
	p := settings.Retry
	if n.Retry != nil {
		p = n.Retry.over(p)
	}
	return p.WithDefaults()
}

// over returns p with its zero fields taken from base.
func (p RetryPolicy) over(base RetryPolicy) RetryPolicy {
	p.MaxAttempts = cmp.Or(p.MaxAttempts, base.MaxAttempts)
	p.InitialSeconds = cmp.Or(p.InitialSeconds, base.InitialSeconds)
	p.Multiplier = cmp.Or(p.Multiplier, base.Multiplier)
	p.MaxSeconds = cmp.Or(p.MaxSeconds, base.MaxSeconds)
	p.Jitter = cmp.Or(p.Jitter, base.Jitter)
	return p
}
