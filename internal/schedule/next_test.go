package schedule

import (
	"testing"
	"time"
)

func TestCronNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr, zone, after string
		want                    []string
	}{
		{"strictly after", "*/5 * * * *", "UTC", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z"}},
		{"between firings", "*/5 * * * *", "UTC", "2026-01-01T00:02:30Z", []string{"2026-01-01T00:05:00Z"}},
		{"just before a firing", "*/5 * * * *", "UTC", "2026-01-01T00:04:59.999999999Z", []string{"2026-01-01T00:05:00Z"}},
		{"within a firing's second", "*/5 * * * *", "UTC", "2026-01-01T00:05:00.5Z", []string{"2026-01-01T00:10:00Z"}},
		{"hour rollover", "*/20 * * * *", "UTC", "2026-01-01T10:40:00Z", []string{"2026-01-01T11:00:00Z"}},
		{"weekdays skip the weekend", "0 9 * * MON-FRI", "UTC", "2026-01-02T09:00:00Z", // a Friday
			[]string{"2026-01-05T09:00:00Z", "2026-01-06T09:00:00Z"}},
		{"hours range rolls to the next day", "0 9-17 * * *", "UTC", "2026-01-01T17:00:00Z", []string{"2026-01-02T09:00:00Z"}},
		// month ends
		{"31st skips short months", "0 0 31 * *", "UTC", "2026-01-31T00:00:00Z",
			[]string{"2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z"}},
		{"30th skips February", "0 12 30 * *", "UTC", "2026-01-30T12:00:00Z", []string{"2026-03-30T12:00:00Z"}},
		{"29th in a common year", "0 0 29 * *", "UTC", "2026-01-29T00:00:00Z", []string{"2026-03-29T00:00:00Z"}},
		{"29th in a leap year", "0 0 29 * *", "UTC", "2028-01-29T00:00:00Z", []string{"2028-02-29T00:00:00Z"}},
		// leap days
		{"leap day", "0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z",
			[]string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		{"leap day from a leap day", "0 0 29 2 *", "UTC", "2028-02-29T00:00:00Z", []string{"2032-02-29T00:00:00Z"}},
		{"2000 is a leap year", "0 0 29 2 *", "UTC", "1999-01-01T00:00:00Z", []string{"2000-02-29T00:00:00Z"}},
		{"2100 is not: eight years to 2104", "0 0 29 2 *", "UTC", "2096-02-29T00:00:00Z", []string{"2104-02-29T00:00:00Z"}},
		// day of month and day of week
		{"either day field: the 1st or a Monday", "0 0 1 * MON", "UTC", "2026-01-01T00:00:00Z", // a Thursday
			[]string{"2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z", "2026-01-19T00:00:00Z", "2026-01-26T00:00:00Z", "2026-02-01T00:00:00Z", "2026-02-02T00:00:00Z"}},
		{"either day field with a step", "0 0 */2 * MON", "UTC", "2026-01-09T00:00:00Z", // odd days or Mondays
			[]string{"2026-01-11T00:00:00Z", "2026-01-12T00:00:00Z", "2026-01-13T00:00:00Z"}},
		{"Friday the 13th is either", "0 0 13 * FRI", "UTC", "2026-02-01T00:00:00Z",
			[]string{"2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z"}},
		{"day of month alone", "0 0 1 * *", "UTC", "2026-01-01T00:00:00Z", []string{"2026-02-01T00:00:00Z"}},
		{"day of week alone", "0 0 * * MON", "UTC", "2026-01-01T00:00:00Z", []string{"2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z"}},
		{"? is *", "0 0 ? * MON", "UTC", "2026-01-01T00:00:00Z", []string{"2026-01-05T00:00:00Z"}},
		{"Feb 30 or a Monday", "0 0 30 2 MON", "UTC", "2026-02-01T00:00:00Z", []string{"2026-02-02T00:00:00Z"}},
		// Sunday
		{"Sunday as 0", "0 0 * * 0", "UTC", "2026-01-01T00:00:00Z", []string{"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"}},
		{"Sunday as 7", "0 0 * * 7", "UTC", "2026-01-01T00:00:00Z", []string{"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"}},
		{"Friday to Sunday", "0 0 * * FRI-SUN", "UTC", "2026-01-04T00:00:00Z",
			[]string{"2026-01-09T00:00:00Z", "2026-01-10T00:00:00Z", "2026-01-11T00:00:00Z", "2026-01-16T00:00:00Z"}},
		// seconds
		{"every ten seconds", "*/10 * * * * *", "UTC", "2026-01-01T12:00:05Z", []string{"2026-01-01T12:00:10Z", "2026-01-01T12:00:20Z"}},
		{"second rolls the minute", "*/10 * * * * *", "UTC", "2026-01-01T12:00:50Z", []string{"2026-01-01T12:01:00Z"}},
		{"a daily second", "30 0 12 * * *", "UTC", "2026-01-01T12:00:30Z", []string{"2026-01-02T12:00:30Z"}},
		{"the year's last second", "59 59 23 31 12 *", "UTC", "2026-06-01T00:00:00Z", []string{"2026-12-31T23:59:59Z", "2027-12-31T23:59:59Z"}},
		// macros and names
		{"@hourly", "@hourly", "UTC", "2026-01-01T10:00:00Z", []string{"2026-01-01T11:00:00Z"}},
		{"@daily", "@daily", "UTC", "2026-01-01T10:00:00Z", []string{"2026-01-02T00:00:00Z"}},
		{"@weekly", "@weekly", "UTC", "2026-01-03T00:00:00Z", []string{"2026-01-04T00:00:00Z"}},
		{"@monthly", "@monthly", "UTC", "2026-01-15T00:00:00Z", []string{"2026-02-01T00:00:00Z"}},
		{"@yearly", "@yearly", "UTC", "2026-06-01T00:00:00Z", []string{"2027-01-01T00:00:00Z"}},
		{"month names", "0 0 1 JAN-MAR,jul *", "UTC", "2026-03-01T00:00:00Z", []string{"2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"}},
		// year rollover
		{"new year's eve", "59 23 31 12 *", "UTC", "2026-12-31T23:59:00Z", []string{"2027-12-31T23:59:00Z"}},
		{"new year", "0 0 1 1 *", "UTC", "2026-12-31T23:59:59Z", []string{"2027-01-01T00:00:00Z"}},
		{"daily across the year", "0 0 * * *", "UTC", "2026-12-31T12:00:00Z", []string{"2027-01-01T00:00:00Z"}},
		{"December only", "0 0 1 DEC *", "UTC", "2026-12-01T00:00:00Z", []string{"2027-12-01T00:00:00Z"}},
		// zones
		{"Tokyo wall clock", "0 9 * * *", "Asia/Tokyo", "2026-01-01T00:00:00Z", []string{"2026-01-02T09:00:00+09:00"}},
		{"Kolkata half hour", "0 9 * * *", "Asia/Kolkata", "2026-01-01T00:00:00Z", []string{"2026-01-01T09:00:00+05:30"}},
		{"New York weekday", "0 9 * * MON-FRI", "America/New_York", "2026-01-02T14:00:00Z", []string{"2026-01-05T09:00:00-05:00"}},
		{"New York new year from UTC", "0 0 1 1 *", "America/New_York", "2027-01-01T02:00:00Z", []string{"2027-01-01T00:00:00-05:00", "2028-01-01T00:00:00-05:00"}},
		{"day of week in the zone, not UTC", "0 23 * * SUN", "America/Los_Angeles", "2026-01-04T00:00:00Z", // Sat 16:00 in LA
			[]string{"2026-01-04T23:00:00-08:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, loc := mustCron(t, tt.expr), zone(t, tt.zone)
			got := nextN(c, ts(t, tt.after), loc, len(tt.want))
			if !sameInstants(got, tss(t, tt.want...)) {
				t.Errorf("%q in %s after %s = %v, want %v", tt.expr, tt.zone, tt.after, format(got), tt.want)
			}
		})
	}
}

func TestCronNextInZone(t *testing.T) {
	t.Parallel()
	paris := zone(t, "Europe/Paris")
	got, ok := mustCron(t, "0 9 * * *").Next(ts(t, "2026-01-01T00:00:00Z"), paris)
	if !ok || got.Location() != paris || got.Format(time.RFC3339) != "2026-01-01T09:00:00+01:00" {
		t.Errorf("Next = %v (%v), %v; want 2026-01-01T09:00:00+01:00 in Europe/Paris", got, got.Location(), ok)
	}
	got, ok = mustCron(t, "0 9 * * *").Next(ts(t, "2026-01-01T00:00:00Z"), nil)
	if !ok || got.Location() != time.UTC || !got.Equal(ts(t, "2026-01-01T09:00:00Z")) {
		t.Errorf("Next with nil zone = %v (%v), %v; want 09:00 UTC", got, got.Location(), ok)
	}
}

func TestCronNextNone(t *testing.T) {
	t.Parallel()
	if got, ok := new(Cron).Next(ts(t, "2026-01-01T00:00:00Z"), time.UTC); ok {
		t.Errorf("the zero Cron fired at %v", got)
	}
}

// TestCronNextFooterLeapYear crosses the end of leap years that the zones'
// TZ footer rules serve, where Go reports a zone period ending before the
// instant asked about (Go issue 81583).
func TestCronNextFooterLeapYear(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"America/New_York", "Europe/Warsaw", "Australia/Sydney"} {
		loc := zone(t, name)
		start := time.Date(2040, 12, 30, 0, 0, 0, 0, loc)
		got := nextN(mustCron(t, "0 * * * *"), start, loc, 72)
		for i, g := range got {
			if want := start.Add(time.Duration(i+1) * time.Hour); !g.Equal(want) {
				t.Fatalf("%s: firing %d = %v, want %v", name, i, g, want)
			}
		}
		leap := nextN(mustCron(t, "0 0 29 2 *"), start, loc, 19) // 2044 to 2096, 2104 to 2120
		if len(leap) != 19 || leap[13].Year() != 2096 || leap[14].Year() != 2104 || leap[18].Year() != 2120 {
			t.Errorf("%s: leap days after 2040 = %v", name, format(leap))
		}
	}
}
