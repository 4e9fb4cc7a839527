package startstop

import (
	"context"
	"errors"
	"slices"
	"testing"
)

type recorder struct {
	name     string
	log      *[]string
	startErr error
}

func (r recorder) Start(context.Context) error {
	*r.log = append(*r.log, "start "+r.name)
	return r.startErr
}

func (r recorder) Stop(context.Context) error {
	*r.log = append(*r.log, "stop "+r.name)
	return nil
}

func TestStartInOrderStopInReverse(t *testing.T) {
	var log []string
	g := NewGroup(Named{"a", recorder{"a", &log, nil}}, Named{"b", recorder{"b", &log, nil}})
	if err := g.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := g.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := g.Stop(t.Context()); err != nil { // a second Stop is a no-op
		t.Fatal(err)
	}
	want := []string{"start a", "start b", "stop b", "stop a"}
	if !slices.Equal(log, want) {
		t.Fatalf("got %v, want %v", log, want)
	}
}

func TestFailedStartStopsThoseStarted(t *testing.T) {
	var log []string
	boom := errors.New("boom")
	g := NewGroup(Named{"a", recorder{"a", &log, nil}}, Named{"b", recorder{"b", &log, boom}}, Named{"c", recorder{"c", &log, nil}})
	if err := g.Start(t.Context()); !errors.Is(err, boom) {
		t.Fatalf("want boom, got %v", err)
	}
	want := []string{"start a", "start b", "stop a"}
	if !slices.Equal(log, want) {
		t.Fatalf("got %v, want %v", log, want)
	}
}
