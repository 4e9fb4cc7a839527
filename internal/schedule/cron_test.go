package schedule

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// members lists a set's members in order.
func members(s set) []int {
	var out []int
	for v := range 64 {
		if s.has(v) {
			out = append(out, v)
		}
	}
	return out
}

// fieldSet returns the set of the named field.
func fieldSet(c *Cron, name string) set {
	return map[string]set{
		"second": c.second, "minute": c.minute, "hour": c.hour,
		"day of month": c.dom, "month": c.month, "day of week": c.dow,
	}[name]
}

func TestParseCronFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr  string
		field string
		want  []int
	}{
		// numbers, lists, ranges, steps
		{"5 * * * *", "minute", []int{5}},
		{"1,2,3 * * * *", "minute", []int{1, 2, 3}},
		{"10-15 * * * *", "minute", []int{10, 11, 12, 13, 14, 15}},
		{"*/15 * * * *", "minute", []int{0, 15, 30, 45}},
		{"10-40/10 * * * *", "minute", []int{10, 20, 30, 40}},
		{"7/20 * * * *", "minute", []int{7, 27, 47}},
		{"1-5,30,*/20 * * * *", "minute", []int{0, 1, 2, 3, 4, 5, 20, 30, 40}},
		{"59 * * * *", "minute", []int{59}},
		{"0 9-17/2 * * *", "hour", []int{9, 11, 13, 15, 17}},
		{"0 23 * * *", "hour", []int{23}},
		{"0 0 1,15,31 * *", "day of month", []int{1, 15, 31}},
		{"0 0 */10 * *", "day of month", []int{1, 11, 21, 31}},
		{"0 0 ? * MON", "day of month", members(span(1, 31, 1))},
		// month names, any case
		{"0 0 * JAN-MAR *", "month", []int{1, 2, 3}},
		{"0 0 * jan,Jul,DEC *", "month", []int{1, 7, 12}},
		{"0 0 * */3 *", "month", []int{1, 4, 7, 10}},
		{"0 0 * FEB-aug/3 *", "month", []int{2, 5, 8}},
		// weekdays: names, Sunday as 0 and 7
		{"0 0 * * MON-FRI", "day of week", []int{1, 2, 3, 4, 5}},
		{"0 0 * * mon,wed,Fri", "day of week", []int{1, 3, 5}},
		{"0 0 * * 0", "day of week", []int{0}},
		{"0 0 * * 7", "day of week", []int{0}},
		{"0 0 * * sun", "day of week", []int{0}},
		{"0 0 * * 5-7", "day of week", []int{0, 5, 6}},
		{"0 0 * * FRI-SUN", "day of week", []int{0, 5, 6}},
		{"0 0 * * 0-7", "day of week", []int{0, 1, 2, 3, 4, 5, 6}},
		{"0 0 * * 1/2", "day of week", []int{1, 3, 5}},
		{"0 0 * * */2", "day of week", []int{0, 2, 4, 6}},
		{"0 0 * * ?", "day of week", []int{0, 1, 2, 3, 4, 5, 6}},
		// seconds
		{"0 * * * *", "second", []int{0}},
		{"30 * * * * *", "second", []int{30}},
		{"*/10 0 * * * *", "second", []int{0, 10, 20, 30, 40, 50}},
		{"*/10 0 * * * *", "minute", []int{0}},
		{"0 0 9 * * MON-FRI", "hour", []int{9}},
		// whitespace
		{"  0\t9  *\t* \t MON-FRI  ", "day of week", []int{1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		c := mustCron(t, tt.expr)
		if got := members(fieldSet(c, tt.field)); !slices.Equal(got, tt.want) {
			t.Errorf("ParseCron(%q) %s = %v, want %v", tt.expr, tt.field, got, tt.want)
		}
	}
}

func TestParseCronFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr                        string
		domStar, dowStar, everyHour bool
	}{
		{"* * * * *", true, true, true},
		{"0 0 ? * ?", true, true, false},
		{"0 0 1 * *", false, true, false},
		{"0 0 * * MON", true, false, false},
		{"0 0 */2 * *", false, true, false}, // a step restricts the day
		{"0 0 1 * 1", false, false, false},
		{"0 */1 * * *", true, true, true},
		{"0 0-23 * * *", true, true, true},
		{"0 0-11,12-23 * * *", true, true, true},
		{"0 */2 * * *", true, true, false},
		{"0 1-23 * * *", true, true, false},
	}
	for _, tt := range tests {
		c := mustCron(t, tt.expr)
		if c.domStar != tt.domStar || c.dowStar != tt.dowStar || c.everyHour != tt.everyHour {
			t.Errorf("ParseCron(%q): domStar %v dowStar %v everyHour %v, want %v %v %v", tt.expr,
				c.domStar, c.dowStar, c.everyHour, tt.domStar, tt.dowStar, tt.everyHour)
		}
	}
}

func TestParseCronMacros(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"@yearly":    "0 0 1 1 *",
		"@annually":  "0 0 1 1 *",
		"@ANNUALLY":  "0 0 1 1 *",
		"@monthly":   "0 0 1 * *",
		"@weekly":    "0 0 * * 0",
		"@daily":     "0 0 * * *",
		"@midnight":  "0 0 * * *",
		"@Hourly":    "0 * * * *",
		" \t@daily ": "0 0 * * *",
	}
	for macro, expr := range tests {
		if got, want := mustCron(t, macro), mustCron(t, expr); *got != *want {
			t.Errorf("ParseCron(%q) = %+v, want %q: %+v", macro, *got, expr, *want)
		}
	}
}

func TestParseCronErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr, field, message string
	}{
		// the expression as a whole
		{"", "", "the expression is empty"},
		{" \t ", "", "the expression is empty"},
		{"1 2 3 4", "", "expected 5 or 6 fields, got 4"},
		{"1 2 3 4 5 6 7", "", "expected 5 or 6 fields, got 7"},
		{"@every 5m", "", "unknown macro @every"},
		{"@reboot", "", "unknown macro @reboot"},
		{"@daily 5", "", "macro @daily takes no fields, got 1 more"},
		{strings.Repeat("1,", 100) + "1 * * * *", "", "the expression is 209 bytes long; the limit is 200"},
		{"0 0 * * *\x00", "", "control character 0x00 at byte 10"},
		{"0 0\n* * *", "", "control character 0x0a at byte 4"},
		{"0 0 * * *\x7f", "", "control character 0x7f at byte 10"},
		{"0 0 30 2 *", "", "the expression never fires: no date matches its day and month fields"},
		{"0 0 31 4,6,9,11 *", "", "the expression never fires: no date matches its day and month fields"},
		{"0 0 30,31 FEB *", "", "the expression never fires: no date matches its day and month fields"},
		// out of range, field by field
		{"60 * * * * *", "second", "60 is out of range 0-59"},
		{"60 * * * *", "minute", "60 is out of range 0-59"},
		{"61 * * * *", "minute", "61 is out of range 0-59"},
		{"99999999999999999999 * * * *", "minute", "99999999999999999999 is out of range 0-59"},
		{"* 24 * * *", "hour", "24 is out of range 0-23"},
		{"0 0 0 * *", "day of month", "0 is out of range 1-31"},
		{"0 0 32 * *", "day of month", "32 is out of range 1-31"},
		{"0 0 * 0 *", "month", "0 is out of range 1-12"},
		{"0 0 * 13 *", "month", "13 is out of range 1-12"},
		{"0 0 * * 8", "day of week", "8 is out of range 0-7"},
		{"0 0 * * 1-8", "day of week", "8 is out of range 0-7"},
		// steps
		{"*/0 * * * *", "minute", `step 0 in "*/0" must be at least 1`},
		{"0 0 * * 1-5/0", "day of week", `step 0 in "1-5/0" must be at least 1`},
		{"*/60 * * * *", "minute", `step 60 in "*/60" is out of range 1-59`},
		{"0 */24 * * *", "hour", `step 24 in "*/24" is out of range 1-23`},
		{"*/x * * * *", "minute", `step "x" in "*/x" is not a number`},
		{"*/ * * * *", "minute", `step "" in "*/" is not a number`},
		{"*/2/3 * * * *", "minute", `step "2/3" in "*/2/3" is not a number`},
		// ranges
		{"5-2 * * * *", "minute", "range 5-2 is reversed"},
		{"0 0 * DEC-JAN *", "month", "range DEC-JAN is reversed"},
		{"0 0 * * FRI-MON", "day of week", "range FRI-MON is reversed"},
		{"1-2-3 * * * *", "minute", `"1-2-3" is not a value or a range`},
		{"-5 * * * *", "minute", `missing value in "-5"`},
		{"5- * * * *", "minute", `missing value in "5-"`},
		// names and other words
		{"0 0 * FOO *", "month", "unknown name FOO"},
		{"0 0 * * FOO", "day of week", "unknown name FOO"},
		{"0 0 * * JAN", "day of week", "unknown name JAN"},
		{"0 0 * MONDAY *", "month", "unknown name MONDAY"},
		{"abc * * * *", "minute", `"abc" is not a number`},
		{"0 0 L * *", "day of month", `"L" is not a number`},
		{"0 +1 * * *", "hour", `"+1" is not a number`},
		{"? * * * *", "minute", "? is only allowed in day of month and day of week"},
		{"0 0 * ? *", "month", "? is only allowed in day of month and day of week"},
		// lists
		{"1,,2 * * * *", "minute", `empty item in list "1,,2"`},
		{"1, * * * *", "minute", `empty item in list "1,"`},
		{"0 0 * * ,MON", "day of week", `empty item in list ",MON"`},
	}
	for _, tt := range tests {
		_, err := ParseCron(tt.expr)
		var ce *CronError
		if !errors.As(err, &ce) {
			t.Errorf("ParseCron(%q) = %v, want a *CronError", tt.expr, err)
			continue
		}
		if ce.Field != tt.field || ce.Message != tt.message {
			t.Errorf("ParseCron(%q) = {%q, %q}, want {%q, %q}", tt.expr, ce.Field, ce.Message, tt.field, tt.message)
		}
	}
}

func TestCronErrorString(t *testing.T) {
	t.Parallel()
	for expr, want := range map[string]string{
		"61 * * * *": "minute: 61 is out of range 0-59",
		"0 0 * * X":  "day of week: unknown name X",
		"1 2 3":      "expected 5 or 6 fields, got 3",
	} {
		if _, err := ParseCron(expr); err == nil || err.Error() != want {
			t.Errorf("ParseCron(%q) error %v, want %q", expr, err, want)
		}
	}
}

func TestParseCronValidEdgeCases(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{
		"0 0 30 2 MON",     // never on Feb 30, but every Monday (either day field)
		"0 0 29 2 *",       // leap days only
		"0 0 31 * *",       // months with 31 days
		"59 59 23 31 12 *", // the last second of the year
		"0 0 * * 7",
		strings.Repeat(" ", 191) + "* * * * *", // exactly MaxCronLength bytes
	} {
		if _, err := ParseCron(expr); err != nil {
			t.Errorf("ParseCron(%q): %v", expr, err)
		}
	}
}
