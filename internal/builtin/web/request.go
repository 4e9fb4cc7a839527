package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/tool"
)

// userAgent is the User-Agent of every request that does not set one.
const userAgent = "GatheRing"

// requestInput is the decoded input of http.request.
type requestInput struct {
	Method         string            `json:"method"`
	URL            string            `json:"url"`
	Headers        map[string]string `json:"headers"`
	Body           json.RawMessage   `json:"body"`
	TimeoutSeconds int               `json:"timeout_seconds"`
}

// requestTool describes http.request.
func (s *skills) requestTool() tool.Tool {
	return tool.Tool{
		Name: "http.request",
		Description: "Make an HTTP request to an external URL and return the status, headers and body " +
			"(JSON parsed, text, or base64). Internal addresses are refused unless allow-listed.",
		Input:       json.RawMessage(requestInputSchema),
		Output:      json.RawMessage(requestOutputSchema),
		Permissions: []tool.Permission{tool.PermNet},
		Timeout:     s.opts.longest() + toolGrace,
		Run:         s.request,
	}
}

// request is the body of http.request.
func (s *skills) request(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	var in requestInput
	if err := decode(raw, &in); err != nil {
		return nil, err
	}
	u, fields := checkURL(in.URL)
	if err := invalid(append(fields, checkHeaders(in.Headers)...)); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.requestTimeout(in.TimeoutSeconds))
	defer cancel()
	start := time.Now()
	resp, err := s.client.Do(newRequest(ctx, &in, u))
	if err != nil {
		return nil, transportError(u.Host, err)
	}
	defer resp.Body.Close()
	out, err := readResponse(resp, s.opts.MaxResponse)
	if err != nil {
		return nil, transportError(u.Host, err)
	}
	out.DurationMS = time.Since(start).Milliseconds()
	return json.Marshal(out)
}

// requestTimeout is the deadline of one request: timeout_seconds when given.
func (s *skills) requestTimeout(seconds int) time.Duration {
	if seconds > 0 {
		return time.Duration(seconds) * time.Second
	}
	return s.opts.Timeout
}

// newRequest builds the outgoing request from checked input.
func newRequest(ctx context.Context, in *requestInput, u *url.URL) *http.Request {
	req := &http.Request{Method: in.Method, URL: u, Host: u.Host, Header: http.Header{}}
	for name, value := range in.Headers {
		req.Header.Set(name, value)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", userAgent)
	}
	setIdempotencyKey(ctx, req.Header)
	setBody(req, in.Body)
	return req.WithContext(ctx)
}

// setBody attaches body to req: as JSON (application/json unless a
// Content-Type is set), or as the text of a string body whose Content-Type
// is not JSON.
func setBody(req *http.Request, body json.RawMessage) {
	if isNull(body) {
		return
	}
	ct := req.Header.Get("Content-Type")
	data := compact(body)
	var text string
	if ct != "" && !isJSONType(ct) && json.Unmarshal(body, &text) == nil {
		data = []byte(text)
	}
	if ct == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.ContentLength = int64(len(data))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	req.Body, _ = req.GetBody()
}

// compact returns raw JSON without insignificant white space.
func compact(raw json.RawMessage) []byte {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// isJSONType reports whether a Content-Type value names JSON.
func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}
