package schedule

import (
	"testing"
	"time"
)

func TestMissed(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	hourly := Spec{Type: TypeCron, Cron: "0 * * * *"}
	now := "2026-01-05T15:30:00Z"
	tests := []struct {
		name         string
		spec         Spec
		nextRun, now string
		catchUp      CatchUp
		run          []string
		next         string // "" for none
	}{
		// nextRun 10:00, now 15:30: 10:00 to 15:00 are due
		{"skip", hourly, "2026-01-05T10:00:00Z", now, CatchUp{CatchUpSkip, day, 10},
			nil, "2026-01-05T16:00:00Z"},
		{"run_once runs the most recent", hourly, "2026-01-05T10:00:00Z", now, CatchUp{CatchUpRunOnce, day, 10},
			[]string{"2026-01-05T15:00:00Z"}, "2026-01-05T16:00:00Z"},
		{"run_all", hourly, "2026-01-05T10:00:00Z", now, CatchUp{CatchUpRunAll, day, 10},
			[]string{"2026-01-05T10:00:00Z", "2026-01-05T11:00:00Z", "2026-01-05T12:00:00Z", "2026-01-05T13:00:00Z", "2026-01-05T14:00:00Z", "2026-01-05T15:00:00Z"},
			"2026-01-05T16:00:00Z"},
		{"run_all keeps the newest Max", hourly, "2026-01-05T10:00:00Z", now, CatchUp{CatchUpRunAll, day, 3},
			[]string{"2026-01-05T13:00:00Z", "2026-01-05T14:00:00Z", "2026-01-05T15:00:00Z"}, "2026-01-05T16:00:00Z"},
		{"run_all with Max 0", hourly, "2026-01-05T10:00:00Z", now, CatchUp{CatchUpRunAll, day, 0},
			nil, "2026-01-05T16:00:00Z"},
		{"window edge is inclusive", hourly, "2026-01-05T10:00:00Z", now, CatchUp{CatchUpRunAll, 150 * time.Minute, 10},
			[]string{"2026-01-05T13:00:00Z", "2026-01-05T14:00:00Z", "2026-01-05T15:00:00Z"}, "2026-01-05T16:00:00Z"},
		{"window drops older firings", hourly, "2026-01-05T10:00:00Z", now, CatchUp{CatchUpRunAll, 149 * time.Minute, 10},
			[]string{"2026-01-05T14:00:00Z", "2026-01-05T15:00:00Z"}, "2026-01-05T16:00:00Z"},
		{"run_once outside the window", hourly, "2026-01-05T10:00:00Z", now, CatchUp{CatchUpRunOnce, 10 * time.Minute, 10},
			nil, "2026-01-05T16:00:00Z"},
		{"unknown policy runs nothing", hourly, "2026-01-05T10:00:00Z", now, CatchUp{"run_twice", day, 10},
			nil, "2026-01-05T16:00:00Z"},
		{"stored next_run_at is due", hourly, "2026-01-05T15:00:00Z", now, CatchUp{CatchUpRunAll, day, 10},
			[]string{"2026-01-05T15:00:00Z"}, "2026-01-05T16:00:00Z"},
		{"due exactly now", hourly, "2026-01-05T15:00:00Z", "2026-01-05T15:00:00Z", CatchUp{CatchUpRunOnce, day, 10},
			[]string{"2026-01-05T15:00:00Z"}, "2026-01-05T16:00:00Z"},
		{"skip a firing due exactly now", hourly, "2026-01-05T15:00:00Z", "2026-01-05T15:00:00Z", CatchUp{CatchUpSkip, day, 10},
			nil, "2026-01-05T16:00:00Z"},
		{"not yet due", hourly, "2026-01-05T16:00:00Z", now, CatchUp{CatchUpRunAll, day, 10},
			nil, "2026-01-05T16:00:00Z"},
		{"EndDate ends the schedule", Spec{Type: TypeCron, Cron: "0 * * * *", EndDate: ts(t, "2026-01-05T13:00:00Z")},
			"2026-01-05T10:00:00Z", now, CatchUp{CatchUpRunAll, day, 10},
			[]string{"2026-01-05T10:00:00Z", "2026-01-05T11:00:00Z", "2026-01-05T12:00:00Z", "2026-01-05T13:00:00Z"}, ""},
		// once
		{"once run late", Spec{Type: TypeOnce, RunAt: ts(t, "2026-01-05T10:00:00Z")},
			"2026-01-05T10:00:00Z", now, CatchUp{CatchUpRunOnce, day, 10}, []string{"2026-01-05T10:00:00Z"}, ""},
		{"once too late", Spec{Type: TypeOnce, RunAt: ts(t, "2026-01-05T10:00:00Z")},
			"2026-01-05T10:00:00Z", now, CatchUp{CatchUpRunAll, time.Hour, 10}, nil, ""},
		{"once skipped", Spec{Type: TypeOnce, RunAt: ts(t, "2026-01-05T10:00:00Z")},
			"2026-01-05T10:00:00Z", now, CatchUp{CatchUpSkip, day, 10}, nil, ""},
		// intervals keep their phase
		{"interval without StartDate", Spec{Type: TypeInterval, IntervalSeconds: 3600},
			"2026-01-05T10:20:00Z", now, CatchUp{CatchUpRunAll, day, 10},
			[]string{"2026-01-05T10:20:00Z", "2026-01-05T11:20:00Z", "2026-01-05T12:20:00Z", "2026-01-05T13:20:00Z", "2026-01-05T14:20:00Z", "2026-01-05T15:20:00Z"},
			"2026-01-05T16:20:00Z"},
		{"interval without StartDate, window", Spec{Type: TypeInterval, IntervalSeconds: 3600},
			"2026-01-05T10:20:00Z", now, CatchUp{CatchUpRunAll, time.Hour, 10}, []string{"2026-01-05T15:20:00Z"}, "2026-01-05T16:20:00Z"},
		{"interval without StartDate, skip", Spec{Type: TypeInterval, IntervalSeconds: 3600},
			"2026-01-05T10:20:00Z", now, CatchUp{CatchUpSkip, day, 10}, nil, "2026-01-05T16:20:00Z"},
		{"interval with StartDate", Spec{Type: TypeInterval, IntervalSeconds: 3600, StartDate: ts(t, "2026-01-01T00:45:00Z")},
			"2026-01-05T10:45:00Z", now, CatchUp{CatchUpRunOnce, day, 10}, []string{"2026-01-05T14:45:00Z"}, "2026-01-05T15:45:00Z"},
		// long downtime, short window: only the window is walked
		{"a year down, every second", Spec{Type: TypeCron, Cron: "* * * * * *"},
			"2025-01-05T15:30:00Z", now, CatchUp{CatchUpRunAll, time.Hour, 3},
			[]string{"2026-01-05T15:29:58Z", "2026-01-05T15:29:59Z", "2026-01-05T15:30:00Z"}, "2026-01-05T15:30:01Z"},
	}
	for _, tt := range tests {
		run, next, ok := compile(t, tt.spec).Missed(ts(t, tt.nextRun), ts(t, tt.now), tt.catchUp)
		if !sameInstants(run, tss(t, tt.run...)) {
			t.Errorf("%s: run %v, want %v", tt.name, format(run), tt.run)
		}
		switch {
		case tt.next == "" && ok:
			t.Errorf("%s: next %v, want none", tt.name, next)
		case tt.next != "" && (!ok || !next.Equal(ts(t, tt.next))):
			t.Errorf("%s: next %v, %v; want %s", tt.name, next, ok, tt.next)
		}
	}
}

// TestMissedKeepsNewest runs run_all over many due firings with a small Max,
// so that the newest-kept buffer is trimmed many times.
func TestMissedKeepsNewest(t *testing.T) {
	t.Parallel()
	sch := compile(t, Spec{Type: TypeInterval, IntervalSeconds: 1, TimeZone: "Europe/Paris"})
	nextRun, now := ts(t, "2026-01-05T00:00:00Z"), ts(t, "2026-01-06T00:00:00Z")
	run, next, ok := sch.Missed(nextRun, now, CatchUp{CatchUpRunAll, 48 * time.Hour, 7})
	if len(run) != 7 || !run[6].Equal(now) || !run[0].Equal(now.Add(-6*time.Second)) {
		t.Fatalf("run %v", format(run))
	}
	if !ok || !next.Equal(now.Add(time.Second)) || next.Location().String() != "Europe/Paris" {
		t.Errorf("next %v, %v", next, ok)
	}
	for i := 1; i < len(run); i++ {
		if run[i].Sub(run[i-1]) != time.Second {
			t.Errorf("run %v is not consecutive", format(run))
		}
	}
}
