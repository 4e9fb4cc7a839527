package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is Count requests per Per. Count is also the burst: a full bucket
// allows Count requests at once.
type Rate struct {
	Count int
	Per   time.Duration
}

// ErrInvalidRate is wrapped by every error about a malformed or out-of-range
// rate.
var ErrInvalidRate = errors.New("invalid rate")

// units maps the accepted unit spellings to their duration.
var units = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "second": time.Second,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute,
	"h": time.Hour, "hour": time.Hour,
}

// ParseRate parses "N/s", "N/min" or "N/h" (also "N/sec", "N/second", "N/m",
// "N/minute", "N/hour", and "N/<Go duration>" such as "10/30s"). N must be a
// positive integer.
func ParseRate(s string) (Rate, error) {
	count, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, fmt.Errorf("%w %q: want N/s, N/min or N/h", ErrInvalidRate, s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if err != nil || n <= 0 {
		return Rate{}, fmt.Errorf("%w %q: count %q is not a positive integer", ErrInvalidRate, s, count)
	}
	per, err := parsePer(strings.TrimSpace(unit))
	if err != nil {
		return Rate{}, fmt.Errorf("%w %q: %v", ErrInvalidRate, s, err)
	}
	r := Rate{Count: n, Per: per}
	return r, r.Validate()
}

// parsePer reads the part after the slash: a unit name or a Go duration.
func parsePer(unit string) (time.Duration, error) {
	if d, ok := units[strings.ToLower(unit)]; ok {
		return d, nil
	}
	d, err := time.ParseDuration(unit)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("unknown unit %q: want s, min or h", unit)
	}
	return d, nil
}

// Validate reports whether r can be enforced: Count and Per positive and at
// most one request per microsecond.
func (r Rate) Validate() error {
	switch {
	case r.Count <= 0:
		return fmt.Errorf("%w %s: count must be positive", ErrInvalidRate, r)
	case r.Per <= 0:
		return fmt.Errorf("%w %s: period must be positive", ErrInvalidRate, r)
	case r.Per/time.Duration(r.Count) < time.Microsecond:
		return fmt.Errorf("%w %s: more than one request per microsecond", ErrInvalidRate, r)
	}
	return nil
}

// String renders r the way ParseRate reads it: "5/min", "100/s", "10/30s".
func (r Rate) String() string {
	switch r.Per {
	case time.Second:
		return fmt.Sprintf("%d/s", r.Count)
	case time.Minute:
		return fmt.Sprintf("%d/min", r.Count)
	case time.Hour:
		return fmt.Sprintf("%d/h", r.Count)
	}
	return fmt.Sprintf("%d/%s", r.Count, r.Per)
}

// interval is the emission interval Per/Count, truncated to the microsecond
// so that Memory and Redis (which counts in microseconds) agree exactly.
func (r Rate) interval() time.Duration {
	return (r.Per / time.Duration(r.Count)).Truncate(time.Microsecond)
}
