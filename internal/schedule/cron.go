package schedule

import (
	"fmt"
	"strings"
	"time"
)

// MaxCronLength is the longest cron expression ParseCron accepts, in bytes.
const MaxCronLength = 200

// Cron is a parsed cron expression. Its zero value matches nothing; build one
// with ParseCron. A Cron is immutable and safe for concurrent use.
type Cron struct {
	second, minute, hour, dom, month, dow set
	// domStar and dowStar record a day field written as "*" or "?": it does
	// not restrict the day, so the other day field alone decides.
	domStar, dowStar bool
	// everyHour records an hour field that covers all 24 hours, which makes
	// the expression fire in both passes of a repeated (fall-back) hour.
	everyHour bool
}

// CronError is the error ParseCron returns: the field at fault, by name
// ("second", "minute", "hour", "day of month", "month", "day of week"), or ""
// when the expression as a whole is wrong, and what is wrong with it.
type CronError struct {
	Field   string // the field's name, or "" for the whole expression
	Message string // what is wrong, naming the offending token
}

// Error reads "minute: 61 is out of range 0-59", or only the message when
// no single field is at fault.
func (e *CronError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// macros maps each supported macro to the expression it stands for.
var macros = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// neverFiresFrom is where ParseCron starts looking for a first firing: any
// expression that fires at all does so within the search window of Next
// (nine calendar years, which hold at least two February 29ths).
var neverFiresFrom = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ParseCron parses a cron expression: five fields "minute hour
// day-of-month month day-of-week", six with a leading seconds field, or one
// of the macros @yearly, @annually, @monthly, @weekly, @daily, @midnight and
// @hourly. Fields are separated by any run of spaces and tabs. Each field is
// a comma-separated list of items: "*", a number or name, a range "a-b", and
// any of those with a step "/n" ("a/n" runs from a to the field's maximum).
// "?" means "*" in the day fields. Months and weekdays take three-letter
// English names in any case; day of week runs 0-7, where 0 and 7 are Sunday
// (a range may end on SUN, as in FRI-SUN).
//
// An expression that can never fire, such as "0 0 30 2 *", is an error:
// ParseCron asks Next for a firing after 2000-01-01 UTC, and Next searches
// nine calendar years, which hold every day of every month at least once.
// Every error is a *CronError.
func ParseCron(expr string) (*Cron, error) {
	if err := checkText(expr); err != nil {
		return nil, err
	}
	parts := strings.Fields(expr)
	if len(parts) == 0 {
		return nil, &CronError{Message: "the expression is empty"}
	}
	if strings.HasPrefix(parts[0], "@") {
		return parseMacro(parts)
	}
	c, err := parseFields(parts)
	if err != nil {
		return nil, err
	}
	if _, ok := c.Next(neverFiresFrom, time.UTC); !ok {
		return nil, &CronError{Message: "the expression never fires: no date matches its day and month fields"}
	}
	return c, nil
}

// checkText bounds the expression's length and refuses control characters
// other than tab.
func checkText(expr string) error {
	if len(expr) > MaxCronLength {
		return &CronError{Message: fmt.Sprintf("the expression is %d bytes long; the limit is %d", len(expr), MaxCronLength)}
	}
	for i := range len(expr) {
		if b := expr[i]; (b < 0x20 && b != '\t') || b == 0x7f {
			return &CronError{Message: fmt.Sprintf("control character 0x%02x at byte %d", b, i+1)}
		}
	}
	return nil
}

// parseMacro expands a macro such as @daily.
func parseMacro(parts []string) (*Cron, error) {
	expr, ok := macros[strings.ToLower(parts[0])]
	if !ok {
		return nil, &CronError{Message: "unknown macro " + parts[0]}
	}
	if len(parts) > 1 {
		return nil, &CronError{Message: fmt.Sprintf("macro %s takes no fields, got %d more", parts[0], len(parts)-1)}
	}
	return parseFields(strings.Fields(expr))
}

// parseFields parses five or six fields; five get second 0.
func parseFields(parts []string) (*Cron, error) {
	switch len(parts) {
	case 5:
		parts = append([]string{"0"}, parts...)
	case 6:
	default:
		return nil, &CronError{Message: fmt.Sprintf("expected 5 or 6 fields, got %d", len(parts))}
	}
	var sets [6]set
	for i, text := range parts {
		s, err := fields[i].parse(text)
		if err != nil {
			return nil, &CronError{Field: fields[i].name, Message: err.Error()}
		}
		sets[i] = s
	}
	return &Cron{
		second: sets[0], minute: sets[1], hour: sets[2],
		dom: sets[3], month: sets[4], dow: sets[5].foldSunday(),
		domStar:   isStar(parts[3]),
		dowStar:   isStar(parts[5]),
		everyHour: sets[2] == span(0, 23, 1),
	}, nil
}

// isStar reports whether a day field leaves the day unrestricted.
func isStar(text string) bool { return text == "*" || text == "?" }
