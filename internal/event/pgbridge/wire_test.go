package pgbridge_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/event/pgbridge"
)

// TestWireCarriesEveryEventField fails when event.Event gains a field the
// wire format does not carry: add it to message, encode and event().
func TestWireCarriesEveryEventField(t *testing.T) {
	t.Parallel()
	var fields []string
	for f := range reflect.TypeFor[event.Event]().Fields() {
		fields = append(fields, f.Name)
	}
	if got := strings.Join(fields, ","); got != "ID,Type,Topics,Actor,Data,At,Origin" {
		t.Fatalf("event.Event has fields %s; teach the wire format about the new ones", got)
	}
}

func TestWireRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	for name, e := range map[string]event.Event{
		"full":                       {ID: "01J", Type: "a.b", Topics: []string{"run:1"}, Actor: "user:1", Data: json.RawMessage(`{"x":[1,"é"]}`), At: at, Origin: "i1"},
		"html":                       {ID: "01M", Type: "a.b", Topics: []string{"a<b"}, Data: json.RawMessage(`{"h":"<b>&amp;</b>","u":"\u00e9"}`), At: at, Origin: "i1"},
		"minimal":                    {ID: "01K", Type: "a.b", Origin: "i1"},
		"empty topics and null data": {ID: "01L", Type: "a", Topics: []string{}, Data: json.RawMessage(`null`), At: at, Origin: "i1"},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := pgbridge.Encode(e)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `"origin":"i1"`) {
				t.Fatalf("no origin on the wire: %s", b)
			}
			got, err := pgbridge.Decode(string(b))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Fatalf("got %#v\nwant %#v", got, e)
			}
		})
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	t.Parallel()
	if _, err := pgbridge.Decode("not json"); err == nil {
		t.Fatal("no error")
	}
}

func TestBackoffDoublesWithJitterUpToMax(t *testing.T) {
	t.Parallel()
	const lo, hi = 100 * time.Millisecond, 1 * time.Second
	waits := pgbridge.Backoff(lo, hi, 8)
	if waits[0] != 0 {
		t.Fatalf("first attempt waits %v, want 0", waits[0])
	}
	want := lo
	for i, w := range waits[1:] {
		if w < want/2 || w > want {
			t.Fatalf("wait %d: %v, want within [%v, %v]", i+1, w, want/2, want)
		}
		want = min(want*2, hi)
	}
}
