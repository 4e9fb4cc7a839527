package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/llm"
)

// Stream implements llm.Provider.
func (c *client) Stream(ctx context.Context, req llm.Request, emit func(llm.Delta) error) (llm.Response, error) {
	ctx, w := c.watch(ctx)
	defer w.stop()
	resp, err := c.post(ctx, "/chat/completions", newChatRequest(req, true))
	if err != nil {
		return llm.Response{}, err
	}
	defer resp.Body.Close()
	s := &stream{c: c, emit: emit}
	if err := s.read(ctx, newSSEReader(w.reader(resp.Body))); err != nil {
		return llm.Response{}, err
	}
	return s.resp, nil
}

// stream assembles one streamed answer.
type stream struct {
	c         *client
	emit      func(llm.Delta) error
	resp      llm.Response
	text      strings.Builder
	calls     callAssembler
	finished  bool // a finish_reason arrived
	callsSent bool // the tool calls were emitted
}

// read consumes the events until [DONE] or the end of the stream.
func (s *stream) read(ctx context.Context, r *sseReader) error {
	for {
		data, err := r.next()
		switch {
		case errors.Is(err, io.EOF):
			return s.end(false)
		case err != nil:
			return s.c.networkError(ctx, "reading the stream failed", err)
		case string(data) == "[DONE]":
			return s.end(true)
		}
		if err := s.feed(data); err != nil {
			return err
		}
	}
}

// end completes the answer; a stream that stops before both [DONE] and a
// finish_reason broke off.
func (s *stream) end(done bool) error {
	if !done && !s.finished {
		return s.c.malformed("the stream ended before the answer was complete", nil)
	}
	s.resp.Content = s.text.String()
	return s.sendCalls()
}

// feed applies one chunk.
func (s *stream) feed(data []byte) error {
	var ch chatResponse
	if err := json.Unmarshal(data, &ch); err != nil {
		return s.c.malformed("a stream chunk is not valid JSON", err)
	}
	if len(ch.Error) > 0 && string(ch.Error) != "null" {
		return &llm.Error{Provider: s.c.name, Message: s.c.clean(errorMessage(data))}
	}
	if ch.Model != "" {
		s.resp.Model = ch.Model
	}
	if ch.Usage != nil {
		s.resp.Usage = ch.Usage.usage()
	}
	for _, choice := range ch.Choices {
		if err := s.choice(choice); err != nil {
			return err
		}
	}
	return nil
}

// choice applies the delta of the first choice (others are ignored).
func (s *stream) choice(ch wireChoice) error {
	if ch.Index != 0 {
		return nil
	}
	if text := deref(ch.Delta.Content); text != "" {
		s.text.WriteString(text)
		if err := s.emit(llm.Delta{Kind: llm.DeltaToken, Text: text}); err != nil {
			return err
		}
	}
	for _, tc := range ch.Delta.ToolCalls {
		s.calls.add(tc)
	}
	if ch.FinishReason == "" {
		return nil
	}
	s.resp.StopReason = ch.FinishReason
	s.finished = true
	return s.sendCalls()
}

// sendCalls emits the assembled tool calls, once.
func (s *stream) sendCalls() error {
	if s.callsSent {
		return nil
	}
	s.callsSent = true
	s.resp.ToolCalls = s.calls.done()
	for _, tc := range s.resp.ToolCalls {
		if err := s.emit(llm.Delta{Kind: llm.DeltaToolCall, ToolCall: tc}); err != nil {
			return err
		}
	}
	return nil
}

// watchdog cancels a stream when no data arrived for the client's timeout.
type watchdog struct {
	timer  *time.Timer
	d      time.Duration
	cancel context.CancelCauseFunc
}

// watch returns ctx with a watchdog armed for c.timeout.
func (c *client) watch(ctx context.Context) (context.Context, *watchdog) {
	ctx, cancel := context.WithCancelCause(ctx)
	stalled := fmt.Errorf("no data for %v: %w", c.timeout, context.DeadlineExceeded)
	w := &watchdog{d: c.timeout, cancel: cancel}
	w.timer = time.AfterFunc(c.timeout, func() { cancel(stalled) })
	return ctx, w
}

// reader returns r rearming the watchdog whenever data arrives.
func (w *watchdog) reader(r io.Reader) io.Reader { return &watchedReader{r: r, w: w} }

// stop disarms the watchdog and releases its context.
func (w *watchdog) stop() {
	w.timer.Stop()
	w.cancel(nil)
}

// watchedReader is a reader that feeds a watchdog.
type watchedReader struct {
	r io.Reader
	w *watchdog
}

// Read implements io.Reader.
func (r *watchedReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.w.timer.Reset(r.w.d)
	}
	return n, err
}
