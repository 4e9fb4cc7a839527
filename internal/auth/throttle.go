package auth

import (
	"context"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// Login throttling: after throttleAfter consecutive failures for one
// normalised email, attempts must wait throttleBase since the last failure,
// doubling with every further failure up to throttleMax.
const (
	throttleAfter = 5
	throttleBase  = time.Minute
	throttleMax   = 15 * time.Minute
)

// throttleDelay is how long after the last failure the next attempt must
// wait, given the number of consecutive failures.
func throttleDelay(failures int) time.Duration {
	if failures < throttleAfter {
		return 0
	}
	d := throttleBase
	for i := throttleAfter; i < failures && d < throttleMax; i++ {
		d *= 2
	}
	return min(d, throttleMax)
}

// checkThrottle returns a rate-limited error when key must still wait.
func (s *Service) checkThrottle(ctx context.Context, key string) error {
	n, last, err := s.st.LoginFailureCount(ctx, key)
	if err != nil {
		return err
	}
	wait := last.Add(throttleDelay(n)).Sub(s.now())
	if n < throttleAfter || wait <= 0 {
		return nil
	}
	return &gathering.Error{
		Code:       gathering.ERATELIMITED,
		Message:    "Too many failed login attempts; try again later",
		RetryAfter: (wait + time.Second - 1).Truncate(time.Second), // whole seconds, rounded up
	}
}
