package engine

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/llm"
	"github.com/gathering/gathering/internal/pipeline"
)

// backoff returns the wait before the attempt after attempt (1 for the
// first): initial × multiplier^(attempt-1), capped at max, spread by ±
// jitter with r in [0, 1).
func backoff(p pipeline.RetryPolicy, attempt int, r float64) time.Duration {
	d := p.InitialSeconds * math.Pow(p.Multiplier, float64(attempt-1))
	d = min(d, p.MaxSeconds)
	d *= 1 + p.Jitter*(2*r-1)
	return time.Duration(d * float64(time.Second))
}

// permanentError marks an error no retry can fix, whatever its code.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// permanent marks err as not retryable.
func permanent(err error) error { return permanentError{err} }

// retryable reports whether a failed attempt may succeed when repeated:
// network failures, timeouts, rate limits and 5xx answers (from a tool or a
// provider). Invalid input, refused permissions, missing resources and
// errors marked permanent are not.
func retryable(err error) bool {
	if errors.As(err, new(permanentError)) {
		return false
	}
	if le, ok := errors.AsType[*llm.Error](err); ok {
		return le.Retryable()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	switch gathering.ErrorCode(err) {
	case gathering.EUNAVAILABLE, gathering.ETIMEOUT, gathering.ERATELIMITED:
		return true
	}
	return false
}
