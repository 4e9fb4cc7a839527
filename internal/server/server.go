// Package server runs GatheRing's HTTP server: the listener, slowloris-safe
// timeouts and the graceful shutdown sequence (readiness off, drain, wait for
// in-flight requests, then close).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Config holds the server's timeouts and shutdown settings.
type Config struct {
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// Drain is how long the listener keeps serving after shutdown begins,
	// with readiness already 503, so load balancers take the instance out.
	Drain time.Duration
	// ShutdownTimeout is how long in-flight requests then get to finish.
	ShutdownTimeout time.Duration
}

// maxHeaderBytes bounds request headers.
const maxHeaderBytes = 64 << 10

// Server serves one handler on one listener.
type Server struct {
	http          *http.Server
	ln            net.Listener
	cfg           Config
	log           *slog.Logger
	beginShutdown func()
}

// New returns a server for h on ln. beginShutdown is called the moment
// shutdown starts, before the drain delay (the API turns readiness off).
func New(ln net.Listener, h http.Handler, cfg Config, log *slog.Logger, beginShutdown func()) *Server {
	return &Server{
		http: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: cfg.ReadHeaderTimeout,
			ReadTimeout:       cfg.ReadTimeout,
			WriteTimeout:      cfg.WriteTimeout,
			IdleTimeout:       cfg.IdleTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		ln:            ln,
		cfg:           cfg,
		log:           log,
		beginShutdown: beginShutdown,
	}
}

// OnShutdown registers f to run when the server stops accepting and starts
// waiting for in-flight requests (after the drain): long-lived streams end
// there.
func (s *Server) OnShutdown(f func()) { s.http.RegisterOnShutdown(f) }

// ErrShutdownTimeout means in-flight requests were cut off at the deadline.
var ErrShutdownTimeout = errors.New("in-flight requests did not finish before the shutdown deadline")

// Run serves until ctx ends, then shuts down gracefully: readiness off, the
// drain delay, then no new connections while in-flight requests finish, up
// to the shutdown timeout. It returns nil after a clean shutdown,
// ErrShutdownTimeout when requests had to be cut off, or the listener's error
// if serving failed.
func (s *Server) Run(ctx context.Context) error {
	served := make(chan error, 1)
	go func() { served <- s.http.Serve(s.ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.beginShutdown()
	s.log.Info("shutting down: readiness is now 503", "drain", s.cfg.Drain.String(), "timeout", s.cfg.ShutdownTimeout.String())
	time.Sleep(s.cfg.Drain)

	stopCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.http.Shutdown(stopCtx)
	<-served // Serve returns ErrServerClosed once Shutdown starts
	if err != nil {
		s.http.Close()
		return ErrShutdownTimeout
	}
	s.log.Info("http server stopped: all in-flight requests finished")
	return nil
}
