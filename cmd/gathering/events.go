package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gathering/gathering/internal/auth"
	"github.com/gathering/gathering/internal/config"
	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/event/pgbridge"
	"github.com/gathering/gathering/internal/startstop"
)

// newBus builds the event bus and, on PostgreSQL, the bridge that carries
// its events to the other instances. It returns the components to start,
// in order.
func newBus(cfg *config.Config, reg prometheus.Registerer, log *slog.Logger) (*event.Bus, []startstop.Named, error) {
	batch, err := config.ParseWindows(cfg.EventBatchWindows)
	if err != nil {
		return nil, nil, err
	}
	dedup, err := config.ParseWindows(cfg.EventDedupWindows)
	if err != nil {
		return nil, nil, err
	}
	defaultDedup := dedup["*"]
	delete(dedup, "*")
	bus := event.NewBus(event.Config{RingSize: cfg.EventRing, BatchWindows: batch, DedupWindows: dedup, DefaultDedup: defaultDedup, Registerer: reg})
	components := []startstop.Named{{Name: "event bus", Service: bus}}
	if cfg.DatabaseURL != "" {
		bridge := pgbridge.New(pgbridge.Config{URL: cfg.DatabaseURL, Log: log}, bus)
		bus.SetTransport(bridge)
		components = append(components, startstop.Named{Name: "event bridge", Service: bridge})
	}
	return bus, components, nil
}

// announceTo publishes the identity service's account events on the bus.
func announceTo(bus *event.Bus, log *slog.Logger) auth.Announcer {
	return func(ctx context.Context, eventType string, topics []string, data map[string]any) {
		publish(ctx, bus, log, event.Event{Type: eventType, Topics: topics, Actor: actor(data), Data: mustJSON(data)})
	}
}

func actor(data map[string]any) string {
	if id, ok := data["actor_id"].(int64); ok && id != 0 {
		return "user:" + strconv.FormatInt(id, 10)
	}
	return ""
}

// publishSystem announces a lifecycle step of this instance (system.*).
func publishSystem(bus *event.Bus, log *slog.Logger, step string) {
	data := map[string]any{"instance": bus.Instance(), "at": time.Now().UTC()}
	publish(context.Background(), bus, log, event.Event{Type: "system." + step, Topics: []string{"system"}, Data: mustJSON(data)})
}

func publish(ctx context.Context, bus *event.Bus, log *slog.Logger, e event.Event) {
	if _, err := bus.Publish(context.WithoutCancel(ctx), e); err != nil {
		log.WarnContext(ctx, "event not published", "type", e.Type, "error", err)
	}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of plain values are published here
	}
	return b
}
