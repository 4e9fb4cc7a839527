package schedule

import (
	"fmt"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// Schedule types, the values of Spec.Type.
const (
	TypeCron     = "cron"     // fires on a cron expression
	TypeInterval = "interval" // fires every IntervalSeconds
	TypeOnce     = "once"     // fires once, at RunAt
	TypeEvent    = "event"    // fires on events, never on time
)

// MaxIntervalSeconds is the longest interval a Spec accepts: one year of
// 365 days.
const MaxIntervalSeconds = 365 * 24 * 60 * 60

// Spec is a schedule as a scheduled action stores it.
type Spec struct {
	Type            string    // TypeCron, TypeInterval, TypeOnce or TypeEvent
	Cron            string    // the cron expression, for TypeCron
	TimeZone        string    // IANA name the cron expression reads in; "" is UTC
	IntervalSeconds int64     // 1 to MaxIntervalSeconds, for TypeInterval
	RunAt           time.Time // the one firing, for TypeOnce
	// StartDate and EndDate bound every type's firings, both inclusive;
	// zero leaves that side open. An interval's firings are StartDate plus
	// whole intervals when StartDate is set.
	StartDate, EndDate time.Time
}

// Problem is one thing wrong with a Spec, named by the API field it concerns:
// schedule_type, cron_expression, timezone, interval_seconds, run_at,
// start_date or end_date.
type Problem = gathering.FieldError

// Validate returns everything wrong with s, or nothing when Compile will
// accept it.
func (s Spec) Validate() []Problem {
	_, problems := s.compile()
	return problems
}

// Compile checks s and returns the Schedule it describes. When s is invalid
// the error is a *gathering.Error with code EINVALID whose fields are
// Validate's problems.
func (s Spec) Compile() (*Schedule, error) {
	sch, problems := s.compile()
	if len(problems) > 0 {
		return nil, gathering.Invalid("the schedule is invalid", problems...)
	}
	return sch, nil
}

// compile builds the Schedule and collects every problem on the way.
func (s Spec) compile() (*Schedule, []Problem) {
	sch := &Schedule{kind: s.Type, start: s.StartDate, end: s.EndDate}
	var problems []Problem
	add := func(field, format string, args ...any) {
		problems = append(problems, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	var err error
	if sch.loc, err = loadZone(s.TimeZone); err != nil {
		add("timezone", "unknown time zone %q", s.TimeZone)
	}
	switch s.Type {
	case TypeCron:
		if sch.cron, err = ParseCron(s.Cron); err != nil {
			add("cron_expression", "%s", err)
		}
	case TypeInterval:
		if s.IntervalSeconds < 1 || s.IntervalSeconds > MaxIntervalSeconds {
			add("interval_seconds", "must be between 1 and %d (one year), got %d", MaxIntervalSeconds, s.IntervalSeconds)
		}
		sch.every, sch.anchor = s.IntervalSeconds, s.StartDate
	case TypeOnce:
		sch.runAt = s.RunAt
		problems = append(problems, s.runAtProblems()...)
	case TypeEvent:
	default:
		add("schedule_type", "unknown schedule type %q; expected cron, interval, once or event", s.Type)
	}
	if !s.StartDate.IsZero() && !s.EndDate.IsZero() && s.EndDate.Before(s.StartDate) {
		add("end_date", "must not be before start_date")
	}
	return sch, problems
}

// runAtProblems checks a once schedule's RunAt against its dates.
func (s Spec) runAtProblems() []Problem {
	switch {
	case s.RunAt.IsZero():
		return []Problem{{Field: "run_at", Message: "is required for a once schedule"}}
	case !s.StartDate.IsZero() && s.RunAt.Before(s.StartDate):
		return []Problem{{Field: "run_at", Message: "must not be before start_date"}}
	case !s.EndDate.IsZero() && s.RunAt.After(s.EndDate):
		return []Problem{{Field: "run_at", Message: "must not be after end_date"}}
	}
	return nil
}

// loadZone loads an IANA time zone; "" is UTC. "Local" is refused: it would
// make a schedule depend on the server's configuration.
func loadZone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if name == "Local" {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	return time.LoadLocation(name)
}
