package mcp

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/tool"
)

// maxErrorText bounds the tool's own error text carried in a message.
const maxErrorText = 1000

// sanitize lower-cases an MCP tool name and turns every character outside
// [a-z0-9_] into "_".
func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			return r
		}
		return '_'
	}, name)
}

// define describes the MCP tool t as the registry tool name.
func (s *server) define(t *sdk.Tool, name string) (tool.Tool, error) {
	in, err := json.Marshal(t.InputSchema)
	if err != nil {
		return tool.Tool{}, fmt.Errorf("input schema: %w", err)
	}
	var out json.RawMessage
	if t.OutputSchema != nil {
		if out, err = json.Marshal(t.OutputSchema); err != nil {
			return tool.Tool{}, fmt.Errorf("output schema: %w", err)
		}
	}
	perm := tool.PermExec
	if s.cfg.URL != "" {
		perm = tool.PermNet
	}
	mcpName := t.Name
	return tool.Tool{
		Name:        name,
		Description: cmp.Or(t.Description, t.Title),
		Input:       in,
		Output:      out,
		Permissions: []tool.Permission{perm},
		Timeout:     s.opts.Timeout,
		Run: func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
			return s.call(ctx, name, mcpName, input)
		},
		Check: func() error { _, err := s.use(mcpName); return err },
	}, nil
}

// call runs the MCP tool mcpName, registered as name, with input (already
// validated). A cancelled or expired ctx is returned as is, for the
// registry to map.
func (s *server) call(ctx context.Context, name, mcpName string, input json.RawMessage) (json.RawMessage, error) {
	cs, err := s.use(mcpName)
	if err != nil {
		return nil, unavailable(name, err)
	}
	if len(bytes.TrimSpace(input)) == 0 {
		input = json.RawMessage("{}")
	}
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: mcpName, Arguments: input})
	switch {
	case err == nil:
		return result(name, res)
	case ctx.Err() != nil:
		return nil, err
	}
	if rpcErr, ok := errors.AsType[*jsonrpc.Error](err); ok {
		return nil, toolFailed(name, rpcErr.Message)
	}
	return nil, unavailable(name, err)
}

// result is a successful call's output: the structured content when there
// is some, else {"content": [...]} with the MCP content blocks.
func result(name string, res *sdk.CallToolResult) (json.RawMessage, error) {
	if res.IsError {
		return nil, toolFailed(name, contentText(res.Content))
	}
	if res.StructuredContent != nil {
		return json.Marshal(res.StructuredContent)
	}
	content := res.Content
	if content == nil {
		content = []sdk.Content{}
	}
	return json.Marshal(map[string][]sdk.Content{"content": content})
}

// contentText joins the text blocks of content.
func contentText(content []sdk.Content) string {
	var texts []string
	for _, c := range content {
		if t, ok := c.(*sdk.TextContent); ok {
			texts = append(texts, t.Text)
		}
	}
	return strings.Join(texts, "\n")
}

// unavailable is the error of a call that did not reach the tool.
func unavailable(name string, err error) error {
	e := gathering.Errorf(gathering.EUNAVAILABLE, "The tool %q is unavailable.", name)
	e.Err = err
	return e
}

// toolFailed is the error of a call the tool itself failed, carrying the
// tool's text.
func toolFailed(name, text string) error {
	return gathering.Errorf(gathering.EUNAVAILABLE, "The tool %q failed: %s", name, truncate(cmp.Or(text, "no details"), maxErrorText))
}

// truncate cuts s to at most n bytes on a character boundary, marking the
// cut with an ellipsis.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
