package event

import (
	"math"
	"testing"
	"time"
)

func TestIDGeneratorCarries(t *testing.T) {
	t.Parallel()
	g := &idGenerator{ms: 5, hi: math.MaxUint16, lo: math.MaxUint64}
	before := encodeID(5<<16|math.MaxUint16, math.MaxUint64)
	after := g.next(time.UnixMilli(5))
	if after <= before || g.ms != 6 || g.hi != 0 || g.lo != 0 {
		t.Fatalf("after %s: ms %d hi %d lo %d", before, g.ms, g.hi, g.lo)
	}
}

func TestIDGeneratorFollowsTheClock(t *testing.T) {
	t.Parallel()
	g := &idGenerator{}
	now := time.Date(2026, 5, 1, 12, 0, 0, 123e6, time.UTC)
	id := g.next(now)
	if g.ms != uint64(now.UnixMilli()) || id[:10] != encodeID(0, g.ms)[16:] {
		t.Fatalf("id %s does not carry %d", id, now.UnixMilli())
	}
	if back := g.next(now.Add(-time.Minute)); back <= id {
		t.Fatalf("clock stepped back: %s after %s", back, id)
	}
}
