package pgbridge

import (
	"cmp"
	"log/slog"
	"regexp"
	"time"

	"github.com/gathering/gathering/internal/gathering"
)

// Defaults for the zero fields of Config.
const (
	DefaultChannel    = "gathering_events"
	DefaultMinBackoff = 250 * time.Millisecond
	DefaultMaxBackoff = 10 * time.Second
	DefaultPayloadTTL = time.Hour
)

// Config says where PostgreSQL is and how the bridge behaves. The zero value
// of every field but URL is a useful default.
type Config struct {
	// URL is a postgres:// connection URL. Its query parameters (such as
	// search_path or application_name) are sent as runtime parameters.
	URL string
	// Channel is the notification channel, an identifier matching
	// ^[a-z_][a-z0-9_]{0,62}$; empty means DefaultChannel.
	Channel string
	// Log receives outage and recovery messages; nil discards them.
	Log *slog.Logger
	// MinBackoff and MaxBackoff bound the wait between reconnection
	// attempts, which doubles from min to max; zero means the defaults.
	MinBackoff, MaxBackoff time.Duration
	// PayloadTTL is how long stored payloads are kept; zero means
	// DefaultPayloadTTL.
	PayloadTTL time.Duration
}

// channelName is what a channel must look like. It is quoted as an
// identifier anyway; the pattern keeps names portable and readable.
var channelName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	c.Channel = cmp.Or(c.Channel, DefaultChannel)
	c.MinBackoff = cmp.Or(c.MinBackoff, DefaultMinBackoff)
	c.MaxBackoff = cmp.Or(c.MaxBackoff, DefaultMaxBackoff)
	c.PayloadTTL = cmp.Or(c.PayloadTTL, DefaultPayloadTTL)
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// validate reports the first field that cannot be used, as EINVALID.
func (c Config) validate() error {
	switch {
	case c.URL == "":
		return gathering.Invalid("event bridge: no PostgreSQL URL", gathering.FieldError{Field: "URL", Message: "required"})
	case !channelName.MatchString(c.Channel):
		return gathering.Invalid("event bridge: invalid channel name",
			gathering.FieldError{Field: "Channel", Message: "must match " + channelName.String()})
	case c.MinBackoff < 0 || c.MaxBackoff < c.MinBackoff:
		return gathering.Invalid("event bridge: invalid backoff",
			gathering.FieldError{Field: "MaxBackoff", Message: "must be at least MinBackoff, which must not be negative"})
	case c.PayloadTTL < time.Second:
		return gathering.Invalid("event bridge: payload TTL too short",
			gathering.FieldError{Field: "PayloadTTL", Message: "must be at least 1s"})
	}
	return nil
}

// purgeInterval is how often stored payloads older than ttl are deleted:
// half the TTL, at most every ten minutes.
func purgeInterval(ttl time.Duration) time.Duration {
	return min(ttl/2, 10*time.Minute)
}
