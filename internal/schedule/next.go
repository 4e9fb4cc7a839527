package schedule

import "time"

// searchYears is how far Next looks: through the end of the eighth calendar
// year after the year it starts in, so nine calendar years in all. The
// longest gap between two firings of any expression that fires at all is
// the eight years between two February 29ths around a century (2096, 2104).
const searchYears = 8

// Next returns the first firing strictly after after, reading the
// expression on the wall clock of loc (nil means UTC), or false when there
// is none through the end of the eighth calendar year after after's year.
// Firings fall on whole seconds and come back in loc. Wall times that a
// daylight-saving change skips or repeats fire as the package documentation
// describes.
//
// Next walks the zone's periods of constant UTC offset: within one period
// wall time and real time move together, so it searches the period's wall
// times field by field (month, day, hour, minute, second), skipping
// non-matching values wholesale; at a change it decides the skipped or
// repeated wall times by the package's rules.
func (c *Cron) Next(after time.Time, loc *time.Location) (time.Time, bool) {
	if loc == nil {
		loc = time.UTC
	}
	t := after.Truncate(time.Second).In(loc)
	limit := civil{year: t.Year() + searchYears + 1, month: 1, day: 1}
	skip := time.Second // the first period is searched strictly after t
	for {
		_, off := t.Zone()
		start, end := zoneBounds(t)
		from := c.searchFrom(civilOf(t.Add(skip), off), start, off)
		bound := limit
		if !end.IsZero() {
			bound = earlier(bound, civilOf(end, off))
		}
		if w, ok := c.nextCivil(from, bound); ok {
			return w.instant(off).In(loc), true
		}
		if end.IsZero() || !bound.before(limit) {
			return time.Time{}, false
		}
		if c.firesInGap(end, off) {
			return end, true
		}
		t, skip = end, 0
	}
}

// searchFrom moves the start of a period's search past the wall times the
// previous period already showed, when the clock went back at start and the
// expression does not fire every hour: those wall times fire in their first
// pass only.
func (c *Cron) searchFrom(from civil, start time.Time, off int) civil {
	if c.everyHour || start.IsZero() {
		return from
	}
	if _, prev := start.Add(-time.Second).Zone(); prev > off {
		return later(from, civilOf(start, prev))
	}
	return from
}

// firesInGap reports whether the clock jumps forward at end, from offset
// off, over a wall time the expression matches: that wall time fires at end.
func (c *Cron) firesInGap(end time.Time, off int) bool {
	_, next := end.Zone()
	if next <= off {
		return false
	}
	_, ok := c.nextCivil(civilOf(end, off), civilOf(end, next))
	return ok
}

// nextCivil returns the first matching wall time in [t, bound).
func (c *Cron) nextCivil(t, bound civil) (civil, bool) {
	for end := bound.key(); t.key() < end; {
		switch {
		case !c.month.has(t.month):
			t = c.nextMonth(t)
		case !c.dayMatches(t):
			t = c.nextDay(t)
		case !c.hour.has(t.hour):
			if h, ok := c.hour.next(t.hour); ok {
				t.hour, t.min, t.sec = h, 0, 0
			} else {
				t = t.nextDay()
			}
		case !c.minute.has(t.min):
			if m, ok := c.minute.next(t.min); ok {
				t.min, t.sec = m, 0
			} else {
				t = t.nextHour()
			}
		case !c.second.has(t.sec):
			if s, ok := c.second.next(t.sec); ok {
				t.sec = s
			} else {
				t = t.nextMinute()
			}
		default:
			return t, true
		}
	}
	return civil{}, false
}

// nextMonth returns the first day of the next month in the month set.
func (c *Cron) nextMonth(t civil) civil {
	if m, ok := c.month.next(t.month); ok {
		return civil{year: t.year, month: m, day: 1}
	}
	m, _ := c.month.next(1)
	return civil{year: t.year + 1, month: m, day: 1}
}

// nextDay returns midnight of the next day that may match: when only the
// day of month restricts the day, its next member in this month, or else the
// first of the next month; otherwise simply the following day.
func (c *Cron) nextDay(t civil) civil {
	if !c.dowStar {
		return t.nextDay()
	}
	last := daysIn(t.year, t.month)
	if d, ok := c.dom.next(t.day + 1); ok && d <= last {
		return civil{year: t.year, month: t.month, day: d}
	}
	return civil{year: t.year, month: t.month, day: last}.nextDay()
}

// dayMatches applies the day fields: when both restrict the day, either may
// match (the Vixie cron rule); otherwise the restricting one decides.
func (c *Cron) dayMatches(t civil) bool {
	switch {
	case c.dowStar:
		return c.dom.has(t.day)
	case c.domStar:
		return c.dow.has(int(t.weekday()))
	}
	return c.dom.has(t.day) || c.dow.has(int(t.weekday()))
}

// zoneBounds returns t.ZoneBounds, except that an end at or before t, which
// Go reports for the last UTC day of a leap year served by a zone's TZ footer
// rule (Go issue 81583: it counts such a year as 365 days), becomes the start
// of the next UTC year, where that reported period really ends.
func zoneBounds(t time.Time) (start, end time.Time) {
	start, end = t.ZoneBounds()
	if !end.IsZero() && !end.After(t) {
		end = time.Date(t.UTC().Year()+1, 1, 1, 0, 0, 0, 0, time.UTC).In(t.Location())
	}
	return start, end
}
