package schedule

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// oracle matches wall times against sets built alongside the generated
// expression's text, independently of the parser.
type oracle struct {
	minute, hour, dom, month, dow set
	domStar, dowStar              bool
}

// genField writes a random field whose values run lo-hi and returns its text
// and the set it stands for. Values written out are drawn from vlo-vhi; star
// is the chance of plain "*".
func genField(r *rand.Rand, lo, hi, vlo, vhi int, star float64) (string, set) {
	if r.Float64() < star {
		return "*", span(lo, hi, 1)
	}
	a := vlo + r.IntN(vhi-vlo+1)
	b := a + r.IntN(vhi-a+1)
	c := vlo + r.IntN(vhi-vlo+1)
	n := 1 + r.IntN(hi-lo)
	switch r.IntN(6) {
	case 0:
		return fmt.Sprintf("*/%d", n), span(lo, hi, n)
	case 1:
		return fmt.Sprint(a), span(a, a, 1)
	case 2:
		return fmt.Sprintf("%d,%d", a, c), span(a, a, 1) | span(c, c, 1)
	case 3:
		return fmt.Sprintf("%d-%d", a, b), span(a, b, 1)
	case 4:
		return fmt.Sprintf("%d-%d/%d", a, b, n), span(a, b, n)
	}
	return fmt.Sprintf("%d/%d", a, n), span(a, hi, n)
}

// genCron returns a random five-field expression and its oracle. Most
// generated expressions fire daily or more often; with nightHours, the hours
// written out are 0-3, where the daylight-saving changes of the tested zones
// happen.
func genCron(r *rand.Rand, nightHours bool) (string, oracle) {
	var o oracle
	var parts [5]string
	parts[0], o.minute = genField(r, 0, 59, 0, 59, 0.1)
	if nightHours {
		parts[1], o.hour = genField(r, 0, 23, 0, 3, 0.2)
	} else {
		parts[1], o.hour = genField(r, 0, 23, 0, 23, 0.3)
	}
	parts[2], o.dom = genField(r, 1, 31, 1, 31, 0.6)
	parts[3], o.month = genField(r, 1, 12, 1, 12, 0.9)
	parts[4], o.dow = genField(r, 0, 6, 0, 6, 0.6)
	o.domStar, o.dowStar = parts[2] == "*", parts[4] == "*"
	return strings.Join(parts[:], " "), o
}

// matches reports whether the wall clock reading of w matches.
func (o oracle) matches(w time.Time) bool {
	year, month, day := w.Date()
	hour, minute, _ := w.Clock()
	weekday := time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Weekday()
	dom, dow := o.dom.has(day), o.dow.has(int(weekday))
	dayOK := dom || dow
	if o.domStar || o.dowStar {
		dayOK = dom && dow
	}
	return dayOK && o.month.has(int(month)) && o.hour.has(hour) && o.minute.has(minute)
}

// firesAt reports whether the whole minute m is a firing in loc, by the
// package's rules, decided minute by minute without Next.
func (o oracle) firesAt(m time.Time, loc *time.Location) bool {
	w := m.In(loc)
	if o.matches(w) && (o.hour == span(0, 23, 1) || !repeated(w)) {
		return true
	}
	return o.skippedBefore(w)
}

// repeated reports whether the wall clock already read w's reading earlier.
func repeated(w time.Time) bool {
	for _, d := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
		if e := w.Add(-d); e.Day() == w.Day() && e.Hour() == w.Hour() && e.Minute() == w.Minute() {
			return true
		}
	}
	return false
}

// skippedBefore reports whether the clock jumps forward at w over a wall
// time that matches.
func (o oracle) skippedBefore(w time.Time) bool {
	_, now := w.Zone()
	_, before := w.Add(-time.Second).Zone()
	if now <= before {
		return false
	}
	wall := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), 0, 0, time.UTC)
	for s := wall.Add(-time.Duration(now-before) * time.Second); s.Before(wall); s = s.Add(time.Minute) {
		if o.matches(s) {
			return true
		}
	}
	return false
}

// transitions lists a zone's offset changes from 2024 to 2030.
func transitions(loc *time.Location) []time.Time {
	var out []time.Time
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, loc)
	for t.Year() < 2031 {
		_, end := t.ZoneBounds()
		if end.IsZero() {
			break
		}
		_, before := end.Add(-time.Second).Zone()
		if _, after := end.Zone(); after != before {
			out = append(out, end)
		}
		t = end
	}
	return out
}

// TestCronNextProperty checks Next against a brute-force oracle: for random
// expressions and start times, half of them near a daylight-saving change,
// following Next from the start gives exactly the firings the oracle finds
// minute by minute over the next two days.
func TestCronNextProperty(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(20260308, 1))
	samples := 0
	for _, name := range []string{"UTC", "America/New_York", "Europe/Paris", "Australia/Lord_Howe"} {
		loc := zone(t, name)
		changes := transitions(loc)
		for range 100 {
			near := len(changes) > 0 && r.IntN(2) == 0
			expr, o := genCron(r, near)
			c, err := ParseCron(expr)
			if err != nil {
				continue // a day and month that never meet
			}
			after := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(7*365*24*3600)) * time.Second)
			if near {
				after = changes[r.IntN(len(changes))].Add(time.Duration(r.Int64N(3*24*3600)-36*3600) * time.Second)
			}
			checkNext(t, c, o, expr, after, loc)
			samples++
		}
	}
	if samples < 300 {
		t.Errorf("only %d samples parsed", samples)
	}
}

// checkNext checks Next against the oracle: starting from after, the chain
// of Next calls through the next two days must give exactly the minutes the
// oracle finds firing, each in loc, and Next must find a firing at all.
func checkNext(t *testing.T, c *Cron, o oracle, expr string, after time.Time, loc *time.Location) {
	t.Helper()
	horizon := after.Add(48 * time.Hour)
	var want []time.Time
	for m := after.Truncate(time.Minute).Add(time.Minute); !m.After(horizon); m = m.Add(time.Minute) {
		if o.firesAt(m, loc) {
			want = append(want, m)
		}
	}
	var got []time.Time
	next, ok := c.Next(after, loc)
	for ; ok && !next.After(horizon); next, ok = c.Next(next, loc) {
		if next.Location() != loc {
			t.Fatalf("%q in %v: %v is not in the zone", expr, loc, next)
		}
		got = append(got, next)
	}
	if !ok {
		t.Fatalf("%q in %v after %v: no firing", expr, loc, after)
	}
	if !sameInstants(got, want) {
		t.Fatalf("%q in %v after %v:\nNext  %v\nwant  %v", expr, loc, after, format(got), format(want))
	}
}
