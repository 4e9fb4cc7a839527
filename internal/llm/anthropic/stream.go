package anthropic

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"

	"github.com/gathering/gathering/internal/llm"
)

// maxEventLine is the longest line of a stream.
const maxEventLine = 8 << 20

// stream assembles a streamed answer.
type stream struct {
	c     *client
	ctx   context.Context
	emit  func(llm.Delta) error
	text  strings.Builder
	tools map[int]*toolBlock // open tool_use blocks by index
	resp  llm.Response       // Model, StopReason and ToolCalls so far
	usage wireUsage
	done  bool // message_stop arrived
}

// toolBlock is a tool_use block being streamed.
type toolBlock struct {
	id, name string
	start    json.RawMessage // the input of content_block_start
	input    strings.Builder // the partial_json pieces
}

// streamEvent is the data of one server-sent event; each type fills some
// of the fields.
type streamEvent struct {
	Type         string       `json:"type"`
	Message      wireResponse `json:"message"`
	Index        int          `json:"index"`
	ContentBlock respBlock    `json:"content_block"`
	Delta        struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
		StopReason  string `json:"stop_reason"`
	} `json:"delta"`
	Usage deltaUsage `json:"usage"`
	Error errorBody  `json:"error"`
}

// deltaUsage is the usage of message_delta: the counts it carries replace
// those of message_start.
type deltaUsage struct {
	InputTokens              *int `json:"input_tokens"`
	OutputTokens             *int `json:"output_tokens"`
	CacheReadInputTokens     *int `json:"cache_read_input_tokens"`
	CacheCreationInputTokens *int `json:"cache_creation_input_tokens"`
}

// read reads the events of r until message_stop. The event names are not
// needed: each data object carries its type.
func (s *stream) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventLine)
	var data []byte
	for !s.done && sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			err := s.dispatch(data)
			data = data[:0]
			if err != nil {
				return err
			}
		} else if rest, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			data = appendData(data, rest)
		}
	}
	switch {
	case s.done:
		return nil
	case sc.Err() != nil:
		return s.c.netError(s.ctx, "reading the stream failed", sc.Err())
	}
	return s.c.netError(s.ctx, "the stream ended before message_stop", io.ErrUnexpectedEOF)
}

// appendData adds the value of one data line to an event's data.
func appendData(data, value []byte) []byte {
	if len(data) > 0 {
		data = append(data, '\n')
	}
	return append(data, bytes.TrimPrefix(value, []byte(" "))...)
}

// dispatch handles the data of one event.
func (s *stream) dispatch(data []byte) error {
	if len(data) == 0 {
		return nil
	}
	var ev streamEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return s.c.netError(s.ctx, "malformed stream event", err)
	}
	switch ev.Type {
	case "message_start":
		s.resp.Model, s.usage = ev.Message.Model, ev.Message.Usage
	case "content_block_start":
		return s.start(ev.Index, ev.ContentBlock)
	case "content_block_delta":
		return s.delta(ev)
	case "content_block_stop":
		return s.stop(ev.Index)
	case "message_delta":
		s.resp.StopReason = ev.Delta.StopReason
		s.usage.update(ev.Usage)
	case "message_stop":
		s.done = true
	case "error":
		return s.c.eventError(ev.Error)
	}
	return nil
}

// start opens a content block.
func (s *stream) start(index int, b respBlock) error {
	switch b.Type {
	case "text":
		return s.token(b.Text)
	case "tool_use":
		s.tools[index] = &toolBlock{id: b.ID, name: b.Name, start: b.Input}
	}
	return nil
}

// delta adds a piece to an open content block.
func (s *stream) delta(ev streamEvent) error {
	switch ev.Delta.Type {
	case "text_delta":
		return s.token(ev.Delta.Text)
	case "input_json_delta":
		tb := s.tools[ev.Index]
		if tb == nil {
			return s.c.netError(s.ctx, "malformed stream: input_json_delta outside a tool_use block", nil)
		}
		tb.input.WriteString(ev.Delta.PartialJSON)
	}
	return nil
}

// token adds text to the content and emits it.
func (s *stream) token(text string) error {
	if text == "" {
		return nil
	}
	s.text.WriteString(text)
	return s.emit(llm.Delta{Kind: llm.DeltaToken, Text: text})
}

// stop closes a content block, emitting the tool call of a tool_use block.
func (s *stream) stop(index int) error {
	tb := s.tools[index]
	if tb == nil {
		return nil
	}
	delete(s.tools, index)
	raw := []byte(tb.input.String())
	if len(raw) == 0 {
		raw = tb.start
	}
	args, err := arguments(raw)
	if err != nil {
		return s.c.netError(s.ctx, "malformed stream: the input of tool call "+tb.id+" is not JSON", err)
	}
	call := llm.ToolCall{ID: tb.id, Name: tb.name, Arguments: args}
	s.resp.ToolCalls = append(s.resp.ToolCalls, call)
	return s.emit(llm.Delta{Kind: llm.DeltaToolCall, ToolCall: call})
}

// response is the assembled answer.
func (s *stream) response() llm.Response {
	out := s.resp
	out.Content = s.text.String()
	out.Usage = s.usage.usage()
	return out
}

// update replaces the counts of u that d carries.
func (u *wireUsage) update(d deltaUsage) {
	set(&u.InputTokens, d.InputTokens)
	set(&u.OutputTokens, d.OutputTokens)
	set(&u.CacheReadInputTokens, d.CacheReadInputTokens)
	set(&u.CacheCreationInputTokens, d.CacheCreationInputTokens)
}

// set stores *v in dst when v is not nil.
func set(dst, v *int) {
	if v != nil {
		*dst = *v
	}
}
