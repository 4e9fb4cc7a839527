package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// exerciseMemories runs the MemoryStore part of the suite, each test on a
// fresh migrated store.
func exerciseMemories(t *testing.T, migrated func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"MemoryRoundTrip", testMemoryRoundTrip},
		{"MemoryCreateRefuses", testMemoryCreateRefuses},
		{"MemoryList", testMemoryList},
		{"MemoryListPaging", testMemoryListPaging},
		{"MemoryScan", testMemoryScan},
		{"MemoryScanBatches", testMemoryScanBatches},
		{"MemoryScanStops", testMemoryScanStops},
		{"MemoryScanVectors", testMemoryScanVectors},
		{"MemoryScanVectorsBatches", testMemoryScanVectorsBatches},
		{"MemoryGetMany", testMemoryGetMany},
		{"MemoryTouch", testMemoryTouch},
		{"MemorySetVector", testMemorySetVector},
		{"MemoryStats", testMemoryStats},
		{"MemoryDelete", testMemoryDelete},
		{"MemoryDeleteMatching", testMemoryDeleteMatching},
		{"MemoryIsolation", testMemoryIsolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { t.Parallel(); tt.test(t, migrated(t)) })
	}
}

// memoryAt is a small memory created at minute n: a fact of the agent, or
// a knowledge-base entry when agent is 0, with a 4-component vector made
// by "test-4".
func memoryAt(agent int64, n int) store.Memory {
	m := store.Memory{
		Scope: store.ScopeAgent, AgentID: agent, Type: store.MemoryFact, Content: fmt.Sprintf("memory %d", n),
		Importance: 0.5, Embedder: "test-4", Vector: []float32{float32(n), 1, -1, 0.25}, CreatedAt: minutes(n),
	}
	if agent == 0 {
		m.Scope, m.Type = store.ScopeKnowledge, store.MemoryKnowledge
	}
	return m
}

// createMemories stores ms in one MemoryCreate, or fails the test, and
// checks that it returned them in order with fresh, increasing ids.
func createMemories(t *testing.T, s store.Store, ms ...store.Memory) []store.Memory {
	t.Helper()
	created, err := s.MemoryCreate(t.Context(), ms)
	if err != nil || len(created) != len(ms) {
		t.Fatalf("MemoryCreate of %d: %d returned, %v", len(ms), len(created), err)
	}
	for i, m := range created {
		if m.ID <= 0 || i > 0 && m.ID <= created[i-1].ID {
			t.Fatalf("MemoryCreate: id %d at %d after %v, want positive increasing ids", m.ID, i, memoryIDs(created[:i]))
		}
		want := ms[i]
		if want.ID = m.ID; !sameMemory(m, want) {
			t.Fatalf("MemoryCreate returned %s, want %s", showMemory(m), showMemory(want))
		}
	}
	return created
}

// wantMemory fails the test unless the stored entry equals want, every
// field, the vector bit for bit.
func wantMemory(t *testing.T, op string, s store.Store, want store.Memory) {
	t.Helper()
	got, err := s.MemoryGet(t.Context(), want.ID)
	if err != nil || !sameMemory(got, want) {
		t.Errorf("%s: MemoryGet = %s, %v;\nwant %s", op, showMemory(got), err, showMemory(want))
	}
}

// sameMemory reports whether a and b are equal, their vectors bit for bit.
func sameMemory(a, b store.Memory) bool {
	if (a.Vector == nil) != (b.Vector == nil) ||
		!slices.EqualFunc(a.Vector, b.Vector, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }) {
		return false
	}
	a.Vector, b.Vector = nil, nil
	return reflect.DeepEqual(a, b)
}

// showMemory prints an entry with its metadata as text and the start of
// its vector.
func showMemory(m store.Memory) string {
	v := m.Vector
	m.Vector = nil
	return fmt.Sprintf("%+v (metadata %q, vector of %d: %v…)", m, m.Metadata, len(v), v[:min(len(v), 4)])
}

// memoryIDs lists the ids of entries, in order.
func memoryIDs(ms []store.Memory) []int64 {
	ids := []int64{}
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}

