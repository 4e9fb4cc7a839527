package llm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/gathering/gathering/internal/gathering"
)

// Defaults used for zero fields of [ResilienceOptions].
const (
	DefaultMaxAttempts      = 3
	DefaultInitialBackoff   = 500 * time.Millisecond
	DefaultMaxBackoff       = 30 * time.Second
	DefaultMaxRetryAfter    = 60 * time.Second
	DefaultMaxConcurrent    = 8
	DefaultFailureThreshold = 5
	DefaultOpenTimeout      = 30 * time.Second
)

// The states of a circuit breaker, as [BreakerReporter] and
// ResilienceOptions.OnStateChange name them.
const (
	BreakerClosed   = "closed"    // calls go through
	BreakerOpen     = "open"      // calls fail at once
	BreakerHalfOpen = "half-open" // one probe call goes through
)

// ErrCircuitOpen is matched (with errors.Is) by the error of a call that
// [Resilient] refused because the provider's circuit breaker is open.
var ErrCircuitOpen = errors.New("llm: circuit breaker open")

// ResilienceOptions tunes [Resilient]; zero fields take the defaults above.
type ResilienceOptions struct {
	// MaxAttempts counts the first call and its retries (default 3).
	MaxAttempts int
	// InitialBackoff is the wait before the first retry, doubled before
	// each next one up to MaxBackoff, give or take 20 % (defaults 500 ms
	// and 30 s).
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// MaxRetryAfter is the longest Retry-After worth waiting for (default
	// 60 s); a call asked to wait longer fails at once.
	MaxRetryAfter time.Duration
	// MaxConcurrent is how many calls may be in flight at once (default 8);
	// the others wait for a slot, or for their context to end.
	MaxConcurrent int
	// FailureThreshold is how many consecutive retryable failures open the
	// circuit breaker (default 5); refusals such as 400 or 401 do not count.
	FailureThreshold int
	// OpenTimeout is how long the open breaker refuses calls before letting
	// one probe through (default 30 s).
	OpenTimeout time.Duration
	// OnStateChange, if set, is called with each change of the breaker's
	// state (closed, open, half-open). It runs synchronously, in the call
	// that caused the change and under the breaker's lock, so it must be
	// quick and must not call the provider (BreakerState is fine). The
	// change from open to half-open is noticed by the first call after
	// OpenTimeout.
	OnStateChange func(provider, from, to string)
}

// withDefaults fills zero (and negative) fields.
func (o ResilienceOptions) withDefaults() ResilienceOptions {
	o.MaxAttempts = cmp.Or(max(o.MaxAttempts, 0), DefaultMaxAttempts)
	o.InitialBackoff = cmp.Or(max(o.InitialBackoff, 0), DefaultInitialBackoff)
	o.MaxBackoff = cmp.Or(max(o.MaxBackoff, 0), DefaultMaxBackoff)
	o.MaxRetryAfter = cmp.Or(max(o.MaxRetryAfter, 0), DefaultMaxRetryAfter)
	o.MaxConcurrent = cmp.Or(max(o.MaxConcurrent, 0), DefaultMaxConcurrent)
	o.FailureThreshold = cmp.Or(max(o.FailureThreshold, 0), DefaultFailureThreshold)
	o.OpenTimeout = cmp.Or(max(o.OpenTimeout, 0), DefaultOpenTimeout)
	return o
}

// BreakerReporter is implemented by providers that guard their calls with a
// circuit breaker, such as the one [Resilient] returns.
type BreakerReporter interface {
	// BreakerState returns BreakerClosed, BreakerOpen or BreakerHalfOpen.
	BreakerState() string
}

