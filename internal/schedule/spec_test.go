package schedule

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

func TestSpecValidate(t *testing.T) {
	t.Parallel()
	runAt := ts(t, "2026-06-01T12:00:00Z")
	start, end := ts(t, "2026-01-01T00:00:00Z"), ts(t, "2026-12-31T00:00:00Z")
	tests := []struct {
		name string
		spec Spec
		want []Problem
	}{
		{"cron", Spec{Type: TypeCron, Cron: "0 9 * * MON-FRI", TimeZone: "Europe/Paris"}, nil},
		{"cron with dates", Spec{Type: TypeCron, Cron: "@daily", StartDate: start, EndDate: end}, nil},
		{"interval", Spec{Type: TypeInterval, IntervalSeconds: 60}, nil},
		{"interval of a year", Spec{Type: TypeInterval, IntervalSeconds: MaxIntervalSeconds}, nil},
		{"once", Spec{Type: TypeOnce, RunAt: runAt, StartDate: start, EndDate: end}, nil},
		{"event", Spec{Type: TypeEvent}, nil},
		{"start equals end", Spec{Type: TypeEvent, StartDate: start, EndDate: start}, nil},
		{"UTC by name", Spec{Type: TypeEvent, TimeZone: "UTC"}, nil},
		{"unknown type", Spec{Type: "weekly"},
			[]Problem{{Field: "schedule_type", Message: `unknown schedule type "weekly"; expected cron, interval, once or event`}}},
		{"no type", Spec{},
			[]Problem{{Field: "schedule_type", Message: `unknown schedule type ""; expected cron, interval, once or event`}}},
		{"unknown zone", Spec{Type: TypeEvent, TimeZone: "Mars/Base"},
			[]Problem{{Field: "timezone", Message: `unknown time zone "Mars/Base"`}}},
		{"the server's zone", Spec{Type: TypeEvent, TimeZone: "Local"},
			[]Problem{{Field: "timezone", Message: `unknown time zone "Local"`}}},
		{"a path for a zone", Spec{Type: TypeEvent, TimeZone: "../../etc/passwd"},
			[]Problem{{Field: "timezone", Message: `unknown time zone "../../etc/passwd"`}}},
		{"no cron", Spec{Type: TypeCron},
			[]Problem{{Field: "cron_expression", Message: "the expression is empty"}}},
		{"bad cron", Spec{Type: TypeCron, Cron: "61 * * * *"},
			[]Problem{{Field: "cron_expression", Message: "minute: 61 is out of range 0-59"}}},
		{"cron never fires", Spec{Type: TypeCron, Cron: "0 0 30 2 *"},
			[]Problem{{Field: "cron_expression", Message: "the expression never fires: no date matches its day and month fields"}}},
		{"no interval", Spec{Type: TypeInterval},
			[]Problem{{Field: "interval_seconds", Message: "must be between 1 and 31536000 (one year), got 0"}}},
		{"negative interval", Spec{Type: TypeInterval, IntervalSeconds: -5},
			[]Problem{{Field: "interval_seconds", Message: "must be between 1 and 31536000 (one year), got -5"}}},
		{"interval over a year", Spec{Type: TypeInterval, IntervalSeconds: MaxIntervalSeconds + 1},
			[]Problem{{Field: "interval_seconds", Message: "must be between 1 and 31536000 (one year), got 31536001"}}},
		{"once without run_at", Spec{Type: TypeOnce},
			[]Problem{{Field: "run_at", Message: "is required for a once schedule"}}},
		{"once before start", Spec{Type: TypeOnce, RunAt: start.Add(-time.Second), StartDate: start},
			[]Problem{{Field: "run_at", Message: "must not be before start_date"}}},
		{"once after end", Spec{Type: TypeOnce, RunAt: end.Add(time.Second), EndDate: end},
			[]Problem{{Field: "run_at", Message: "must not be after end_date"}}},
		{"end before start", Spec{Type: TypeEvent, StartDate: end, EndDate: start},
			[]Problem{{Field: "end_date", Message: "must not be before start_date"}}},
		{"everything at once", Spec{Type: TypeCron, Cron: "* * *", TimeZone: "Mars/Base", StartDate: end, EndDate: start},
			[]Problem{
				{Field: "timezone", Message: `unknown time zone "Mars/Base"`},
				{Field: "cron_expression", Message: "expected 5 or 6 fields, got 3"},
				{Field: "end_date", Message: "must not be before start_date"},
			}},
	}
	for _, tt := range tests {
		if got := tt.spec.Validate(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Validate() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSpecCompileInvalid(t *testing.T) {
	t.Parallel()
	sch, err := Spec{Type: TypeInterval, TimeZone: "Mars/Base"}.Compile()
	if sch != nil || gathering.ErrorCode(err) != gathering.EINVALID {
		t.Fatalf("Compile = %v, %v; want an EINVALID error", sch, err)
	}
	if fields := gathering.ErrorFields(err); len(fields) != 2 || fields[0].Field != "timezone" || fields[1].Field != "interval_seconds" {
		t.Errorf("fields %v", fields)
	}
}

// compile compiles a spec or fails the test.
func compile(t *testing.T, s Spec) *Schedule {
	t.Helper()
	sch, err := s.Compile()
	if err != nil {
		t.Fatalf("Compile(%+v): %v", s, err)
	}
	return sch
}

func TestScheduleNext(t *testing.T) {
	t.Parallel()
	start := ts(t, "2026-01-05T09:00:00Z")
	end := ts(t, "2026-01-07T09:00:00Z")
	tests := []struct {
		name  string
		spec  Spec
		after string
		want  string // "" for none
	}{
		{"cron in its zone", Spec{Type: TypeCron, Cron: "0 9 * * *", TimeZone: "America/New_York"}, "2026-01-01T00:00:00Z", "2026-01-01T09:00:00-05:00"},
		{"cron starts at StartDate, inclusive", Spec{Type: TypeCron, Cron: "0 9 * * *", StartDate: start}, "2026-01-01T00:00:00Z", "2026-01-05T09:00:00Z"},
		{"cron after StartDate", Spec{Type: TypeCron, Cron: "0 9 * * *", StartDate: start}, "2026-01-05T09:00:00Z", "2026-01-06T09:00:00Z"},
		{"cron StartDate within a second", Spec{Type: TypeCron, Cron: "* * * * * *", StartDate: ts(t, "2026-01-05T09:00:00.5Z")}, "2026-01-01T00:00:00Z", "2026-01-05T09:00:01Z"},
		{"cron EndDate, inclusive", Spec{Type: TypeCron, Cron: "0 9 * * *", EndDate: end}, "2026-01-06T09:00:00Z", "2026-01-07T09:00:00Z"},
		{"cron past EndDate", Spec{Type: TypeCron, Cron: "0 9 * * *", EndDate: end}, "2026-01-07T09:00:00Z", ""},
		{"interval from StartDate", Spec{Type: TypeInterval, IntervalSeconds: 3600, StartDate: start}, "2025-12-01T00:00:00Z", "2026-01-05T09:00:00Z"},
		{"interval at StartDate", Spec{Type: TypeInterval, IntervalSeconds: 3600, StartDate: start}, "2026-01-05T09:00:00Z", "2026-01-05T10:00:00Z"},
		{"interval between grid points", Spec{Type: TypeInterval, IntervalSeconds: 3600, StartDate: start}, "2026-01-05T09:30:00Z", "2026-01-05T10:00:00Z"},
		{"interval just before a grid point", Spec{Type: TypeInterval, IntervalSeconds: 3600, StartDate: start}, "2026-01-05T09:59:59.999999999Z", "2026-01-05T10:00:00Z"},
		{"interval on a grid point", Spec{Type: TypeInterval, IntervalSeconds: 3600, StartDate: start}, "2026-01-05T10:00:00Z", "2026-01-05T11:00:00Z"},
		{"interval a century on", Spec{Type: TypeInterval, IntervalSeconds: 7, StartDate: start}, "2126-01-05T09:00:00Z", "2126-01-05T09:00:05Z"}, // 36524 days: 450810514 intervals and 2 s
		{"interval with fractional StartDate", Spec{Type: TypeInterval, IntervalSeconds: 10, StartDate: ts(t, "2026-01-05T09:00:00.5Z")}, "2026-01-05T09:00:10.4Z", "2026-01-05T09:00:10.5Z"},
		{"interval with fractional StartDate, on a point", Spec{Type: TypeInterval, IntervalSeconds: 10, StartDate: ts(t, "2026-01-05T09:00:00.5Z")}, "2026-01-05T09:00:10.5Z", "2026-01-05T09:00:20.5Z"},
		{"interval with fractional StartDate, past a point", Spec{Type: TypeInterval, IntervalSeconds: 10, StartDate: ts(t, "2026-01-05T09:00:00.5Z")}, "2026-01-05T09:00:10.6Z", "2026-01-05T09:00:20.5Z"},
		{"interval without StartDate", Spec{Type: TypeInterval, IntervalSeconds: 90}, "2026-01-05T09:00:00.25Z", "2026-01-05T09:01:30.25Z"},
		{"interval past EndDate", Spec{Type: TypeInterval, IntervalSeconds: 86400, StartDate: start, EndDate: end}, "2026-01-07T09:00:00Z", ""},
		{"interval at EndDate", Spec{Type: TypeInterval, IntervalSeconds: 86400, StartDate: start, EndDate: end}, "2026-01-06T09:00:00Z", "2026-01-07T09:00:00Z"},
		{"once ahead", Spec{Type: TypeOnce, RunAt: start}, "2026-01-01T00:00:00Z", "2026-01-05T09:00:00Z"},
		{"once at RunAt", Spec{Type: TypeOnce, RunAt: start}, "2026-01-05T09:00:00Z", ""},
		{"once passed", Spec{Type: TypeOnce, RunAt: start}, "2026-02-01T00:00:00Z", ""},
		{"event", Spec{Type: TypeEvent}, "2026-01-01T00:00:00Z", ""},
	}
	for _, tt := range tests {
		got, ok := compile(t, tt.spec).Next(ts(t, tt.after))
		switch {
		case tt.want == "" && ok:
			t.Errorf("%s: Next(%s) = %v, want none", tt.name, tt.after, got)
		case tt.want != "" && (!ok || !got.Equal(ts(t, tt.want))):
			t.Errorf("%s: Next(%s) = %v, %v; want %s", tt.name, tt.after, got, ok, tt.want)
		}
	}
}

func TestScheduleTimesInZone(t *testing.T) {
	t.Parallel()
	for _, s := range []Spec{
		{Type: TypeCron, Cron: "@hourly", TimeZone: "Asia/Tokyo"},
		{Type: TypeInterval, IntervalSeconds: 60, TimeZone: "Asia/Tokyo"},
		{Type: TypeOnce, RunAt: ts(t, "2030-01-01T00:00:00Z"), TimeZone: "Asia/Tokyo"},
	} {
		if got, ok := compile(t, s).Next(ts(t, "2026-01-01T00:00:00Z")); !ok || got.Location().String() != "Asia/Tokyo" {
			t.Errorf("%s: Next = %v, %v; want a time in Asia/Tokyo", s.Type, got, ok)
		}
	}
}

func TestScheduleFirst(t *testing.T) {
	t.Parallel()
	now := ts(t, "2026-01-05T09:30:00Z")
	past := ts(t, "2026-01-05T09:00:00Z")
	tests := []struct {
		name string
		spec Spec
		want string // "" for none
	}{
		{"cron", Spec{Type: TypeCron, Cron: "0 * * * *"}, "2026-01-05T10:00:00Z"},
		{"interval without StartDate starts one interval on", Spec{Type: TypeInterval, IntervalSeconds: 600}, "2026-01-05T09:40:00Z"},
		{"interval keeps StartDate's grid", Spec{Type: TypeInterval, IntervalSeconds: 3600, StartDate: past.Add(-time.Minute)}, "2026-01-05T09:59:00Z"},
		{"interval starting later", Spec{Type: TypeInterval, IntervalSeconds: 60, StartDate: ts(t, "2026-02-01T00:00:00Z")}, "2026-02-01T00:00:00Z"},
		{"once ahead", Spec{Type: TypeOnce, RunAt: now.Add(time.Hour)}, "2026-01-05T10:30:00Z"},
		{"once passed is still its RunAt", Spec{Type: TypeOnce, RunAt: past}, "2026-01-05T09:00:00Z"},
		{"event", Spec{Type: TypeEvent}, ""},
		{"cron ended", Spec{Type: TypeCron, Cron: "0 * * * *", EndDate: past}, ""},
	}
	for _, tt := range tests {
		got, ok := compile(t, tt.spec).First(now)
		switch {
		case tt.want == "" && ok:
			t.Errorf("%s: First = %v, want none", tt.name, got)
		case tt.want != "" && (!ok || !got.Equal(ts(t, tt.want))):
			t.Errorf("%s: First = %v, %v; want %s", tt.name, got, ok, tt.want)
		}
	}
}

func TestScheduleBetween(t *testing.T) {
	t.Parallel()
	hourly := compile(t, Spec{Type: TypeCron, Cron: "0 * * * *"})
	from, to := ts(t, "2026-01-05T09:00:00Z"), ts(t, "2026-01-05T12:00:00Z")
	tests := []struct {
		name  string
		sch   *Schedule
		limit int
		want  []string
	}{
		{"(from, to]", hourly, 10, []string{"2026-01-05T10:00:00Z", "2026-01-05T11:00:00Z", "2026-01-05T12:00:00Z"}},
		{"limit keeps the oldest", hourly, 2, []string{"2026-01-05T10:00:00Z", "2026-01-05T11:00:00Z"}},
		{"zero limit", hourly, 0, nil},
		{"EndDate", compile(t, Spec{Type: TypeCron, Cron: "0 * * * *", EndDate: ts(t, "2026-01-05T10:30:00Z")}), 10,
			[]string{"2026-01-05T10:00:00Z"}},
		{"interval anchored at from", compile(t, Spec{Type: TypeInterval, IntervalSeconds: 5400}), 10,
			[]string{"2026-01-05T10:30:00Z", "2026-01-05T12:00:00Z"}},
		{"once inside", compile(t, Spec{Type: TypeOnce, RunAt: to}), 10, []string{"2026-01-05T12:00:00Z"}},
		{"once at from", compile(t, Spec{Type: TypeOnce, RunAt: from}), 10, nil},
		{"event", compile(t, Spec{Type: TypeEvent}), 10, nil},
	}
	for _, tt := range tests {
		if got := tt.sch.Between(from, to, tt.limit); !sameInstants(got, tss(t, tt.want...)) {
			t.Errorf("%s: Between = %v, want %v", tt.name, format(got), tt.want)
		}
	}
}

func TestPreview(t *testing.T) {
	t.Parallel()
	from := ts(t, "2026-03-07T12:00:00Z")
	got, err := Preview(Spec{Type: TypeCron, Cron: "30 2 * * *", TimeZone: "America/New_York"}, from, 3)
	want := []string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"}
	if err != nil || !slices.Equal(format(got), want) {
		t.Errorf("Preview cron = %v, %v; want %v", format(got), err, want)
	}
	got, err = Preview(Spec{Type: TypeInterval, IntervalSeconds: 60, EndDate: from.Add(150 * time.Second)}, from, 100)
	if err != nil || len(got) != 2 {
		t.Errorf("Preview interval until EndDate = %v, %v; want 2 times", format(got), err)
	}
	got, err = Preview(Spec{Type: TypeOnce, RunAt: from.Add(-time.Hour)}, from, 5)
	if err != nil || len(got) != 0 {
		t.Errorf("Preview of a passed once = %v, %v; want none", format(got), err)
	}
}

func TestPreviewErrors(t *testing.T) {
	t.Parallel()
	from := ts(t, "2026-01-01T00:00:00Z")
	cron := Spec{Type: TypeCron, Cron: "@daily"}
	tests := []struct {
		name  string
		spec  Spec
		count int
		field string
	}{
		{"zero count", cron, 0, "count"},
		{"count over the limit", cron, MaxPreview + 1, "count"},
		{"invalid spec", Spec{Type: TypeCron, Cron: "bad"}, 5, "cron_expression"},
	}
	for _, tt := range tests {
		_, err := Preview(tt.spec, from, tt.count)
		var ge *gathering.Error
		if !errors.As(err, &ge) || ge.Code != gathering.EINVALID || len(ge.Fields) != 1 || ge.Fields[0].Field != tt.field {
			t.Errorf("%s: Preview error %v, want EINVALID on %s", tt.name, err, tt.field)
		}
	}
	if got, err := Preview(cron, from, MaxPreview); err != nil || len(got) != MaxPreview {
		t.Errorf("Preview of %d = %d times, %v", MaxPreview, len(got), err)
	}
}
