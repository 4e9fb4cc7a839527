package schedule

import (
	"testing"
	"time"
)

func BenchmarkNext(b *testing.B) {
	after := time.Date(2026, 6, 15, 10, 17, 23, 0, time.UTC)
	for _, zoneName := range []string{"UTC", "America/New_York"} {
		loc := zone(b, zoneName)
		for _, expr := range []string{"*/5 * * * *", "0 9 * * MON-FRI", "0 0 29 2 *"} {
			c := mustCron(b, expr)
			b.Run(zoneName+"/"+expr, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, ok := c.Next(after, loc); !ok {
						b.Fatal("no firing")
					}
				}
			})
		}
	}
}

// BenchmarkNextChain follows a week of "*/5 * * * *" in New York, each call
// starting from the previous firing, as a scheduler does.
func BenchmarkNextChain(b *testing.B) {
	loc := zone(b, "America/New_York")
	c := mustCron(b, "*/5 * * * *")
	start := time.Date(2026, 3, 5, 0, 0, 0, 0, loc)
	b.ReportAllocs()
	for b.Loop() {
		t := start
		for range 7 * 24 * 12 {
			t, _ = c.Next(t, loc)
		}
	}
}

func BenchmarkParseCron(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCron("0 9 * * MON-FRI"); err != nil {
			b.Fatal(err)
		}
	}
}
