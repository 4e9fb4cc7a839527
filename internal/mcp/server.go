package mcp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/procgroup"
	"github.com/gathering/gathering/internal/startstop"
	"github.com/gathering/gathering/internal/tool"
)

// terminateGrace is how long a command server has to exit once its
// standard input is closed, and again after SIGTERM, before it is killed.
const terminateGrace = 2 * time.Second

// Why a session ended, when not for a reason the SDK gives.
var (
	errClosed  = errors.New("the server closed the session")
	errStopped = errors.New("stopped")
)

// server is one configured server: its SDK client, its session and the
// tools it registered.
type server struct {
	cfg    Server
	reg    *tool.Registry
	opts   Options
	log    *slog.Logger
	client *sdk.Client
	loop   startstop.Loop
	relist chan struct{} // a tools/list_changed notification arrived
	// bound maps the registry name of every tool the server registered to
	// its MCP name. Only the loop's goroutine uses it.
	bound map[string]string

	mu      sync.Mutex
	session *sdk.ClientSession // nil while down
	offered map[string]bool    // MCP names of the usable tools of the session
	lastErr string
}

// newServer prepares the state of one server; nothing runs before Start.
func newServer(cfg Server, reg *tool.Registry, opts Options) *server {
	s := &server{
		cfg: cfg, reg: reg, opts: opts,
		log:    opts.Logger.With("mcp_server", cfg.Name),
		relist: make(chan struct{}, 1),
		bound:  map[string]string{},
	}
	s.client = sdk.NewClient(&sdk.Implementation{Name: "gathering", Version: gathering.Build().Version}, &sdk.ClientOptions{
		Logger:                 s.log,
		Capabilities:           &sdk.ClientCapabilities{}, // no roots, sampling or elicitation
		ToolListChangedHandler: s.toolsChanged,
		KeepAlive:              opts.KeepAlive,
	})
	return s
}

// run keeps a session up until ctx ends: it connects, serves the session
// until it ends, then waits as the backoff says before trying again. The
// first failure and every lost session are warnings; repeated failures to
// connect are logged at debug level.
func (s *server) run(ctx context.Context) {
	b := &backoff{min: s.opts.MinBackoff, max: s.opts.MaxBackoff}
	for first := true; ; first = false {
		start := time.Now()
		connected, err := s.serve(ctx)
		if ctx.Err() != nil {
			return
		}
		s.down(err)
		level := slog.LevelDebug
		if connected || first {
			level = slog.LevelWarn
		}
		s.log.Log(ctx, level, "mcp: server unavailable; reconnecting", "err", s.errText(err))
		if connected && time.Since(start) >= s.opts.MaxBackoff {
			b.reset()
		}
		if !sleep(ctx, b.next()) {
			return
		}
	}
}

// serve connects, lists the tools and holds the session until it ends or
// ctx does. It reports whether the session was established, and why it
// ended.
func (s *server) serve(ctx context.Context) (bool, error) {
	tr, cmd := s.transport()
	if cmd != nil {
		// Runs last: whatever the program started ends with its session.
		defer procgroup.Kill(cmd)
	}
	cs, err := s.connect(ctx, tr)
	if err != nil {
		return false, err
	}
	var wg sync.WaitGroup
	ended := make(chan error, 1)
	wg.Go(func() { ended <- cs.Wait() })
	defer func() { cs.Close(); wg.Wait() }()
	if err := s.refresh(ctx, cs); err != nil {
		return false, err
	}
	s.up(cs)
	err = s.hold(ctx, cs, ended)
	s.down(err)
	return true, err
}

// hold waits for the session to end, or ctx, listing the tools again
// whenever the server says they changed, and returns why it stopped.
func (s *server) hold(ctx context.Context, cs *sdk.ClientSession, ended <-chan error) error {
	for {
		select {
		case err := <-ended:
			return cmp.Or(err, errClosed)
		case <-ctx.Done():
			return errStopped
		case <-s.relist:
			if err := s.refresh(ctx, cs); err != nil {
				s.log.Warn("mcp: listing the changed tools failed", "err", s.errText(err))
			}
		}
	}
}

// connect opens a session, within ConnectTimeout.
func (s *server) connect(ctx context.Context, tr sdk.Transport) (*sdk.ClientSession, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.ConnectTimeout)
	defer cancel()
	return s.client.Connect(ctx, tr, nil)
}

