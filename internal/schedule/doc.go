// Package schedule computes when scheduled actions fire. It is pure: no I/O,
// no goroutines and no clock of its own; every function takes the times it
// needs.
//
// # Cron expressions
//
// [ParseCron] reads the classic five fields "minute hour day-of-month month
// day-of-week", six with a leading seconds field, and the macros @yearly,
// @annually, @monthly, @weekly, @daily, @midnight and @hourly. When both day
// fields restrict the day (neither is "*" or "?"), a day matches if either
// matches, as in Vixie cron: "0 0 1 * MON" fires on the first of the month
// and on every Monday. Otherwise both must match.
//
// # Daylight-saving time
//
// [Cron.Next] reads an expression on the wall clock of a time zone. Where
// the zone's offset changes, two rules apply:
//
//   - Skipped wall times (spring forward): a matching wall time that does not
//     exist that day fires once, at the instant the clock jumps, which is the
//     first instant after the gap. In New York on 2026-03-08 the clock jumps
//     from 02:00 EST to 03:00 EDT, so "30 2 * * *" fires at 03:00 EDT that
//     day (and at 02:30 the next). Several skipped wall times, or a skipped
//     one and a real firing at the jump, still give one firing: Next returns
//     instants, and an instant fires once.
//   - Repeated wall times (fall back): a matching wall time that occurs twice
//     fires at its first occurrence only, so "30 1 * * *" fires at 01:30 EDT
//     on 2026-11-01 in New York and not at 01:30 EST an hour later. The
//     exception, as in Vixie cron, is an expression whose hour field covers
//     all 24 hours ("*", "*/1", "0-23"): it measures elapsed time rather than
//     naming a time of day, so it fires in both passes. "*/30 * * * *" fires
//     at 01:00 EDT, 01:30 EDT, 01:00 EST and 01:30 EST.
//
// The rules hold for any shift, such as Lord Howe Island's 30 minutes, and
// for changes at midnight, where a day's first hour may not exist. Results
// are strictly increasing when each Next starts from the previous result.
//
// # Schedules
//
// A [Spec] is a schedule as an action stores it: cron (in a time zone),
// interval, once or event, bounded by optional start and end dates.
// [Spec.Validate] lists every problem by API field name; [Spec.Compile]
// returns a [Schedule], whose [Schedule.Next], [Schedule.First] and
// [Schedule.Between] give its firings and [Preview] the next few.
//
// # Catching up
//
// When a scheduler finds an action whose next_run_at passed while no
// scheduler ran it, [Schedule.Missed] decides what to run:
//
//   - every firing from the stored next_run_at up to and including now is
//     due, but a firing older than now minus the action's window never runs;
//   - "skip" runs none of them, "run_once" the most recent, "run_all" all of
//     them, oldest first, keeping only the newest Max when there are more;
//   - the new next_run_at is the first firing after now, on the schedule's
//     own grid (an interval keeps its phase).
//
// How late counts as missed, and what to do when a run overlaps the
// previous one, are the scheduler's decisions, not this package's.
package schedule
