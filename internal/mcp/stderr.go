package mcp

import (
	"bytes"
	"log/slog"
)

// maxLine bounds one logged line of a command server's standard error.
const maxLine = 4096

// lineLogger logs what a command server writes on its standard error, one
// record per line. exec's copying goroutine is its only writer.
type lineLogger struct {
	log *slog.Logger
	buf []byte
}

// Write implements io.Writer; it never fails.
func (w *lineLogger) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) >= maxLine {
		w.emit(w.buf)
		w.buf = nil
	}
	return len(p), nil
}

// emit logs one line, without its trailing carriage return.
func (w *lineLogger) emit(line []byte) {
	if line = bytes.TrimRight(line, "\r"); len(line) > 0 {
		w.log.Info("mcp: server stderr", "line", truncate(string(line), maxLine))
	}
}
