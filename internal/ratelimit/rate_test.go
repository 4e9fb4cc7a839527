package ratelimit

import (
	"errors"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Rate
		str  string
	}{
		{"5/min", Rate{5, time.Minute}, "5/min"},
		{"5/m", Rate{5, time.Minute}, "5/min"},
		{"30/minute", Rate{30, time.Minute}, "30/min"},
		{"120/s", Rate{120, time.Second}, "120/s"},
		{"1/sec", Rate{1, time.Second}, "1/s"},
		{"300/h", Rate{300, time.Hour}, "300/h"},
		{"2/hour", Rate{2, time.Hour}, "2/h"},
		{" 7 / MIN ", Rate{7, time.Minute}, "7/min"},
		{"10/30s", Rate{10, 30 * time.Second}, "10/30s"},
		{"1000000/s", Rate{1_000_000, time.Second}, "1000000/s"},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if err != nil {
			t.Errorf("ParseRate(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want || got.String() != tt.str {
			t.Errorf("ParseRate(%q) = %v (%s), want %v (%s)", tt.in, got, got, tt.want, tt.str)
		}
		if again, err := ParseRate(got.String()); err != nil || again != got {
			t.Errorf("round trip of %s = %v, %v", got, again, err)
		}
	}
}

func TestParseRateRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"", "5", "/min", "5/", "0/min", "-1/s", "five/min", "5/day", "5/fortnight",
		"5/-1s", "5/0s", "1.5/s", "5/min/s", "2000000/s", "99999999999999999999/s",
	} {
		r, err := ParseRate(in)
		if err == nil {
			t.Errorf("ParseRate(%q) = %v, want an error", in, r)
			continue
		}
		if !errors.Is(err, ErrInvalidRate) {
			t.Errorf("ParseRate(%q) error %v does not wrap ErrInvalidRate", in, err)
		}
	}
}

func TestParseRateMessages(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"5":         `invalid rate "5": want N/s, N/min or N/h`,
		"0/min":     `invalid rate "0/min": count "0" is not a positive integer`,
		"5/day":     `invalid rate "5/day": unknown unit "day": want s, min or h`,
		"2000000/s": `invalid rate 2000000/s: more than one request per microsecond`,
	}
	for in, want := range tests {
		if _, err := ParseRate(in); err == nil || err.Error() != want {
			t.Errorf("ParseRate(%q) error = %v, want %q", in, err, want)
		}
	}
}

func TestRateValidate(t *testing.T) {
	t.Parallel()
	for _, r := range []Rate{{0, time.Second}, {-1, time.Second}, {1, 0}, {1, -time.Second}} {
		if r.Validate() == nil {
			t.Errorf("%#v.Validate() = nil, want an error", r)
		}
	}
}