// Resilient wraps p so that every call gets retries with exponential backoff
// (honouring Retry-After), a concurrency limit and a circuit breaker, and
// fails with a *gathering.Error the API layer can answer with:
//
//   - breaker open: EUNAVAILABLE, with RetryAfter until the probe
//     (errors.Is ErrCircuitOpen);
//   - 429: ERATELIMITED, with the provider's Retry-After;
//   - 401 or 403: EUNAVAILABLE, the server's API key is wrong;
//   - 400, 404 or 422: EINVALID, with the provider's message;
//   - any other *Error: EUNAVAILABLE.
//
// The provider's *Error stays reachable with errors.As. Errors that are not
// an *Error (the emit func's, for one) and the end of the caller's context
// pass through unchanged. Only retryable failures (see Error.Retryable) are
// retried and count towards opening the breaker; a stream is retried only
// when it failed before emitting anything. The returned provider implements
// [BreakerReporter].
func Resilient(p Provider, o ResilienceOptions) Provider {
	r := &resilient{p: p, o: o.withDefaults(), state: BreakerClosed}
	r.slots = make(chan struct{}, r.o.MaxConcurrent)
	r.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:          p.Name(),
		MaxRequests:   1,
		Timeout:       r.o.OpenTimeout,
		ReadyToTrip:   func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= uint32(r.o.FailureThreshold) },
		IsExcluded:    func(err error) bool { return errors.Is(err, errNotCounted) },
		OnStateChange: r.changed,
	})
	return r
}

// errNotCounted tells the breaker to ignore a call: the caller gave up, or
// the failure is not the provider's.
var errNotCounted = errors.New("not counted")

// errRefused is an attempt the breaker did not let through.
var errRefused = errors.New("refused by the breaker")

// resilient implements Resilient.
type resilient struct {
	p     Provider
	o     ResilienceOptions
	slots chan struct{}
	cb    *gobreaker.TwoStepCircuitBreaker[struct{}]

	mu       sync.Mutex
	state    string
	openedAt time.Time
}

// Name implements Provider.
func (r *resilient) Name() string { return r.p.Name() }

// Chat implements Provider.
func (r *resilient) Chat(ctx context.Context, req Request) (Response, error) {
	var resp Response
	err := r.do(ctx, func(ctx context.Context) (err error) {
		resp, err = r.p.Chat(ctx, req)
		return err
	}, nil)
	if err != nil {
		return Response{}, err
	}
	return resp, nil
}

// Stream implements Provider.
func (r *resilient) Stream(ctx context.Context, req Request, emit func(Delta) error) (Response, error) {
	var resp Response
	var emitted atomic.Bool
	relay := func(d Delta) error {
		emitted.Store(true)
		return emit(d)
	}
	err := r.do(ctx, func(ctx context.Context) (err error) {
		resp, err = r.p.Stream(ctx, req, relay)
		return err
	}, func() bool { return !emitted.Load() })
	if err != nil {
		return Response{}, err
	}
	return resp, nil
}

// Embed implements Provider.
func (r *resilient) Embed(ctx context.Context, model string, inputs []string) ([][]float32, Usage, error) {
	var vecs [][]float32
	var usage Usage
	err := r.do(ctx, func(ctx context.Context) (err error) {
		vecs, usage, err = r.p.Embed(ctx, model, inputs)
		return err
	}, nil)
	if err != nil {
		return nil, Usage{}, err
	}
	return vecs, usage, nil
}

// BreakerState implements BreakerReporter.
func (r *resilient) BreakerState() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state == BreakerOpen && time.Since(r.openedAt) > r.o.OpenTimeout {
		return BreakerHalfOpen
	}
	return r.state
}

// do runs call until it succeeds or may not be retried; canRetry, when set,
// can veto a retry. A retry the open breaker would refuse is not waited for.
func (r *resilient) do(ctx context.Context, call func(context.Context) error, canRetry func() bool) error {
	var last error
	for attempt := 1; ; attempt++ {
		err := r.attempt(ctx, call)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errRefused):
			return r.refused(last)
		}
		last = err
		wait, ok := r.retryDelay(ctx, attempt, err)
		switch {
		case !ok || (canRetry != nil && !canRetry()):
			return r.final(ctx, err)
		case r.BreakerState() == BreakerOpen:
			return r.refused(last)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// attempt makes one call if the breaker lets it through and a slot is free,
// and reports its outcome to the breaker.
func (r *resilient) attempt(ctx context.Context, call func(context.Context) error) error {
	done, err := r.cb.Allow()
	if err != nil {
		return errRefused
	}
	err = r.limited(ctx, call)
	done(outcome(ctx, err))
	return err
}

// limited makes the call in one of the concurrency slots.
func (r *resilient) limited(ctx context.Context, call func(context.Context) error) error {
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-r.slots }()
	return call(ctx)
}

