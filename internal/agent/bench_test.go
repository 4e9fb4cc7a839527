package agent_test

import (
	"slices"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/agent"
	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/llm/openai"
	"github.com/gathering/gathering/internal/llm/openai/openaitest"
	"github.com/gathering/gathering/internal/store"
)

// benchWorld is a world whose fake provider answers every call at once.
func benchWorld(b *testing.B) (*world, *openaitest.Server) {
	w := newWorld(b, agent.Options{})
	fake := openaitest.New(b)
	fake.SetFallback(openaitest.Reply{Content: "An instant answer of a few words.", Usage: llm.Usage{InputTokens: 200, OutputTokens: 8}, Chunks: 4})
	w.fakeProvider(b, store.KindOpenAI, fake.URL)
	return w, fake
}

// BenchmarkChatTurn is a whole turn on SQLite: load, session, context,
// one provider call over loopback, usage and history writes.
func BenchmarkChatTurn(b *testing.B) {
	w, _ := benchWorld(b)
	took := make([]time.Duration, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if _, err := w.svc.Chat(b.Context(), agent.ChatRequest{AgentID: w.agentID, UserID: 1, Message: "Hello"}); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	reportPercentiles(b, took)
}

// BenchmarkProviderCall is the provider call alone against the same fake
// server: subtracted from BenchmarkChatTurn, it leaves the turn's own cost.
func BenchmarkProviderCall(b *testing.B) {
	_, fake := benchWorld(b)
	p := openai.New(openai.Config{BaseURL: fake.URL})
	req := llm.Request{Model: "fake-1", Messages: []llm.Message{{Role: llm.RoleUser, Content: "Hello"}}}
	took := make([]time.Duration, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if _, err := p.Chat(b.Context(), req); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	reportPercentiles(b, took)
}

// BenchmarkFirstToken is the time from asking for a streamed turn to its
// first token, beside the same for a bare provider stream.
func BenchmarkFirstToken(b *testing.B) {
	w, fake := benchWorld(b)
	b.Run("turn", func(b *testing.B) {
		took := make([]time.Duration, 0, 1024)
		for b.Loop() {
			start, first := time.Now(), time.Duration(0)
			_, err := w.svc.Chat(b.Context(), agent.ChatRequest{AgentID: w.agentID, UserID: 1, Message: "Hello", Emit: func(f agent.Frame) error {
				if f.Type == "token" && first == 0 {
					first = time.Since(start)
				}
				return nil
			}})
			if err != nil {
				b.Fatal(err)
			}
			took = append(took, first)
		}
		reportPercentiles(b, took)
	})
	b.Run("provider", func(b *testing.B) {
		p := openai.New(openai.Config{BaseURL: fake.URL})
		req := llm.Request{Model: "fake-1", Messages: []llm.Message{{Role: llm.RoleUser, Content: "Hello"}}}
		took := make([]time.Duration, 0, 1024)
		for b.Loop() {
			start, first := time.Now(), time.Duration(0)
			_, err := p.Stream(b.Context(), req, func(d llm.Delta) error {
				if first == 0 {
					first = time.Since(start)
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			took = append(took, first)
		}
		reportPercentiles(b, took)
	})
}

func reportPercentiles(b *testing.B, took []time.Duration) {
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	at := func(p float64) float64 { return float64(took[int(p*float64(len(took)-1))].Microseconds()) }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}
