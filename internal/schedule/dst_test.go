package schedule

import (
	"testing"
	"time"
)

func TestCronNextDST(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, zone, expr, after string
		want                    []string
	}{
		// New York, 2026-03-08: 02:00 EST becomes 03:00 EDT.
		{"NY gap: a skipped time fires at the jump", "America/New_York", "30 2 * * *", "2026-03-07T12:00:00-05:00",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}},
		{"NY gap: the gap's first minute", "America/New_York", "0 2 * * *", "2026-03-07T12:00:00-05:00",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"}},
		{"NY gap: the last skipped second", "America/New_York", "59 59 2 * * *", "2026-03-07T12:00:00-05:00",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:59:59-04:00"}},
		{"NY gap: two skipped times fire once", "America/New_York", "0,30 2 * * *", "2026-03-07T12:00:00-05:00",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00", "2026-03-09T02:30:00-04:00"}},
		{"NY gap: no double with a firing at the jump", "America/New_York", "0 2,3 * * *", "2026-03-07T12:00:00-05:00",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00", "2026-03-09T03:00:00-04:00"}},
		{"NY gap: times after it are untouched", "America/New_York", "30 3 * * *", "2026-03-07T12:00:00-05:00",
			[]string{"2026-03-08T03:30:00-04:00"}},
		{"NY gap: every quarter hour", "America/New_York", "*/15 * * * *", "2026-03-08T01:30:00-05:00",
			[]string{"2026-03-08T01:45:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:15:00-04:00"}},
		{"NY gap: half past every hour", "America/New_York", "30 * * * *", "2026-03-08T01:00:00-05:00",
			[]string{"2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"}},
		{"NY gap: asked just before the jump", "America/New_York", "30 2 * * *", "2026-03-08T01:59:59.5-05:00",
			[]string{"2026-03-08T03:00:00-04:00"}},
		{"NY gap: asked at the jump", "America/New_York", "30 2 * * *", "2026-03-08T03:00:00-04:00",
			[]string{"2026-03-09T02:30:00-04:00"}},
		// New York, 2026-11-01: 02:00 EDT becomes 01:00 EST.
		{"NY overlap: first pass only", "America/New_York", "30 1 * * *", "2026-10-31T12:00:00-04:00",
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
		{"NY overlap: not again in the second pass", "America/New_York", "15 1 * * *", "2026-11-01T01:20:00-04:00",
			[]string{"2026-11-02T01:15:00-05:00"}},
		{"NY overlap: asked during the second pass", "America/New_York", "30 1 * * *", "2026-11-01T01:10:00-05:00",
			[]string{"2026-11-02T01:30:00-05:00"}},
		{"NY overlap: every minute of hour 1, once", "America/New_York", "* 1 * * *", "2026-11-01T01:58:30-04:00",
			[]string{"2026-11-01T01:59:00-04:00", "2026-11-02T01:00:00-05:00"}},
		{"NY overlap: every half hour, both passes", "America/New_York", "*/30 * * * *", "2026-11-01T00:45:00-04:00",
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T01:30:00-05:00", "2026-11-01T02:00:00-05:00"}},
		{"NY overlap: hourly, both passes", "America/New_York", "0 * * * *", "2026-11-01T00:30:00-04:00",
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"}},
		{"NY overlap: 0-23 is every hour", "America/New_York", "0 0-23 * * *", "2026-11-01T00:30:00-04:00",
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"}},
		{"NY overlap: 1-23 is not every hour", "America/New_York", "0 1-23 * * *", "2026-11-01T00:30:00-04:00",
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00"}},
		{"NY overlap: 02:00 exists once", "America/New_York", "0 2 * * *", "2026-11-01T00:00:00-04:00",
			[]string{"2026-11-01T02:00:00-05:00"}},
		// Paris: 2026-03-29 02:00 CET becomes 03:00 CEST; 2026-10-25 03:00 CEST becomes 02:00 CET.
		{"Paris gap", "Europe/Paris", "30 2 * * *", "2026-03-28T12:00:00+01:00",
			[]string{"2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"}},
		{"Paris overlap", "Europe/Paris", "30 2 * * *", "2026-10-24T12:00:00+02:00",
			[]string{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"}},
		{"Paris overlap: several times in hour 2", "Europe/Paris", "*/20 2 * * *", "2026-10-25T01:50:00+02:00",
			[]string{"2026-10-25T02:00:00+02:00", "2026-10-25T02:20:00+02:00", "2026-10-25T02:40:00+02:00", "2026-10-26T02:00:00+01:00"}},
		{"Paris overlap: every hour", "Europe/Paris", "*/20 * * * *", "2026-10-25T01:50:00+02:00",
			[]string{"2026-10-25T02:00:00+02:00", "2026-10-25T02:20:00+02:00", "2026-10-25T02:40:00+02:00",
				"2026-10-25T02:00:00+01:00", "2026-10-25T02:20:00+01:00", "2026-10-25T02:40:00+01:00", "2026-10-25T03:00:00+01:00"}},
		// Lord Howe Island shifts by 30 minutes: 2026-04-05 02:00 becomes 01:30;
		// 2026-10-04 02:00 becomes 02:30.
		{"Lord Howe gap", "Australia/Lord_Howe", "15 2 * * *", "2026-10-03T12:00:00+10:30",
			[]string{"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"}},
		{"Lord Howe gap: two skipped times fire once", "Australia/Lord_Howe", "0,15 2 * * *", "2026-10-03T12:00:00+10:30",
			[]string{"2026-10-04T02:30:00+11:00", "2026-10-05T02:00:00+11:00"}},
		{"Lord Howe gap: every quarter hour", "Australia/Lord_Howe", "*/15 * * * *", "2026-10-04T01:50:00+10:30",
			[]string{"2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00"}},
		{"Lord Howe overlap", "Australia/Lord_Howe", "45 1 * * *", "2026-04-04T12:00:00+11:00",
			[]string{"2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"}},
		{"Lord Howe overlap: every quarter hour", "Australia/Lord_Howe", "*/15 * * * *", "2026-04-05T01:20:00+11:00",
			[]string{"2026-04-05T01:30:00+11:00", "2026-04-05T01:45:00+11:00", "2026-04-05T01:30:00+10:30", "2026-04-05T01:45:00+10:30", "2026-04-05T02:00:00+10:30"}},
		// São Paulo changed its clocks at midnight: on 2018-11-04 00:00 became
		// 01:00; on 2019-02-17 00:00 became 23:00 the day before.
		{"midnight gap", "America/Sao_Paulo", "0 0 * * *", "2018-11-03T12:00:00-03:00",
			[]string{"2018-11-04T01:00:00-02:00", "2018-11-05T00:00:00-02:00"}},
		{"midnight gap keeps the skipped day's weekday", "America/Sao_Paulo", "30 0 * * SUN", "2018-11-03T12:00:00-03:00",
			[]string{"2018-11-04T01:00:00-02:00", "2018-11-11T00:30:00-02:00"}},
		{"midnight overlap", "America/Sao_Paulo", "30 23 * * *", "2019-02-16T12:00:00-02:00",
			[]string{"2019-02-16T23:30:00-02:00", "2019-02-17T23:30:00-03:00"}},
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

// TestCronNextYearOfQuarterHours follows "*/15 * * * *" through 2026 in New
// York: every firing is 15 real minutes after the one before (none skipped,
// none doubled, across both changes), the spring day has 92 and the autumn
// day 100.
func TestCronNextYearOfQuarterHours(t *testing.T) {
	t.Parallel()
	loc := zone(t, "America/New_York")
	c := mustCron(t, "*/15 * * * *")
	start, end := time.Date(2026, 1, 1, 0, 0, 0, 0, loc), time.Date(2027, 1, 1, 0, 0, 0, 0, loc)
	perDay := map[string]int{}
	count, prev := 0, start
	for t1, ok := c.Next(start, loc); ok && !t1.After(end); t1, ok = c.Next(t1, loc) {
		if d := t1.Sub(prev); d != 15*time.Minute {
			t.Fatalf("%v follows %v after %v", t1, prev, d)
		}
		perDay[t1.Format("2006-01-02")]++
		count, prev = count+1, t1
	}
	if count != 35040 || !prev.Equal(end) {
		t.Errorf("%d firings ending %v, want 35040 ending %v", count, prev, end)
	}
	if perDay["2026-03-08"] != 92 || perDay["2026-11-01"] != 100 || perDay["2026-07-01"] != 96 {
		t.Errorf("firings on 03-08, 11-01, 07-01 = %d, %d, %d; want 92, 100, 96",
			perDay["2026-03-08"], perDay["2026-11-01"], perDay["2026-07-01"])
	}
}

// TestCronNextDailyThroughTheYear checks that a daily time fires exactly once
// on every day of the year, whether the changes skip or repeat it.
func TestCronNextDailyThroughTheYear(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ zone, expr string }{
		{"America/New_York", "30 2 * * *"},
		{"America/New_York", "30 1 * * *"},
		{"Europe/Paris", "30 2 * * *"},
		{"Australia/Lord_Howe", "45 1 * * *"},
		{"Australia/Lord_Howe", "15 2 * * *"},
	} {
		loc := zone(t, tc.zone)
		got := nextN(mustCron(t, tc.expr), time.Date(2026, 1, 1, 0, 0, 0, 0, loc), loc, 365)
		days := map[string]bool{}
		for i, g := range got {
			if i > 0 && !g.After(got[i-1]) {
				t.Errorf("%s %q: %v does not follow %v", tc.zone, tc.expr, g, got[i-1])
			}
			days[g.Format("2006-01-02")] = true
		}
		if len(days) != 365 || got[364].Format("2006-01-02") != "2026-12-31" {
			t.Errorf("%s %q: %d distinct days, last %v", tc.zone, tc.expr, len(days), got[364])
		}
	}
}
