package ratelimit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gathering/gathering/internal/ratelimit"
)

func ExampleParseRate() {
	r, err := ratelimit.ParseRate("5/min")
	fmt.Println(r.Count, r.Per, r, err)
	_, err = ratelimit.ParseRate("5/day")
	fmt.Println(err)
	// Output:
	// 5 1m0s 5/min <nil>
	// invalid rate "5/day": unknown unit "day": want s, min or h
}

func ExampleMemory() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := ratelimit.NewMemory(1000, func() time.Time { return now })
	r := ratelimit.Rate{Count: 5, Per: time.Minute}
	for range 6 {
		d, _ := m.Allow(context.Background(), "login:alice", r)
		fmt.Println(d.Allowed, d.Remaining, d.RetryAfter)
	}
	now = now.Add(12 * time.Second)
	d, _ := m.Allow(context.Background(), "login:alice", r)
	fmt.Println(d.Allowed, d.Remaining, d.RetryAfter)
	// Output:
	// true 4 0s
	// true 3 0s
	// true 2 0s
	// true 1 0s
	// true 0 0s
	// false 0 12s
	// true 0 0s
}