// scanIDs scans f and returns the ids fn saw, checking that each entry
// equals the stored one of created with that id, vector included.
func scanIDs(t *testing.T, s store.Store, f store.MemoryFilter, created []store.Memory) []int64 {
	t.Helper()
	byID := map[int64]store.Memory{}
	for _, m := range created {
		byID[m.ID] = m
	}
	ids := []int64{}
	err := s.MemoryScan(t.Context(), f, func(m store.Memory) error {
		if !sameMemory(m, byID[m.ID]) {
			t.Errorf("MemoryScan(%+v) saw %s, want %s", f, showMemory(m), showMemory(byID[m.ID]))
		}
		ids = append(ids, m.ID)
		return nil
	})
	if err != nil {
		t.Errorf("MemoryScan(%+v): %v", f, err)
	}
	return ids
}

// bitVector is a vector of n components with values that only float32
// bit equality tells apart: NaN, negative zero, extremes, thirds.
func bitVector(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i) / 3 * float32(1-2*(i%2))
	}
	v[0], v[1], v[2] = float32(math.NaN()), float32(math.Copysign(0, -1)), math.MaxFloat32
	v[3], v[4], v[5] = math.SmallestNonzeroFloat32, float32(math.Inf(-1)), -1e-30
	return v
}

// fullMemory is an entry with every field set, to values that are easy to
// get wrong: text to escape, tags with an empty one, JSON as written, a
// bitVector, times with milliseconds.
func fullMemory() store.Memory {
	return store.Memory{
		Scope: store.ScopeAgent, AgentID: 42, Type: store.MemoryEpisode, Content: "Ada prefers tea — not coffee.\n",
		Title: "Morning", Source: "chat:7", Category: "habits", DocumentID: "doc-1", ChunkIndex: 3,
		Importance: 0.123456789012345, Tags: []string{"drinks", "é", ""},
		Metadata: json.RawMessage(`{ "b" : [1, 2.50], "a": "é" }`), Embedder: "local-ngram-384",
		Vector: bitVector(384), CreatedAt: minutes(1).Add(123 * time.Millisecond),
		LastAccessedAt: minutes(2).Add(456 * time.Millisecond), AccessCount: 7,
	}
}

func testMemoryRoundTrip(t *testing.T, s store.Store) {
	full := fullMemory()
	bare := store.Memory{Scope: store.ScopeKnowledge, Type: store.MemoryKnowledge, CreatedAt: minutes(3)}
	created := createMemories(t, s, full, bare)
	wantMemory(t, "every field set", s, created[0])
	wantMemory(t, "zero values", s, created[1])
	_, err := s.MemoryGet(t.Context(), created[1].ID+1000)
	wantCode(t, "MemoryGet of a missing id", err, gathering.ENOTFOUND)
	for _, none := range [][]store.Memory{nil, {}} {
		if got, err := s.MemoryCreate(t.Context(), none); err != nil || len(got) != 0 {
			t.Errorf("MemoryCreate(%#v) = %v, %v; want nothing", none, got, err)
		}
	}
}

func testMemoryCreateRefuses(t *testing.T, s store.Store) {
	badType, badScope, badMetadata := memoryAt(1, 1), memoryAt(1, 2), memoryAt(1, 3)
	badType.Type, badScope.Scope, badMetadata.Metadata = "rumor", "team", json.RawMessage(`{"open":`)
	for _, bad := range []store.Memory{badType, badScope, badMetadata} {
		_, err := s.MemoryCreate(t.Context(), []store.Memory{memoryAt(1, 0), bad, memoryAt(1, 4)})
		wantCode(t, fmt.Sprintf("MemoryCreate with %s", showMemory(bad)), err, gathering.EINVALID)
	}
	if _, total, err := s.MemoryList(t.Context(), store.MemoryFilter{}, store.Page{}); err != nil || total != 0 {
		t.Errorf("after refused creations: total %d, %v; want 0 (nothing of a refused batch)", total, err)
	}
	createMemories(t, s, memoryAt(1, 5))
}

