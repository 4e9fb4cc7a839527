package schedule_test

import (
	"fmt"
	"time"

	"github.com/gathering/gathering/internal/schedule"
)

func ExampleParseCron() {
	for _, expr := range []string{"0 9 * * MON-FRI", "61 * * * *", "0 0 * * FOO", "*/0 * * * *", "0 0 30 2 *", "@every 5m"} {
		if _, err := schedule.ParseCron(expr); err != nil {
			fmt.Printf("%s: %v\n", expr, err)
			continue
		}
		fmt.Printf("%s: ok\n", expr)
	}
	// Output:
	// 0 9 * * MON-FRI: ok
	// 61 * * * *: minute: 61 is out of range 0-59
	// 0 0 * * FOO: day of week: unknown name FOO
	// */0 * * * *: minute: step 0 in "*/0" must be at least 1
	// 0 0 30 2 *: the expression never fires: no date matches its day and month fields
	// @every 5m: unknown macro @every
}

func ExampleCron_Next() {
	ny, _ := time.LoadLocation("America/New_York")
	show := func(expr string, after time.Time, n int) {
		c, _ := schedule.ParseCron(expr)
		fmt.Print(expr, ":")
		for range n {
			after, _ = c.Next(after, ny)
			fmt.Print(" ", after.Format("01-02 15:04 MST"))
		}
		fmt.Println()
	}
	// 02:30 does not exist on 2026-03-08: it fires when the clock jumps.
	show("30 2 * * *", time.Date(2026, 3, 7, 12, 0, 0, 0, ny), 2)
	// 01:30 happens twice on 2026-11-01: it fires the first time only...
	show("30 1 * * *", time.Date(2026, 10, 31, 12, 0, 0, 0, ny), 2)
	// ...unless the expression runs every hour.
	show("*/30 * * * *", time.Date(2026, 11, 1, 0, 45, 0, 0, ny), 4)
	// Output:
	// 30 2 * * *: 03-08 03:00 EDT 03-09 02:30 EDT
	// 30 1 * * *: 11-01 01:30 EDT 11-02 01:30 EST
	// */30 * * * *: 11-01 01:00 EDT 11-01 01:30 EDT 11-01 01:00 EST 11-01 01:30 EST
}

func ExamplePreview() {
	spec := schedule.Spec{Type: schedule.TypeCron, Cron: "0 9 * * MON-FRI", TimeZone: "Europe/Paris"}
	times, err := schedule.Preview(spec, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 3)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range times {
		fmt.Println(t.Format(time.RFC3339))
	}
	// Output:
	// 2026-01-01T09:00:00+01:00
	// 2026-01-02T09:00:00+01:00
	// 2026-01-05T09:00:00+01:00
}

func ExampleSpec_Validate() {
	spec := schedule.Spec{Type: schedule.TypeCron, Cron: "0 25 * * *", TimeZone: "Mars/Base"}
	for _, p := range spec.Validate() {
		fmt.Printf("%s: %s\n", p.Field, p.Message)
	}
	// Output:
	// timezone: unknown time zone "Mars/Base"
	// cron_expression: hour: 25 is out of range 0-23
}

func ExampleSchedule_Missed() {
	sch, _ := schedule.Spec{Type: schedule.TypeCron, Cron: "0 * * * *"}.Compile()
	// The action was due at 10:00; the scheduler comes back at 15:30.
	nextRun := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	now := time.Date(2026, 1, 5, 15, 30, 0, 0, time.UTC)
	for _, policy := range []string{schedule.CatchUpSkip, schedule.CatchUpRunOnce, schedule.CatchUpRunAll} {
		run, next, _ := sch.Missed(nextRun, now, schedule.CatchUp{Policy: policy, Window: 3 * time.Hour, Max: 2})
		fmt.Print(policy, ":")
		for _, t := range run {
			fmt.Print(" ", t.Format("15:04"))
		}
		fmt.Println(" then", next.Format("15:04"))
	}
	// Output:
	// skip: then 16:00
	// run_once: 15:00 then 16:00
	// run_all: 14:00 15:00 then 16:00
}
