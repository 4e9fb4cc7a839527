package conversation_test

import (
	"testing"
	"time"

	"github.com/gathering/gathering/internal/conversation"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/store"
	"github.com/gathering/gathering/internal/store/storetest"
)

// BenchmarkTurn runs conversations of up to 50 turns against a fake
// provider that answers at once, and reports, per turn: the time inside
// the provider calls (wire), inside the agents' chat turns (chat: the
// provider call and the agent service's own work), and outside them — the
// runner's overhead (claiming, reading the transcript, building the
// prompt, recording the turn, publishing it) and the overhead excluding
// only the provider (runner and agent service).
func BenchmarkTurn(b *testing.B) {
	for _, backend := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(backend.name, func(b *testing.B) { benchTurns(b, backend.open(b)) })
	}
}

func benchTurns(b *testing.B, db store.Store) {
	r := newRig(b, db)
	r.fake.SetFallback(openaitest.Reply{Content: "Noted, @Bob."})
	svc := r.service(b, "bench", conversation.Options{})
	sub := r.subscribe(b)
	r.chat.spent.Store(0)
	r.wire.spent.Store(0)
	began := time.Now()
	b.ResetTimer()
	for left := b.N; left > 0; left -= conversation.MaxTurns {
		c := r.begin(b, svc, store.RoundRobin, min(left, conversation.MaxTurns))
		eventsUntil(b, sub, c.ID, "conversation.completed")
	}
	b.StopTimer()
	elapsed, chat, wire := time.Since(began), time.Duration(r.chat.spent.Load()), time.Duration(r.wire.spent.Load())
	perTurn := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
	b.ReportMetric(perTurn(wire), "wire-ns/turn")
	b.ReportMetric(perTurn(chat), "chat-ns/turn")
	b.ReportMetric(perTurn(elapsed-chat), "runner-ns/turn")
	b.ReportMetric(perTurn(elapsed-wire), "no-provider-ns/turn")
}
