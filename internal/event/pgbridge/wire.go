package pgbridge

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/gathering"
)

// maxInline is the largest JSON sent inside a notification. PostgreSQL
// refuses payloads of 8,000 bytes or more; larger events are stored and the
// notification carries their id.
const maxInline = 7900

// message is the JSON a notification carries between instances: an event
// with its origin (event.Event does not encode Origin), or only a pointer
// (Ref, Origin) to a body stored in event_payloads. Fields are listed rather
// than embedded so that the wire format changes only on purpose.
type message struct {
	ID     string          `json:"id,omitzero"`
	Type   string          `json:"type,omitzero"`
	Topics []string        `json:"topics,omitzero"`
	Actor  string          `json:"actor,omitzero"`
	Data   json.RawMessage `json:"data,omitzero"`
	At     time.Time       `json:"timestamp,omitzero"`
	Origin string          `json:"origin"`
	Ref    string          `json:"ref,omitzero"`
}

// encode returns the wire JSON of e. Data must be valid JSON; it arrives
// compacted (insignificant whitespace removed) but otherwise byte for byte:
// HTML characters are not escaped.
func encode(e event.Event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(message{
		ID: e.ID, Type: e.Type, Topics: e.Topics, Actor: e.Actor, Data: e.Data, At: e.At, Origin: e.Origin,
	})
	if err != nil {
		return nil, &gathering.Error{Code: gathering.EINVALID, Message: "encode event " + e.ID, Err: err}
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// pointer returns the notification that stands for a stored body.
func pointer(ref, origin string) []byte {
	b, _ := json.Marshal(message{Ref: ref, Origin: origin}) // two strings: never fails
	return b
}

// decode parses a notification or a stored body.
func decode(payload string) (message, error) {
	var m message
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		return m, &gathering.Error{Code: gathering.EMALFORMED, Message: "decode event notification", Err: err}
	}
	return m, nil
}

// event returns the event m carries.
func (m message) event() event.Event {
	return event.Event{
		ID: m.ID, Type: m.Type, Topics: m.Topics, Actor: m.Actor, Data: m.Data, At: m.At, Origin: m.Origin,
	}
}

// newRef returns a random 128-bit id, in hex, for a stored body.
func newRef() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
