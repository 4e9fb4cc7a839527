package ratelimit

import (
	"strconv"
	"testing"
	"time"
)

// benchRate never runs out during a benchmark, so every call takes the
// allowed path (the one that writes).
var benchRate = Rate{1_000_000, time.Second}

func BenchmarkMemoryAllow(b *testing.B) {
	m := NewMemory(0, nil)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Allow(ctx, "k", benchRate); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryAllowParallelKeys(b *testing.B) {
	m := NewMemory(0, nil)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "user:" + strconv.Itoa(i)
	}
	ctx := b.Context()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			m.Allow(ctx, keys[i%len(keys)], benchRate)
		}
	})
}

func BenchmarkRedisAllow(b *testing.B) {
	opts, prefix := setupRedis(b)
	l := NewRedis(newRedisClient(b, opts), prefix)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Allow(ctx, "k", benchRate); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRedisAllowParallel(b *testing.B) {
	opts, prefix := setupRedis(b)
	l := NewRedis(newRedisClient(b, opts), prefix)
	ctx := b.Context()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Allow(ctx, "k", benchRate); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
