package circle_test

import (
	"log/slog"
	"testing"
)

// testWriter writes a service's log lines to its test's log, shown when
// the test fails.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// testLogger logs to t from the Info level up. The services that use it
// must stop before t ends, as the rig's do.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
