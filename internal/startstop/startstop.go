// Package startstop is the lifecycle contract of GatheRing's background
// components: each has Start and Stop, they start in order and stop in
// reverse, and whoever starts a component owns stopping it.
package startstop

import (
	"context"
	"errors"
	"fmt"
)

// Service is a background component. Start launches its goroutines and
// returns once it is running; Stop asks them to finish and waits for them,
// giving up when ctx ends.
type Service interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Named is a Service with a name for logs and errors.
type Named struct {
	Name string
	Service
}

// Group starts services in order and stops them in reverse order.
type Group struct {
	services []Named
	started  int
}

// NewGroup returns a group of services, in start order.
func NewGroup(services ...Named) *Group { return &Group{services: services} }

// Start starts every service in order. When one fails, those already started
// are stopped in reverse and the failure is returned.
func (g *Group) Start(ctx context.Context) error {
	for _, s := range g.services {
		if err := s.Start(ctx); err != nil {
			return errors.Join(fmt.Errorf("start %s: %w", s.Name, err), g.Stop(ctx))
		}
		g.started++
	}
	return nil
}

// Stop stops the started services in reverse order, all of them even when
// some fail, and returns every failure.
func (g *Group) Stop(ctx context.Context) error {
	var errs []error
	for ; g.started > 0; g.started-- {
		s := g.services[g.started-1]
		if err := s.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", s.Name, err))
		}
	}
	return errors.Join(errs...)
}
