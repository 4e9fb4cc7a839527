package schedule

import "time"

// civil is a wall-clock reading with no zone attached: what a cron
// expression matches. Month is 1-12; the fields are always a valid date and
// time of day.
type civil struct{ year, month, day, hour, min, sec int }

// civilOf returns the wall clock at t in a zone off seconds east of UTC.
func civilOf(t time.Time, off int) civil {
	u := t.UTC().Add(time.Duration(off) * time.Second)
	y, m, d := u.Date()
	h, mi, s := u.Clock()
	return civil{y, int(m), d, h, mi, s}
}

// instant returns the moment the wall clock reads c in a zone off seconds
// east of UTC.
func (c civil) instant(off int) time.Time {
	u := time.Date(c.year, time.Month(c.month), c.day, c.hour, c.min, c.sec, 0, time.UTC)
	return u.Add(-time.Duration(off) * time.Second)
}

// key orders wall-clock readings.
func (c civil) key() int64 {
	days := (int64(c.year)*13+int64(c.month))*32 + int64(c.day)
	return ((days*24+int64(c.hour))*60+int64(c.min))*60 + int64(c.sec)
}

// before reports whether c comes before d.
func (c civil) before(d civil) bool { return c.key() < d.key() }

// earlier returns the earlier of a and b.
func earlier(a, b civil) civil {
	if b.before(a) {
		return b
	}
	return a
}

// later returns the later of a and b.
func later(a, b civil) civil {
	if a.before(b) {
		return b
	}
	return a
}

// weekday returns the day of the week of c's date.
func (c civil) weekday() time.Weekday {
	return time.Date(c.year, time.Month(c.month), c.day, 0, 0, 0, 0, time.UTC).Weekday()
}

// nextDay returns midnight of the following day.
func (c civil) nextDay() civil {
	switch {
	case c.day < daysIn(c.year, c.month):
		return civil{year: c.year, month: c.month, day: c.day + 1}
	case c.month < 12:
		return civil{year: c.year, month: c.month + 1, day: 1}
	}
	return civil{year: c.year + 1, month: 1, day: 1}
}

// nextHour returns the start of the following hour.
func (c civil) nextHour() civil {
	if c.hour < 23 {
		return civil{c.year, c.month, c.day, c.hour + 1, 0, 0}
	}
	return c.nextDay()
}

// nextMinute returns the start of the following minute.
func (c civil) nextMinute() civil {
	if c.min < 59 {
		return civil{c.year, c.month, c.day, c.hour, c.min + 1, 0}
	}
	return c.nextHour()
}

// daysIn returns the number of days in a month of the Gregorian calendar.
func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