// outcome is what the breaker learns from a call: nil when the provider
// answered (even with a refusal such as 400), the error when it failed in a
// way worth retrying, errNotCounted when the caller gave up or the failure
// is not the provider's.
func outcome(ctx context.Context, err error) error {
	e, ok := errors.AsType[*Error](err)
	switch {
	case err == nil:
		return nil
	case !ok || ctx.Err() != nil:
		return errNotCounted
	case e.Retryable():
		return err
	}
	return nil
}

// retryDelay returns how long to wait before retrying after the attempt-th
// call failed with err, and whether to retry at all: not when the error is
// final, the attempts are used up, the provider asks for too long a wait,
// or the wait would outlast the caller's deadline.
func (r *resilient) retryDelay(ctx context.Context, attempt int, err error) (time.Duration, bool) {
	e, ok := errors.AsType[*Error](err)
	if !ok || !e.Retryable() || ctx.Err() != nil || attempt >= r.o.MaxAttempts || e.RetryAfter > r.o.MaxRetryAfter {
		return 0, false
	}
	wait := max(r.backoff(attempt), e.RetryAfter)
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
		return 0, false
	}
	return wait, true
}

// backoff returns the wait after the attempt-th failure: InitialBackoff
// doubled attempt-1 times, ±20 %, at most MaxBackoff.
func (r *resilient) backoff(attempt int) time.Duration {
	d := r.o.InitialBackoff
	for range attempt - 1 {
		d = min(2*d, r.o.MaxBackoff)
	}
	jittered := time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	return min(jittered, r.o.MaxBackoff)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// final returns the error a call ends with.
func (r *resilient) final(ctx context.Context, err error) error {
	e, ok := errors.AsType[*Error](err)
	if !ok || (ctx.Err() != nil && isContextError(err)) {
		return err
	}
	return r.translate(e, err)
}

// isContextError reports whether err is a context's cancellation or
// deadline.
func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// translate maps the provider's error e (found in err) to an application
// error.
func (r *resilient) translate(e *Error, err error) *gathering.Error {
	name := r.p.Name()
	g := &gathering.Error{Code: gathering.EUNAVAILABLE, Err: err, RetryAfter: e.RetryAfter}
	switch e.Status {
	case 429:
		g.Code, g.Message = gathering.ERATELIMITED, fmt.Sprintf("The provider %s is rate limiting calls; try again later.", name)
	case 401, 403:
		g.Message = fmt.Sprintf("The provider %s rejected the API key.", name)
	case 400, 404, 422:
		g.Code, g.Message = gathering.EINVALID, fmt.Sprintf("The provider %s refused the request: %s", name, e.Message)
	default:
		g.Message = fmt.Sprintf("The provider %s is unavailable: %s", name, e.Message)
	}
	return g
}

// refused is the error of a call the breaker did not let through; last is
// the failure of the call's previous attempt, if any.
func (r *resilient) refused(last error) *gathering.Error {
	wait := r.pause()
	cause := ErrCircuitOpen
	if last != nil {
		cause = fmt.Errorf("%w after: %w", ErrCircuitOpen, last)
	}
	secs := int((wait + time.Second - 1) / time.Second)
	return &gathering.Error{
		Code:       gathering.EUNAVAILABLE,
		Message:    fmt.Sprintf("The provider %s is failing; calls are paused for %d s.", r.p.Name(), secs),
		RetryAfter: wait,
		Err:        cause,
	}
}

// pause returns how long the breaker stays open; at least a second (a
// half-open breaker is busy with its probe).
func (r *resilient) pause() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	left := time.Duration(0)
	if r.state == BreakerOpen {
		left = time.Until(r.openedAt.Add(r.o.OpenTimeout))
	}
	return max(left, time.Second)
}

// changed follows the breaker's state and tells OnStateChange.
func (r *resilient) changed(name string, from, to gobreaker.State) {
	r.mu.Lock()
	r.state = to.String()
	if to == gobreaker.StateOpen {
		r.openedAt = time.Now()
	}
	r.mu.Unlock()
	if r.o.OnStateChange != nil {
		r.o.OnStateChange(name, from.String(), to.String())
	}
}
