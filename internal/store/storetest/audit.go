package storetest

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// appendAudit appends an event at minute m and returns its id.
func appendAudit(t *testing.T, s store.Store, m int, event string, actor int64) int64 {
	t.Helper()
	e, err := s.AuditAppend(t.Context(), gathering.AuditEvent{At: minutes(m), Event: event, ActorID: actor})
	if err != nil || e.ID <= 0 {
		t.Fatalf("AuditAppend = %+v, %v; want a positive id", e, err)
	}
	return e.ID
}

func testAuditFilters(t *testing.T, s store.Store) {
	login, failed := gathering.AuditLoginSucceeded, gathering.AuditLoginFailed
	e1 := appendAudit(t, s, 0, login, 1)
	e2 := appendAudit(t, s, 1, failed, 0)
	e3 := appendAudit(t, s, 2, login, 2)
	e4 := appendAudit(t, s, 3, gathering.AuditLogout, 1)
	e5 := appendAudit(t, s, 3, login, 1) // same time as e4: the later id first
	cases := []struct {
		filter store.AuditFilter
		want   []int64
		total  int
	}{
		{store.AuditFilter{}, []int64{e5, e4, e3, e2, e1}, 5},
		{store.AuditFilter{Event: login}, []int64{e5, e3, e1}, 3},
		{store.AuditFilter{ActorID: 1}, []int64{e5, e4, e1}, 3},
		{store.AuditFilter{Event: login, ActorID: 1}, []int64{e5, e1}, 2},
		{store.AuditFilter{Since: minutes(2)}, []int64{e5, e4, e3}, 3},
		{store.AuditFilter{Until: minutes(2)}, []int64{e2, e1}, 2},
		{store.AuditFilter{Since: minutes(1), Until: minutes(3)}, []int64{e3, e2}, 2},
		{store.AuditFilter{Page: store.Page{Limit: 2, Offset: 1}}, []int64{e4, e3}, 5},
		{store.AuditFilter{Event: login, Page: store.Page{Limit: 2, Offset: 2}}, []int64{e1}, 3},
		{store.AuditFilter{Page: store.Page{Offset: 10}}, nil, 5},
		{store.AuditFilter{Event: "nothing"}, nil, 0},
	}
	for _, c := range cases {
		events, total, err := s.AuditList(t.Context(), c.filter)
		var got []int64
		for _, e := range events {
			got = append(got, e.ID)
		}
		if err != nil || total != c.total || !slices.Equal(got, c.want) {
			t.Errorf("AuditList(%+v) = %v, total %d, %v; want %v, total %d", c.filter, got, total, err, c.want, c.total)
		}
	}
}

func testAuditRoundTrip(t *testing.T, s store.Store) {
	cases := []gathering.AuditEvent{
		{At: base, Event: gathering.AuditRoleChanged, ActorID: 7, ActorIP: netip.MustParseAddr("203.0.113.7"),
			UserAgent: "curl/8", RequestID: "req-1", Target: "user:9", Details: json.RawMessage(`{"from":"member","to":["admin",1]}`)},
		{At: minutes(1), Event: gathering.AuditLoginFailed, ActorIP: netip.MustParseAddr("2001:db8::1"), Target: "x@example.org"},
		{At: minutes(2), Event: gathering.AuditLogout},
	}
	for _, in := range cases {
		appended, err := s.AuditAppend(t.Context(), in)
		if err != nil {
			t.Fatalf("AuditAppend(%s): %v", in.Event, err)
		}
		listed, _, err := s.AuditList(t.Context(), store.AuditFilter{Since: in.At, Until: in.At.Add(time.Millisecond)})
		if err != nil || len(listed) != 1 {
			t.Fatalf("AuditList of %s = %+v, %v; want one event", in.Event, listed, err)
		}
		in.ID = appended.ID
		checkAudit(t, "AuditAppend", appended, in)
		checkAudit(t, "AuditList", listed[0], in)
	}
}

// checkAudit compares an event with want, its Details as JSON values (nil
// Details read back as {}).
func checkAudit(t *testing.T, op string, got, want gathering.AuditEvent) {
	t.Helper()
	if want.Details == nil {
		want.Details = json.RawMessage(`{}`)
	}
	if !jsonEqual(got.Details, want.Details) {
		t.Errorf("%s: Details %s, want %s", op, got.Details, want.Details)
	}
	got.Details, want.Details = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v, want %+v", op, got, want)
	}
}

// jsonEqual reports whether a and b hold the same JSON value.
func jsonEqual(a, b json.RawMessage) bool {
	var va, vb any
	return json.Unmarshal(a, &va) == nil && json.Unmarshal(b, &vb) == nil && reflect.DeepEqual(va, vb)
}

// testAuditAppendOnly checks that the schema itself refuses to change or
// delete audit events.
func testAuditAppendOnly(t *testing.T, s store.Store, exec Exec) {
	if exec == nil {
		t.Skip("no raw SQL access to this backend")
	}
	appendAudit(t, s, 0, gathering.AuditLogout, 1)
	for _, stmt := range []string{
		`UPDATE audit_events SET event = 'tampered'`,
		`DELETE FROM audit_events`,
	} {
		if err := exec(t.Context(), s, stmt); err == nil {
			t.Errorf("%s: succeeded, want an error", stmt)
		}
	}
	events, total, err := s.AuditList(t.Context(), store.AuditFilter{})
	if err != nil || total != 1 || len(events) != 1 || events[0].Event != gathering.AuditLogout {
		t.Errorf("after refused changes AuditList = %+v, %d, %v; want the one untouched event", events, total, err)
	}
}