// memoryFixture stores six entries of agents 1 and 2 and the knowledge
// base, created out of id order (minutes 3, 0, 5, 1, 4, 2).
func memoryFixture(t *testing.T, s store.Store) []store.Memory {
	t.Helper()
	ms := []store.Memory{memoryAt(1, 3), memoryAt(1, 0), memoryAt(2, 5), memoryAt(0, 1), memoryAt(0, 4), memoryAt(0, 2)}
	ms[1].Type, ms[1].Category = store.MemoryPreference, "habits"
	ms[2].Category, ms[2].Embedder, ms[2].Vector = "habits", "other-8", []float32{1, 2, 3, 4, 5, 6, 7, 8}
	ms[3].Type, ms[3].DocumentID, ms[3].Category, ms[3].Title = store.MemoryDocument, "doc-1", "manuals", "Manual"
	ms[4].Type, ms[4].DocumentID, ms[4].ChunkIndex, ms[4].Title = store.MemoryDocument, "doc-1", 1, "Manual"
	ms[5].Category = "manuals"
	return createMemories(t, s, ms...)
}

// memoryFilterCases are filters on memoryFixture and the indexes of the
// entries each matches, newest first.
var memoryFilterCases = []struct {
	filter store.MemoryFilter
	want   []int
}{
	{store.MemoryFilter{}, []int{2, 4, 0, 5, 3, 1}},
	{store.MemoryFilter{Scope: store.ScopeAgent}, []int{2, 0, 1}},
	{store.MemoryFilter{Scope: store.ScopeKnowledge}, []int{4, 5, 3}},
	{store.MemoryFilter{AgentID: 1}, []int{0, 1}},
	{store.MemoryFilter{Scope: store.ScopeAgent, AgentID: 2}, []int{2}},
	{store.MemoryFilter{Scope: store.ScopeKnowledge, AgentID: 1}, []int{}},
	{store.MemoryFilter{Type: store.MemoryFact}, []int{2, 0}},
	{store.MemoryFilter{Type: store.MemoryDocument}, []int{4, 3}},
	{store.MemoryFilter{Category: "habits"}, []int{2, 1}},
	{store.MemoryFilter{Category: "manuals", Scope: store.ScopeKnowledge}, []int{5, 3}},
	{store.MemoryFilter{DocumentID: "doc-1"}, []int{4, 3}},
	{store.MemoryFilter{DocumentID: "doc-2"}, []int{}},
	{store.MemoryFilter{Embedder: "other-8"}, []int{2}},
	{store.MemoryFilter{Embedder: "test-4", Category: "habits"}, []int{1}},
}

// pick returns the entries of ms at the indexes.
func pick(ms []store.Memory, indexes []int) []store.Memory {
	out := []store.Memory{}
	for _, i := range indexes {
		out = append(out, ms[i])
	}
	return out
}

func testMemoryList(t *testing.T, s store.Store) {
	all := memoryFixture(t, s)
	for _, c := range memoryFilterCases {
		list, total, err := s.MemoryList(t.Context(), c.filter, store.Page{})
		want := memoryIDs(pick(all, c.want))
		if got := memoryIDs(list); err != nil || total != len(want) || !slices.Equal(got, want) {
			t.Errorf("MemoryList(%+v) = %v, total %d, %v; want %v, total %d", c.filter, got, total, err, want, len(want))
		}
	}
	list, _, err := s.MemoryList(t.Context(), store.MemoryFilter{}, store.Page{})
	if err != nil || len(list) != len(all) {
		t.Fatalf("MemoryList = %d entries, %v", len(list), err)
	}
	for i, m := range list {
		want := all[[]int{2, 4, 0, 5, 3, 1}[i]]
		if want.Vector = nil; !sameMemory(m, want) {
			t.Errorf("MemoryList entry %d = %s; want %s, without its vector", i, showMemory(m), showMemory(want))
		}
	}
}

func testMemoryListPaging(t *testing.T, s store.Store) {
	var ms []store.Memory
	for i := range 60 {
		ms = append(ms, memoryAt(1, i/2)) // pairs share a creation time: the id breaks the tie, descending
	}
	want := memoryIDs(createMemories(t, s, ms...))
	slices.Reverse(want)
	cases := []struct {
		page store.Page
		want []int64
	}{
		{store.Page{}, want[:50]},
		{store.Page{Limit: -1}, want[:50]},
		{store.Page{Limit: 3}, want[:3]},
		{store.Page{Limit: 3, Offset: 3}, want[3:6]},
		{store.Page{Limit: 10, Offset: 55}, want[55:]},
		{store.Page{Limit: 1000}, want},
		{store.Page{Limit: 5, Offset: -4}, want[:5]},
		{store.Page{Offset: 60}, []int64{}},
	}
	for _, c := range cases {
		list, total, err := s.MemoryList(t.Context(), store.MemoryFilter{AgentID: 1}, c.page)
		if got := memoryIDs(list); err != nil || total != 60 || !slices.Equal(got, c.want) {
			t.Errorf("MemoryList(%+v) = %v, total %d, %v; want %v, total 60", c.page, got, total, err, c.want)
		}
	}
}

