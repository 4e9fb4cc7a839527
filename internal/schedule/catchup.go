package schedule

import "time"

// Catch-up policies, the values of CatchUp.Policy.
const (
	CatchUpSkip    = "skip"     // run none of the missed firings
	CatchUpRunOnce = "run_once" // run the most recent one
	CatchUpRunAll  = "run_all"  // run them all, up to CatchUp.Max, newest kept
)

// CatchUp is an action's policy for firings that passed while no scheduler
// ran it.
type CatchUp struct {
	// Policy is CatchUpSkip, CatchUpRunOnce or CatchUpRunAll; any other
	// value runs nothing, as CatchUpSkip does.
	Policy string
	// Window is how old a firing may be and still run: firings before
	// now - Window never run, whatever the policy.
	Window time.Duration
	// Max bounds CatchUpRunAll: it runs only the Max newest firings (none
	// when Max < 1).
	Max int
}

// Missed decides what a late action runs: one whose next_run_at had already
// passed when the scheduler saw it, for instance after downtime. nextRun is
// that stored next_run_at: it and every later firing up to and including
// now are due. Missed returns the due firings to run, oldest first, as
// c.Policy decides among those no older than now - c.Window; and the first
// firing after now, to store as the new next_run_at, with ok false when the
// schedule has none (a once schedule that was due, or one past EndDate).
//
// An interval schedule without StartDate keeps its grid through nextRun, so
// next is nextRun plus a whole number of intervals. The work grows with the
// number of firings within the window, never with the length of the
// downtime.
func (s *Schedule) Missed(nextRun, now time.Time, c CatchUp) (run []time.Time, next time.Time, ok bool) {
	sch := s.anchoredAt(nextRun)
	keep := c.keep()
	cutoff := now.Add(-c.Window)
	if keep == 0 {
		cutoff = now // nothing to collect: start at now
	}
	next, ok = nextRun.In(s.loc), true
	if next.Before(cutoff) {
		next, ok = sch.Next(cutoff.Add(-time.Nanosecond))
	}
	for ; ok && !next.After(now); next, ok = sch.Next(next) {
		if keep > 0 {
			run = keepNewest(append(run, next), keep)
		}
	}
	if len(run) > keep {
		run = run[len(run)-keep:]
	}
	return run, next, ok
}

// keep returns how many of the due firings the policy runs, at most.
func (c CatchUp) keep() int {
	switch c.Policy {
	case CatchUpRunOnce:
		return 1
	case CatchUpRunAll:
		return max(c.Max, 0)
	}
	return 0
}

// keepNewest trims ts to its n newest entries once it holds 2n, so that
// collecting costs amortised constant time and at most 2n entries of memory.
func keepNewest(ts []time.Time, n int) []time.Time {
	if len(ts) < 2*n {
		return ts
	}
	return append(ts[:0], ts[len(ts)-n:]...)
}

// anchoredAt returns s, or for an interval schedule without StartDate a copy
// whose grid runs through t.
func (s *Schedule) anchoredAt(t time.Time) *Schedule {
	if s.kind != TypeInterval || !s.anchor.IsZero() {
		return s
	}
	anchored := *s
	anchored.anchor = t
	return &anchored
}
