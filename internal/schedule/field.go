package schedule

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"
)

// set is a set of small non-negative integers: bit v is set when v is in it.
type set uint64

// span returns {lo, lo+step, …} up to hi.
func span(lo, hi, step int) set {
	var s set
	for v := lo; v <= hi; v += step {
		s |= 1 << v
	}
	return s
}

// has reports whether v is in the set.
func (s set) has(v int) bool { return s&(1<<v) != 0 }

// next returns the smallest member that is at least v.
func (s set) next(v int) (int, bool) {
	rest := uint64(s) & (^uint64(0) << v)
	return bits.TrailingZeros64(rest), rest != 0
}

// foldSunday maps day of week 7 onto 0: both are Sunday.
func (s set) foldSunday() set {
	if s.has(7) {
		s = s&^(1<<7) | 1
	}
	return s
}

// field describes one cron field.
type field struct {
	name     string
	min, max int // the values "*" covers and where "a/n" ends
	top      int // the largest value accepted (7 for day of week)
	// names are the value names, in order from nameBase.
	names    []string
	nameBase int
	// question allows "?", a synonym of "*" in the day fields.
	question bool
}

// fields lists the six fields of an expression, seconds first.
var fields = [6]field{
	{name: "second", min: 0, max: 59, top: 59},
	{name: "minute", min: 0, max: 59, top: 59},
	{name: "hour", min: 0, max: 23, top: 23},
	{name: "day of month", min: 1, max: 31, top: 31, question: true},
	{name: "month", min: 1, max: 12, top: 12, nameBase: 1, names: []string{
		"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{name: "day of week", min: 0, max: 6, top: 7, question: true, names: []string{
		"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}

// parse parses a field: a comma-separated list of items.
func (f field) parse(text string) (set, error) {
	var s set
	for item := range strings.SplitSeq(text, ",") {
		if item == "" {
			return 0, fmt.Errorf("empty item in list %q", text)
		}
		v, err := f.parseItem(item)
		if err != nil {
			return 0, err
		}
		s |= v
	}
	return s, nil
}

// parseItem parses "*", "?", "a", "a-b", each with an optional "/n".
func (f field) parseItem(item string) (set, error) {
	base, stepText, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		var err error
		if step, err = f.parseStep(stepText, item); err != nil {
			return 0, err
		}
	}
	if base == "*" || (base == "?" && f.question) {
		return span(f.min, f.max, step), nil
	}
	if base == "?" {
		return 0, errors.New("? is only allowed in day of month and day of week")
	}
	lo, hi, err := f.parseRange(base)
	if err != nil {
		return 0, err
	}
	if hasStep && !strings.Contains(base, "-") {
		hi = max(lo, f.max)
	}
	return span(lo, hi, step), nil
}

// parseStep parses the n of "/n".
func (f field) parseStep(text, item string) (int, error) {
	n, ok := number(text)
	switch {
	case !ok:
		return 0, fmt.Errorf("step %q in %q is not a number", text, item)
	case n == 0:
		return 0, fmt.Errorf("step 0 in %q must be at least 1", item)
	case n > f.top:
		return 0, fmt.Errorf("step %s in %q is out of range 1-%d", text, item, f.top)
	}
	return n, nil
}

// parseRange parses "a" or "a-b".
func (f field) parseRange(text string) (lo, hi int, err error) {
	loText, hiText, isRange := strings.Cut(text, "-")
	if strings.Contains(hiText, "-") {
		return 0, 0, fmt.Errorf("%q is not a value or a range", text)
	}
	if lo, err = f.value(loText, text); err != nil || !isRange {
		return lo, lo, err
	}
	if hi, err = f.value(hiText, text); err != nil {
		return 0, 0, err
	}
	if hi == 0 && f.top == 7 && strings.EqualFold(hiText, "SUN") {
		hi = 7 // FRI-SUN
	}
	if hi < lo {
		return 0, 0, fmt.Errorf("range %s is reversed", text)
	}
	return lo, hi, nil
}

// value parses a number or a name within the field's bounds.
func (f field) value(text, item string) (int, error) {
	if text == "" {
		return 0, fmt.Errorf("missing value in %q", item)
	}
	if n, ok := number(text); ok {
		if n < f.min || n > f.top {
			return 0, fmt.Errorf("%s is out of range %d-%d", text, f.min, f.top)
		}
		return n, nil
	}
	if f.names == nil {
		return 0, fmt.Errorf("%q is not a number", text)
	}
	for i, name := range f.names {
		if strings.EqualFold(text, name) {
			return f.nameBase + i, nil
		}
	}
	return 0, fmt.Errorf("unknown name %s", text)
}

// number parses a decimal number made of digits only; values above 9999
// come back as 9999, which every range check refuses.
func number(text string) (int, bool) {
	if text == "" {
		return 0, false
	}
	n := 0
	for i := range len(text) {
		if text[i] < '0' || text[i] > '9' {
			return 0, false
		}
		n = min(n*10+int(text[i]-'0'), 9999)
	}
	return n, true
}
