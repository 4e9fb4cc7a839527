package auth

import (
	"slices"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// TestLoginTiming checks that a login for an unknown email takes as long as
// one with a wrong password: over 30 interleaved attempts the medians differ
// by less than 20 %. It is not parallel, so other tests do not add noise.
func TestLoginTiming(t *testing.T) {
	f := setup(t, store.SQLite)
	_, err := f.svc.Register(t.Context(), RegisterParams{Email: "timed@example.com", Password: testPassword, Name: "Timed"}, testMeta)
	if err != nil {
		t.Fatal(err)
	}
	attempt := func(email string) time.Duration {
		start := time.Now()
		_, _, err := f.svc.Login(t.Context(), email, "not the password", testMeta)
		d := time.Since(start)
		wantCode(t, err, gathering.EUNAUTHORIZED)
		if err := f.st.LoginFailureReset(t.Context(), NormalizeEmail(email)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	attempt("timed@example.com") // warm up both paths
	attempt("warmup@example.com")
	var unknown, wrong []time.Duration
	for i := range 15 { // 30 attempts; which path goes first alternates
		if i%2 == 0 {
			unknown = append(unknown, attempt("ghost@example.com"))
			wrong = append(wrong, attempt("timed@example.com"))
		} else {
			wrong = append(wrong, attempt("timed@example.com"))
			unknown = append(unknown, attempt("ghost@example.com"))
		}
	}
	mu, mw := median(unknown), median(wrong)
	diff := float64(max(mu, mw)-min(mu, mw)) / float64(min(mu, mw))
	t.Logf("median unknown email %v, wrong password %v, difference %.1f %%", mu, mw, 100*diff)
	if diff >= 0.20 {
		t.Fatalf("medians differ by %.1f %%: unknown email %v, wrong password %v", 100*diff, mu, mw)
	}
}

// median returns the middle of ds.
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}