func testMemoryScan(t *testing.T, s store.Store) {
	all := memoryFixture(t, s)
	for _, c := range memoryFilterCases {
		want := memoryIDs(pick(all, c.want))
		slices.Sort(want)
		if got := scanIDs(t, s, c.filter, all); !slices.Equal(got, want) {
			t.Errorf("MemoryScan(%+v) saw %v; want %v, by id", c.filter, got, want)
		}
	}
}

// testMemoryScanBatches scans more entries than one batch holds, with and
// without filters (600 of agent 2; exactly 500 facts), while fn itself
// reads and writes the store.
func testMemoryScanBatches(t *testing.T, s store.Store) {
	ms := make([]store.Memory, 1200)
	for i := range ms {
		ms[i] = memoryAt(int64(1+i%2), 0)
		ms[i].Vector = []float32{float32(i)}
		if i >= 500 {
			ms[i].Type = store.MemoryEpisode
		}
	}
	all := createMemories(t, s, ms...)
	scanUsingStore(t, s, len(all))
	list, _, err := s.MemoryList(t.Context(), store.MemoryFilter{}, store.Page{Limit: 2000})
	if err != nil || len(list) != len(all) {
		t.Fatalf("MemoryList = %d entries, %v", len(list), err)
	}
	all = withTouches(all, list)
	ids := memoryIDs(all)
	if got := scanIDs(t, s, store.MemoryFilter{Type: store.MemoryFact}, all); !slices.Equal(got, ids[:500]) {
		t.Errorf("MemoryScan of the 500 facts saw %d entries, want 500 by id", len(got))
	}
	var agent2 []int64
	for i := 1; i < len(ids); i += 2 {
		agent2 = append(agent2, ids[i])
	}
	if got := scanIDs(t, s, store.MemoryFilter{AgentID: 2}, all); !slices.Equal(got, agent2) {
		t.Errorf("MemoryScan of agent 2 saw %d entries, want %d by id", len(got), len(agent2))
	}
}

// scanUsingStore scans every entry, in id order, and every 100th call
// reads the entry back and touches it from fn.
func scanUsingStore(t *testing.T, s store.Store, want int) {
	t.Helper()
	calls, last := 0, int64(0)
	err := s.MemoryScan(t.Context(), store.MemoryFilter{}, func(m store.Memory) error {
		if m.ID <= last {
			t.Errorf("MemoryScan saw id %d after %d, want increasing ids", m.ID, last)
		}
		if calls, last = calls+1, m.ID; calls%100 == 0 {
			wantMemory(t, "during a scan", s, m)
			return s.MemoryTouch(t.Context(), []int64{m.ID}, minutes(9))
		}
		return nil
	})
	if err != nil || calls != want {
		t.Fatalf("MemoryScan with MemoryGet and MemoryTouch in fn: %d calls, %v; want %d", calls, err, want)
	}
}

// withTouches returns created with the access fields of listed, as
// touches during a scan changed them.
func withTouches(created, listed []store.Memory) []store.Memory {
	now := map[int64]store.Memory{}
	for _, m := range listed {
		now[m.ID] = m
	}
	out := slices.Clone(created)
	for i, m := range out {
		out[i].AccessCount, out[i].LastAccessedAt = now[m.ID].AccessCount, now[m.ID].LastAccessedAt
	}
	return out
}

