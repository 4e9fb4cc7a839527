package schedule

import (
	"testing"
	"time"
	_ "time/tzdata" // the zones the tests use, even where the system has none
)

// zone loads an IANA time zone or fails the test.
func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load zone %s: %v", name, err)
	}
	return loc
}

// ts parses an RFC 3339 time (with fractional seconds allowed) or fails the
// test.
func ts(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("parse time %q: %v", s, err)
	}
	return v
}

// tss parses several RFC 3339 times.
func tss(t testing.TB, ss ...string) []time.Time {
	t.Helper()
	out := make([]time.Time, len(ss))
	for i, s := range ss {
		out[i] = ts(t, s)
	}
	return out
}

// mustCron parses a cron expression or fails the test.
func mustCron(t testing.TB, expr string) *Cron {
	t.Helper()
	c, err := ParseCron(expr)
	if err != nil {
		t.Fatalf("ParseCron(%q): %v", expr, err)
	}
	return c
}

// nextN returns the first n firings of c after after in loc.
func nextN(c *Cron, after time.Time, loc *time.Location, n int) []time.Time {
	var out []time.Time
	for t, ok := c.Next(after, loc); ok && len(out) < n; t, ok = c.Next(t, loc) {
		out = append(out, t)
	}
	return out
}

// sameInstants reports whether got and want hold the same instants in the
// same order.
func sameInstants(got, want []time.Time) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !got[i].Equal(want[i]) {
			return false
		}
	}
	return true
}

// format renders times in RFC 3339 for failure messages.
func format(times []time.Time) []string {
	out := make([]string, len(times))
	for i, t := range times {
		out[i] = t.Format(time.RFC3339)
	}
	return out
}
