package goal

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// Limits of a goal's fields, in characters unless said otherwise. The
// store adds its own: store.MaxGoalDepth, store.MaxGoalChildren and
// store.MaxGoalDependencies.
const (
	MaxTitle            = 255
	MaxDescription      = 10_000
	MaxSuccessCriteria  = 5_000
	MaxStatusMessage    = 2_000 // also a reason given to pause, block, fail or cancel
	MaxResultSummary    = 10_000
	MaxLessonsLearned   = 10_000
	MaxTags             = 20
	MaxTag              = 50
	MaxContextBytes     = 16 << 10 // the context object, as JSON
	MaxHours            = 100_000
	MaxBackgroundTaskID = 100
	// MaxTreeGoals is how many goals a tree holds at most; a larger tree
	// is cut, deepest goals first.
	MaxTreeGoals = 500
)

// NewGoal is what Create needs. Zero fields take their defaults: no
// circle (or the parent's), no parent, priority medium, no deadline, an
// empty context, no links.
type NewGoal struct {
	AgentID          int64
	CircleID         int64
	ParentID         int64
	Title            string
	Description      string
	SuccessCriteria  string
	Priority         store.GoalPriority
	Deadline         time.Time
	EstimatedHours   float64
	Tags             []string
	Context          json.RawMessage // a JSON object
	CircleTaskID     int64
	BackgroundTaskID string
}

// Patch changes some fields of a goal; nil fields are left as they are.
// A zero id or time and an empty task id clear the link or deadline.
// Status changes go through the transitions, never a patch.
type Patch struct {
	// Version is the version the caller read: the patch applies only
	// while the goal is still at it (ECONFLICT otherwise). 0 applies to
	// the latest.
	Version          int64
	Title            *string
	Description      *string
	SuccessCriteria  *string
	Priority         *store.GoalPriority
	Progress         *int // refused while sub-goals count (ECONFLICT), or once finished
	StatusMessage    *string
	Deadline         *time.Time
	EstimatedHours   *float64
	ActualHours      *float64
	ResultSummary    *string
	LessonsLearned   *string
	Tags             []string // nil: left; empty: cleared
	Context          json.RawMessage
	CircleID         *int64
	CircleTaskID     *int64
	BackgroundTaskID *string
}

// checker collects field errors.
type checker []gathering.FieldError

func (c *checker) add(field, format string, args ...any) {
	*c = append(*c, gathering.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// text checks a text field of at most limit characters.
func (c *checker) text(field, s string, limit int) {
	if utf8.RuneCountInString(s) > limit {
		c.add(field, "at most %d characters", limit)
	}
}

// title checks a title: 1 to MaxTitle characters, not only spaces.
func (c *checker) title(s string) {
	if strings.TrimSpace(s) == "" || utf8.RuneCountInString(s) > MaxTitle {
		c.add("title", "must be 1 to %d characters, not only spaces", MaxTitle)
	}
}

// hours checks a number of hours.
func (c *checker) hours(field string, h float64) {
	if !(h >= 0 && h <= MaxHours) {
		c.add(field, "must be 0 to %d", MaxHours)
	}
}

// id checks an optional id: 0 or positive.
func (c *checker) id(field string, id int64) {
	if id < 0 {
		c.add(field, "must be a positive id, or 0 for none")
	}
}

// priority checks a priority; "" is allowed when optional.
func (c *checker) priority(p store.GoalPriority, optional bool) {
	if !(optional && p == "") && !slices.Contains(store.GoalPriorities, p) {
		c.add("priority", "must be low, medium, high or critical")
	}
}

// tags checks at most MaxTags tags of 1 to MaxTag characters.
func (c *checker) tags(tags []string) {
	if len(tags) > MaxTags {
		c.add("tags", "at most %d tags", MaxTags)
	}
	for i, t := range tags {
		if n := utf8.RuneCountInString(t); n < 1 || n > MaxTag {
			c.add(fmt.Sprintf("tags/%d", i), "must be 1 to %d characters", MaxTag)
		}
	}
}

// context checks a context: a JSON object of at most MaxContextBytes.
func (c *checker) context(raw json.RawMessage) {
	var v map[string]json.RawMessage
	switch {
	case len(raw) > MaxContextBytes:
		c.add("context", "at most %d bytes", MaxContextBytes)
	case json.Unmarshal(raw, &v) != nil || v == nil:
		c.add("context", "must be a JSON object")
	}
}

// taskID checks a background task link.
func (c *checker) taskID(id string) {
	if len(id) > MaxBackgroundTaskID || !utf8.ValidString(id) {
		c.add("background_task_id", "at most %d characters", MaxBackgroundTaskID)
	}
}

// err is the EINVALID of the collected field errors, or nil.
func (c checker) err() error {
	if len(c) == 0 {
		return nil
	}
	return gathering.Invalid("The goal is invalid.", c...)
}

// Check returns the field errors of a new goal, named as the JSON API
// names them; none when it is valid.
func (n NewGoal) Check() []gathering.FieldError {
	var c checker
	if n.AgentID <= 0 {
		c.add("agent_id", "must be an agent's id")
	}
	c.id("circle_id", n.CircleID)
	c.id("parent_id", n.ParentID)
	c.title(n.Title)
	c.text("description", n.Description, MaxDescription)
	c.text("success_criteria", n.SuccessCriteria, MaxSuccessCriteria)
	c.priority(n.Priority, true)
	c.hours("estimated_hours", n.EstimatedHours)
	c.tags(n.Tags)
	if n.Context != nil {
		c.context(n.Context)
	}
	c.id("circle_task_id", n.CircleTaskID)
	c.taskID(n.BackgroundTaskID)
	return c
}

// Check returns the field errors of a patch, named as the JSON API names
// them; none when it is valid.
func (p Patch) Check() []gathering.FieldError {
	var c checker
	if p.Version < 0 {
		c.add("version", "must be the version you read, or 0 for the latest")
	}
	if p.Title != nil {
		c.title(*p.Title)
	}
	for _, f := range []struct {
		name  string
		value *string
		limit int
	}{
		{"description", p.Description, MaxDescription}, {"success_criteria", p.SuccessCriteria, MaxSuccessCriteria},
		{"status_message", p.StatusMessage, MaxStatusMessage}, {"result_summary", p.ResultSummary, MaxResultSummary},
		{"lessons_learned", p.LessonsLearned, MaxLessonsLearned},
	} {
		if f.value != nil {
			c.text(f.name, *f.value, f.limit)
		}
	}
	p.checkNumbers(&c)
	c.tags(p.Tags)
	if p.Context != nil {
		c.context(p.Context)
	}
	if p.BackgroundTaskID != nil {
		c.taskID(*p.BackgroundTaskID)
	}
	return c
}

// checkNumbers checks the patch's priority, progress, hours and ids.
func (p Patch) checkNumbers(c *checker) {
	if p.Priority != nil {
		c.priority(*p.Priority, false)
	}
	if p.Progress != nil {
		percent(c, "progress_percent", *p.Progress)
	}
	if p.EstimatedHours != nil {
		c.hours("estimated_hours", *p.EstimatedHours)
	}
	if p.ActualHours != nil {
		c.hours("actual_hours", *p.ActualHours)
	}
	if p.CircleID != nil {
		c.id("circle_id", *p.CircleID)
	}
	if p.CircleTaskID != nil {
		c.id("circle_task_id", *p.CircleTaskID)
	}
}

// percent checks a progress percentage.
func percent(c *checker, field string, p int) {
	if p < 0 || p > 100 {
		c.add(field, "must be 0 to 100")
	}
}