func testMemoryScanStops(t *testing.T, s store.Store) {
	createMemories(t, s, memoryAt(1, 1), memoryAt(1, 2), memoryAt(1, 3), memoryAt(1, 4))
	stop := errors.New("enough")
	calls := 0
	err := s.MemoryScan(t.Context(), store.MemoryFilter{}, func(store.Memory) error {
		if calls++; calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 2 {
		t.Errorf("MemoryScan whose fn fails on the second entry: %d calls, %v; want 2 calls and %v", calls, err, stop)
	}
	err = s.MemoryScan(t.Context(), store.MemoryFilter{AgentID: 9}, func(m store.Memory) error {
		return fmt.Errorf("called for %d, which does not match", m.ID)
	})
	if err != nil {
		t.Errorf("MemoryScan matching nothing: %v", err)
	}
}

// vectorOf is what MemoryScanVectors reads of m.
func vectorOf(m store.Memory) store.MemoryVector {
	return store.MemoryVector{ID: m.ID, Vector: m.Vector, Importance: m.Importance, CreatedAt: m.CreatedAt,
		LastAccessedAt: m.LastAccessedAt}
}

// sameVector reports whether a and b are equal, their vectors bit for bit.
func sameVector(a, b store.MemoryVector) bool {
	asMemory := func(v store.MemoryVector) store.Memory {
		return store.Memory{ID: v.ID, Vector: v.Vector, Importance: v.Importance, CreatedAt: v.CreatedAt,
			LastAccessedAt: v.LastAccessedAt}
	}
	return sameMemory(asMemory(a), asMemory(b))
}

// vectorIDs lists the ids of ranking inputs, in order.
func vectorIDs(vs []store.MemoryVector) []int64 {
	ids := []int64{}
	for _, v := range vs {
		ids = append(ids, v.ID)
	}
	return ids
}

// wantScanVectors checks that MemoryScanVectors of f sees the entries of
// the ids want, in that order, and of each exactly what MemoryScan of f
// sees of it: id, vector bit for bit, importance and times.
func wantScanVectors(t *testing.T, s store.Store, f store.MemoryFilter, want []int64) {
	t.Helper()
	var scanned []store.Memory
	if err := s.MemoryScan(t.Context(), f, func(m store.Memory) error {
		scanned = append(scanned, m)
		return nil
	}); err != nil {
		t.Fatalf("MemoryScan(%+v): %v", f, err)
	}
	var got []store.MemoryVector
	if err := s.MemoryScanVectors(t.Context(), f, func(v store.MemoryVector) error {
		got = append(got, v)
		return nil
	}); err != nil {
		t.Fatalf("MemoryScanVectors(%+v): %v", f, err)
	}
	if ids := vectorIDs(got); !slices.Equal(ids, want) || !slices.Equal(memoryIDs(scanned), want) {
		t.Errorf("MemoryScanVectors(%+v) saw %d entries %v, MemoryScan %d; want %d by id: %v",
			f, len(ids), ids[:min(len(ids), 8)], len(scanned), len(want), want[:min(len(want), 8)])
		return
	}
	for i, v := range got {
		if w := vectorOf(scanned[i]); !sameVector(v, w) {
			t.Errorf("MemoryScanVectors(%+v) saw %+v;\nMemoryScan saw %+v", f, v, w)
		}
	}
}

// testMemoryScanVectors checks MemoryScanVectors against MemoryScan on
// every filter case, some entries accessed, some never.
func testMemoryScanVectors(t *testing.T, s store.Store) {
	all := memoryFixture(t, s)
	touched := []int64{all[1].ID, all[4].ID}
	if err := s.MemoryTouch(t.Context(), touched, minutes(9).Add(7*time.Millisecond)); err != nil {
		t.Fatalf("MemoryTouch: %v", err)
	}
	for _, c := range memoryFilterCases {
		want := memoryIDs(pick(all, c.want))
		slices.Sort(want)
		wantScanVectors(t, s, c.filter, want)
	}
}

// testMemoryScanVectorsBatches scans more entries than one batch holds
// (1,200, of varied vectors, importance and times), with and without
// filters, checks the scan against MemoryScan, and that fn may use the
// store and stop the scan.
func testMemoryScanVectorsBatches(t *testing.T, s store.Store) {
	ms := make([]store.Memory, 1200)
	for i := range ms {
		ms[i] = memoryAt(int64(1+i%2), i%50)
		ms[i].Vector = append(bitVector(6), float32(i), float32(i)/3)
		ms[i].Importance = float64(i) / 7
		ms[i].CreatedAt = ms[i].CreatedAt.Add(time.Duration(i) * time.Millisecond)
		if i%3 == 0 {
			ms[i].LastAccessedAt, ms[i].AccessCount = minutes(100+i), 1
		}
		if i >= 500 {
			ms[i].Type = store.MemoryEpisode
		}
	}
	ids := memoryIDs(createMemories(t, s, ms...))
	var agent2, episodes1 []int64
	for i, id := range ids {
		if i%2 == 1 {
			agent2 = append(agent2, id)
		} else if i >= 500 {
			episodes1 = append(episodes1, id)
		}
	}
	wantScanVectors(t, s, store.MemoryFilter{}, ids)
	wantScanVectors(t, s, store.MemoryFilter{Type: store.MemoryFact}, ids[:500])
	wantScanVectors(t, s, store.MemoryFilter{AgentID: 2}, agent2)
	wantScanVectors(t, s, store.MemoryFilter{Scope: store.ScopeAgent, AgentID: 1, Type: store.MemoryEpisode}, episodes1)
	wantScanVectors(t, s, store.MemoryFilter{Embedder: "other-8"}, []int64{})

	calls, last := 0, int64(0)
	err := s.MemoryScanVectors(t.Context(), store.MemoryFilter{}, func(v store.MemoryVector) error {
		if v.ID <= last {
			t.Errorf("MemoryScanVectors saw id %d after %d, want increasing ids", v.ID, last)
		}
		if calls, last = calls+1, v.ID; calls%100 == 0 {
			if got, err := s.MemoryGetMany(t.Context(), []int64{v.ID}); err != nil || len(got) != 1 {
				return fmt.Errorf("MemoryGetMany(%d) during a scan: %d entries, %v", v.ID, len(got), err)
			}
			return s.MemoryTouch(t.Context(), []int64{v.ID}, minutes(9))
		}
		return nil
	})
	if err != nil || calls != len(ids) {
		t.Fatalf("MemoryScanVectors with MemoryGetMany and MemoryTouch in fn: %d calls, %v; want %d", calls, err, len(ids))
	}
	stop := errors.New("enough")
	calls = 0
	err = s.MemoryScanVectors(t.Context(), store.MemoryFilter{}, func(store.MemoryVector) error {
		if calls++; calls == 501 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 501 {
		t.Errorf("MemoryScanVectors whose fn fails on the 501st entry: %d calls, %v; want 501 calls and %v", calls, err, stop)
	}
}

// testMemoryGetMany reads entries in the order asked, every field but the
// vector, leaving out missing and deleted ids.
func testMemoryGetMany(t *testing.T, s store.Store) {
	c := createMemories(t, s, fullMemory(), memoryAt(1, 1), memoryAt(0, 2), memoryAt(2, 3))
	if err := s.MemoryDelete(t.Context(), c[1].ID); err != nil {
		t.Fatalf("MemoryDelete: %v", err)
	}
	for i := range c {
		c[i].Vector = nil
	}
	cases := []struct {
		ids  []int64
		want []store.Memory
	}{
		{[]int64{c[3].ID, c[0].ID, c[3].ID + 100, c[1].ID, c[2].ID}, []store.Memory{c[3], c[0], c[2]}},
		{[]int64{c[2].ID, c[0].ID, c[2].ID}, []store.Memory{c[2], c[0], c[2]}},
		{[]int64{c[0].ID}, []store.Memory{c[0]}},
		{[]int64{c[1].ID, c[3].ID + 100}, nil},
		{[]int64{}, nil},
		{nil, nil},
	}
	for _, tc := range cases {
		got, err := s.MemoryGetMany(t.Context(), tc.ids)
		if err != nil || !slices.Equal(memoryIDs(got), memoryIDs(tc.want)) {
			t.Errorf("MemoryGetMany(%v) = %v, %v; want %v", tc.ids, memoryIDs(got), err, memoryIDs(tc.want))
			continue
		}
		for i, m := range got {
			if !sameMemory(m, tc.want[i]) {
				t.Errorf("MemoryGetMany(%v) entry %d = %s;\nwant %s, without its vector", tc.ids, i, showMemory(m), showMemory(tc.want[i]))
			}
		}
	}
}

func testMemoryTouch(t *testing.T, s store.Store) {
	a, b, c := memoryAt(1, 1), memoryAt(1, 2), memoryAt(0, 3)
	c.AccessCount, c.LastAccessedAt = 5, minutes(4)
	created := createMemories(t, s, a, b, c)
	a, b, c = created[0], created[1], created[2]
	if err := s.MemoryTouch(t.Context(), []int64{a.ID, c.ID, c.ID + 100}, minutes(10)); err != nil {
		t.Fatalf("MemoryTouch: %v", err)
	}
	a.AccessCount, a.LastAccessedAt, c.AccessCount, c.LastAccessedAt = 1, minutes(10), 6, minutes(10)
	for _, m := range []store.Memory{a, b, c} {
		wantMemory(t, "after a touch", s, m)
	}
	at := minutes(11).Add(7 * time.Millisecond)
	if err := s.MemoryTouch(t.Context(), []int64{a.ID}, at); err != nil {
		t.Fatalf("second MemoryTouch: %v", err)
	}
	a.AccessCount, a.LastAccessedAt = 2, at
	wantMemory(t, "after a second touch", s, a)
	for _, ids := range [][]int64{nil, {}} {
		if err := s.MemoryTouch(t.Context(), ids, minutes(12)); err != nil {
			t.Errorf("MemoryTouch(%#v): %v", ids, err)
		}
	}
	wantMemory(t, "after an empty touch", s, a)
}

func testMemorySetVector(t *testing.T, s store.Store) {
	a, b := memoryAt(1, 1), memoryAt(1, 2)
	a.Vector, a.Embedder = bitVector(384), "local-ngram-384"
	created := createMemories(t, s, a, b)
	a, b = created[0], created[1]
	a.Embedder, a.Vector = "openai:text-embedding-3-small", []float32{0.5, -0.25, 3, 1e-7, 0, 2, -8, 1.5}
	if err := s.MemorySetVector(t.Context(), a.ID, a.Embedder, a.Vector); err != nil {
		t.Fatalf("MemorySetVector: %v", err)
	}
	wantMemory(t, "after MemorySetVector", s, a)
	wantMemory(t, "another entry after MemorySetVector", s, b)
	list, _, err := s.MemoryList(t.Context(), store.MemoryFilter{Embedder: a.Embedder}, store.Page{})
	if got := memoryIDs(list); err != nil || !slices.Equal(got, []int64{a.ID}) {
		t.Errorf("MemoryList by the new embedder = %v, %v; want [%d]", got, err, a.ID)
	}
	err = s.MemorySetVector(t.Context(), b.ID+100, "x", []float32{1})
	wantCode(t, "MemorySetVector of a missing id", err, gathering.ENOTFOUND)
}

func testMemoryStats(t *testing.T, s store.Store) {
	memoryFixture(t, s)
	cases := []struct {
		filter store.MemoryFilter
		want   store.MemoryStats
	}{
		{store.MemoryFilter{}, store.MemoryStats{Total: 6,
			ByType: map[store.MemoryType]int{
				store.MemoryFact: 2, store.MemoryPreference: 1, store.MemoryDocument: 2, store.MemoryKnowledge: 1},
			ByEmbedder: map[string]int{"test-4": 5, "other-8": 1}}},
		{store.MemoryFilter{Scope: store.ScopeKnowledge}, store.MemoryStats{Total: 3,
			ByType:     map[store.MemoryType]int{store.MemoryDocument: 2, store.MemoryKnowledge: 1},
			ByEmbedder: map[string]int{"test-4": 3}}},
		{store.MemoryFilter{Category: "habits"}, store.MemoryStats{Total: 2,
			ByType:     map[store.MemoryType]int{store.MemoryFact: 1, store.MemoryPreference: 1},
			ByEmbedder: map[string]int{"test-4": 1, "other-8": 1}}},
		{store.MemoryFilter{AgentID: 99}, store.MemoryStats{
			ByType: map[store.MemoryType]int{}, ByEmbedder: map[string]int{}}},
	}
	for _, c := range cases {
		if got, err := s.MemoryStats(t.Context(), c.filter); err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("MemoryStats(%+v) = %+v, %v; want %+v", c.filter, got, err, c.want)
		}
	}
}

func testMemoryDelete(t *testing.T, s store.Store) {
	created := createMemories(t, s, memoryAt(1, 1), memoryAt(1, 2))
	if err := s.MemoryDelete(t.Context(), created[0].ID); err != nil {
		t.Fatalf("MemoryDelete: %v", err)
	}
	_, err := s.MemoryGet(t.Context(), created[0].ID)
	wantCode(t, "MemoryGet of a deleted entry", err, gathering.ENOTFOUND)
	wantCode(t, "MemoryDelete again", s.MemoryDelete(t.Context(), created[0].ID), gathering.ENOTFOUND)
	wantCode(t, "MemoryDelete of a missing id", s.MemoryDelete(t.Context(), created[1].ID+100), gathering.ENOTFOUND)
	wantMemory(t, "the entry left", s, created[1])
	if _, total, err := s.MemoryList(t.Context(), store.MemoryFilter{}, store.Page{}); err != nil || total != 1 {
		t.Errorf("after a delete: total %d, %v; want 1", total, err)
	}
}

// testMemoryDeleteMatching deletes one agent's entries at once and leaves
// the others; an empty filter is refused.
func testMemoryDeleteMatching(t *testing.T, s store.Store) {
	createMemories(t, s, memoryAt(1, 1), memoryAt(2, 2), memoryAt(1, 3), memoryAt(0, 4))
	_, err := s.MemoryDeleteMatching(t.Context(), store.MemoryFilter{})
	wantCode(t, "MemoryDeleteMatching without a filter", err, gathering.EINVALID)
	n, err := s.MemoryDeleteMatching(t.Context(), store.MemoryFilter{Scope: store.ScopeAgent, AgentID: 1})
	if err != nil || n != 2 {
		t.Fatalf("MemoryDeleteMatching = %d, %v; want 2", n, err)
	}
	if _, total, err := s.MemoryList(t.Context(), store.MemoryFilter{}, store.Page{}); err != nil || total != 2 {
		t.Errorf("after deleting agent 1's: total %d, %v; want 2", total, err)
	}
}

// testMemoryIsolation checks that list, scan and stats agree on what
// belongs to each agent and to the knowledge base, before and after one
// agent's memories are deleted (as the service does when it deletes the
// agent).
func testMemoryIsolation(t *testing.T, s store.Store) {
	all := createMemories(t, s, memoryAt(1, 1), memoryAt(2, 2), memoryAt(0, 3), memoryAt(1, 4), memoryAt(2, 5), memoryAt(0, 6))
	owners := map[string]store.MemoryFilter{
		"agent 1":        {Scope: store.ScopeAgent, AgentID: 1},
		"agent 2":        {Scope: store.ScopeAgent, AgentID: 2},
		"knowledge base": {Scope: store.ScopeKnowledge},
	}
	want := map[string][]int64{
		"agent 1": {all[0].ID, all[3].ID}, "agent 2": {all[1].ID, all[4].ID}, "knowledge base": {all[2].ID, all[5].ID},
	}
	checkOwners(t, s, owners, want, all)
	for _, id := range want["agent 1"] {
		if err := s.MemoryDelete(t.Context(), id); err != nil {
			t.Fatalf("MemoryDelete(%d): %v", id, err)
		}
	}
	want["agent 1"] = []int64{}
	checkOwners(t, s, owners, want, all)
}

// checkOwners checks, for each owner's filter, that scan, list (reversed)
// and stats see exactly the wanted ids.
func checkOwners(t *testing.T, s store.Store, owners map[string]store.MemoryFilter, want map[string][]int64,
	all []store.Memory) {
	t.Helper()
	for owner, f := range owners {
		if got := scanIDs(t, s, f, all); !slices.Equal(got, want[owner]) {
			t.Errorf("MemoryScan of %s saw %v; want %v", owner, got, want[owner])
		}
		list, total, err := s.MemoryList(t.Context(), f, store.Page{})
		got := memoryIDs(list)
		slices.Reverse(got)
		if err != nil || total != len(want[owner]) || !slices.Equal(got, want[owner]) {
			t.Errorf("MemoryList of %s = %v (reversed), total %d, %v; want %v", owner, got, total, err, want[owner])
		}
		if st, err := s.MemoryStats(t.Context(), f); err != nil || st.Total != len(want[owner]) {
			t.Errorf("MemoryStats of %s = %+v, %v; want a total of %d", owner, st, err, len(want[owner]))
		}
	}
}
