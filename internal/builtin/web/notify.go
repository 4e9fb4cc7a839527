package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/netguard"
	"github.com/gathering/gathering/internal/tool"
)

// Webhook headers; see the package documentation for the signature scheme.
const (
	headerTimestamp = "X-Gathering-Timestamp"
	headerSignature = "X-Gathering-Signature"
	headerEvent     = "X-Gathering-Event"
)

// Limits on reading a webhook response: how much is drained so the
// connection can be reused, how much is read for an error excerpt and how
// much of it is shown. excerptRead must be at least excerptShown plus the
// longest secret (256 bytes); see excerpt.
const (
	drainLimit   = 64 << 10
	excerptRead  = 512
	excerptShown = 120
)

// webhookInput is the decoded input of notify.webhook.
type webhookInput struct {
	URL     string          `json:"url"`
	Payload json.RawMessage `json:"payload"`
	Secret  string          `json:"secret"`
	Event   string          `json:"event"`
}

// webhookOutput is the output of notify.webhook.
type webhookOutput struct {
	Status     int   `json:"status"`
	Delivered  bool  `json:"delivered"`
	DurationMS int64 `json:"duration_ms"`
}

// webhookTool describes notify.webhook.
func (s *skills) webhookTool() tool.Tool {
	return tool.Tool{
		Name: "notify.webhook",
		Description: "POST a JSON payload to a webhook URL, signed with HMAC-SHA256 when a secret is given " +
			"(X-Gathering-Signature). A response outside 2xx is an error.",
		Input:       json.RawMessage(webhookInputSchema),
		Output:      json.RawMessage(webhookOutputSchema),
		Permissions: []tool.Permission{tool.PermNet},
		Timeout:     s.opts.Timeout + toolGrace,
		Run:         s.webhook,
	}
}

// webhook is the body of notify.webhook.
func (s *skills) webhook(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	var in webhookInput
	if err := decode(raw, &in); err != nil {
		return nil, err
	}
	u, fields := checkURL(in.URL)
	if err := invalid(fields); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := s.noRedirect.Do(newWebhook(ctx, &in, u, start))
	if err != nil {
		return nil, transportError(u.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, rejected(u.Host, resp, in.Secret)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	return json.Marshal(webhookOutput{Status: resp.StatusCode, Delivered: true, DurationMS: time.Since(start).Milliseconds()})
}

// newWebhook builds the signed delivery of in to u, stamped with now.
func newWebhook(ctx context.Context, in *webhookInput, u *url.URL, now time.Time) *http.Request {
	body := []byte("{}")
	if !isNull(in.Payload) {
		body = compact(in.Payload)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", userAgent)
	h.Set(headerTimestamp, ts)
	if in.Event != "" {
		h.Set(headerEvent, in.Event)
	}
	setIdempotencyKey(ctx, h)
	if in.Secret != "" {
		h.Set(headerSignature, "sha256="+sign(in.Secret, ts, body))
	}
	req := &http.Request{Method: http.MethodPost, URL: u, Host: u.Host, Header: h, ContentLength: int64(len(body))}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.Body, _ = req.GetBody()
	return req.WithContext(ctx)
}

// sign returns the hex HMAC-SHA256 of "<ts>.<body>" keyed with secret.
func sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// rejected is the EUNAVAILABLE error of a delivery answered outside 2xx,
// with a short excerpt of the response that never shows the secret.
func rejected(host string, resp *http.Response, secret string) error {
	e := gathering.Errorf(gathering.EUNAVAILABLE, "The webhook at %q answered with status %d, not 2xx.", host, resp.StatusCode)
	if ex := excerpt(resp.Body, secret); ex != "" {
		e.Message += " The response began: " + strconv.Quote(ex)
	}
	return e
}

// excerpt returns up to excerptShown bytes from the start of r as valid
// UTF-8, each occurrence of secret that starts there redacted. The cut is
// made on the bytes received, and excerptRead leaves room for a whole secret
// (at most 256 bytes) after it, so no piece of one starting in the shown
// part survives.
func excerpt(r io.Reader, secret string) string {
	data, _ := netguard.ReadLimited(r, excerptRead)
	s := string(data)
	var b strings.Builder
	for i := 0; i < len(s) && i < excerptShown; {
		if secret != "" && strings.HasPrefix(s[i:], secret) {
			b.WriteString("[redacted]")
			i += len(secret)
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	shown := string(trimPartialRune([]byte(b.String())))
	return strings.TrimSpace(strings.ToValidUTF8(shown, "\uFFFD"))
}
