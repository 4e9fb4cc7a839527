package schedule

import (
	"fmt"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// MaxPreview is the largest count Preview accepts.
const MaxPreview = 100

// Schedule computes the firings of a Spec; build one with Spec.Compile. It
// is immutable and safe for concurrent use. Every time it returns is in the
// schedule's time zone (UTC when the Spec names none).
type Schedule struct {
	kind       string
	loc        *time.Location
	cron       *Cron
	every      int64     // interval in seconds
	anchor     time.Time // an interval's first firing; zero: none
	runAt      time.Time
	start, end time.Time
}

// Next returns the first firing strictly after after, or false when there
// is none: past EndDate, a once schedule already fired, an event schedule,
// or a cron expression with no firing within Cron.Next's search window.
// No firing comes before StartDate.
//
// An interval schedule with a StartDate fires at StartDate plus whole
// intervals. One without has no fixed grid: its next firing is always one
// interval after after, so callers pass the previous firing (the action's
// next_run_at), which keeps the series anchored where First started it.
func (s *Schedule) Next(after time.Time) (time.Time, bool) {
	if !s.start.IsZero() && after.Before(s.start) {
		after = s.start.Add(-time.Nanosecond)
	}
	t, ok := s.next(after)
	if !ok || (!s.end.IsZero() && t.After(s.end)) {
		return time.Time{}, false
	}
	return t.In(s.loc), true
}

// next applies the schedule's type, ignoring the dates.
func (s *Schedule) next(after time.Time) (time.Time, bool) {
	switch s.kind {
	case TypeCron:
		return s.cron.Next(after, s.loc)
	case TypeInterval:
		return s.nextInterval(after), true
	case TypeOnce:
		return s.runAt, s.runAt.After(after)
	}
	return time.Time{}, false
}

// nextInterval returns the first point of the interval grid after after.
func (s *Schedule) nextInterval(after time.Time) time.Time {
	if s.anchor.IsZero() {
		return after.Add(time.Duration(s.every) * time.Second)
	}
	if after.Before(s.anchor) {
		return s.anchor
	}
	elapsed := after.Unix() - s.anchor.Unix() // whole seconds, rounded down
	if after.Nanosecond() < s.anchor.Nanosecond() {
		elapsed--
	}
	steps := elapsed/s.every + 1
	return time.Unix(s.anchor.Unix()+steps*s.every, int64(s.anchor.Nanosecond()))
}

// First returns the first firing of a newly created or resumed action: Next
// after now, except that a once schedule returns RunAt even when it has
// passed (whether to catch it up is the caller's decision). An interval
// schedule without StartDate thus starts at now plus one interval.
func (s *Schedule) First(now time.Time) (time.Time, bool) {
	if s.kind == TypeOnce {
		return s.Next(s.runAt.Add(-time.Nanosecond))
	}
	return s.Next(now)
}

// Between returns the firings in (from, to], oldest first, at most limit of
// them.
func (s *Schedule) Between(from, to time.Time, limit int) []time.Time {
	var out []time.Time
	for t, ok := s.Next(from); ok && !t.After(to) && len(out) < limit; t, ok = s.Next(t) {
		out = append(out, t)
	}
	return out
}

// Preview returns the next count firings of spec after from, for showing a
// schedule before saving it: fewer when the schedule ends sooner, none for an
// event schedule. count must
// be 1 to MaxPreview. Errors are *gathering.Error with code EINVALID naming
// the fields at fault ("count" for count).
func Preview(spec Spec, from time.Time, count int) ([]time.Time, error) {
	if count < 1 || count > MaxPreview {
		return nil, gathering.Invalid("the preview count is invalid",
			Problem{Field: "count", Message: fmt.Sprintf("must be between 1 and %d, got %d", MaxPreview, count)})
	}
	sch, err := spec.Compile()
	if err != nil {
		return nil, err
	}
	endOfTime := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	return sch.Between(from, endOfTime, count), nil
}