// transport returns a new transport to the server, and for a command
// server its command, in a process group of its own. The HTTP transport
// does not retry a broken event stream: the session ends at once and run's
// backoff takes over.
func (s *server) transport() (sdk.Transport, *exec.Cmd) {
	if s.cfg.URL != "" {
		return &sdk.StreamableClientTransport{Endpoint: s.cfg.URL, HTTPClient: s.opts.HTTPClient, MaxRetries: -1}, nil
	}
	cmd := exec.Command(s.cfg.Command[0], s.cfg.Command[1:]...)
	cmd.Env = s.environ()
	cmd.Stderr = &lineLogger{log: s.log}
	cmd.WaitDelay = terminateGrace
	procgroup.Isolate(cmd)
	return &sdk.CommandTransport{Command: cmd, TerminateDuration: terminateGrace}, cmd
}

// environ is a command server's whole environment: PATH and HOME from
// GatheRing's, then the server's own entries. It is never nil, which would
// mean inheriting everything.
func (s *server) environ() []string {
	env := []string{}
	for _, k := range []string{"PATH", "HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env, s.cfg.Env...)
}

// toolsChanged is the SDK's notifications/tools/list_changed handler: it
// asks serve to list the tools again, without blocking the SDK.
func (s *server) toolsChanged(context.Context, *sdk.ToolListChangedRequest) {
	select {
	case s.relist <- struct{}{}:
	default:
	}
}

// refresh lists the server's tools (every page), registers the new ones and
// records which are usable in this session.
func (s *server) refresh(ctx context.Context, cs *sdk.ClientSession) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.ConnectTimeout)
	defer cancel()
	offered := map[string]bool{}
	for t, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return fmt.Errorf("list tools: %w", err)
		}
		if s.adopt(t) {
			offered[t.Name] = true
		}
	}
	s.mu.Lock()
	s.offered = offered
	s.mu.Unlock()
	return nil
}

// adopt registers t if it is new, and reports whether it is usable: it is
// registered under its sanitized name, which no other tool of the server
// took first.
func (s *server) adopt(t *sdk.Tool) bool {
	name := "mcp." + s.cfg.Name + "." + sanitize(t.Name)
	if prev, ok := s.bound[name]; ok {
		if prev != t.Name {
			s.log.Warn("mcp: tool skipped: its name collides with another's", "tool", t.Name, "other", prev, "name", name)
		}
		return prev == t.Name
	}
	if !tool.ValidName(name) {
		s.log.Warn("mcp: tool skipped: its name is empty or too long", "tool", t.Name)
		return false
	}
	def, err := s.define(t, name)
	if err == nil {
		err = s.reg.Register(def)
	}
	if err != nil {
		s.log.Warn("mcp: tool skipped", "tool", t.Name, "err", err)
		return false
	}
	s.bound[name] = t.Name
	return true
}

// up records a working session.
func (s *server) up(cs *sdk.ClientSession) {
	s.mu.Lock()
	s.session, s.lastErr = cs, ""
	n := len(s.offered)
	s.mu.Unlock()
	s.log.Info("mcp: server connected", "tools", n)
}

// down records that the server is down, and why.
func (s *server) down(err error) {
	s.mu.Lock()
	s.session, s.lastErr = nil, s.errText(err)
	s.mu.Unlock()
}

// use returns the session to call the MCP tool name on, or why it cannot be
// called now.
func (s *server) use(name string) (*sdk.ClientSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.session == nil:
		return nil, fmt.Errorf("MCP server %q is not connected: %s", s.cfg.Name, cmp.Or(s.lastErr, "not yet"))
	case !s.offered[name]:
		return nil, fmt.Errorf("MCP server %q no longer offers the tool %q", s.cfg.Name, name)
	}
	return s.session, nil
}

// status describes the server now.
func (s *server) status() ServerStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := ServerStatus{Name: s.cfg.Name, Connected: s.session != nil, LastError: s.lastErr}
	if st.Connected {
		st.Tools = len(s.offered)
	}
	return st
}

// errText is err's text with the query and password of a URL server's
// endpoint hidden, since tokens tend to live there.
func (s *server) errText(err error) string {
	text := err.Error()
	if s.cfg.URL == "" {
		return text
	}
	return strings.ReplaceAll(text, s.cfg.URL, redactURL(s.cfg.URL))
}

// redactURL is raw without its query and password.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(the server URL)"
	}
	if u.RawQuery != "" {
		u.RawQuery = "REDACTED"
	}
	return u.Redacted()
}
