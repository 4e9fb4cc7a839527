package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// exercisePipelines runs the PipelineStore part of the suite, each test on
// a fresh migrated store.
func exercisePipelines(t *testing.T, migrated func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"PipelineRoundTrip", testPipelineRoundTrip},
		{"PipelineNameTaken", testPipelineNameTaken},
		{"PipelineUpdate", testPipelineUpdate},
		{"PipelineUpdateStale", testPipelineUpdateStale},
		{"PipelineUpdateRace", testPipelineUpdateRace},
		{"PipelineList", testPipelineList},
		{"PipelineDelete", testPipelineDelete},
		{"PipelineInvalid", testPipelineInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { t.Parallel(); tt.test(t, migrated(t)) })
	}
}

// Definitions no JSON library would write this way: keys out of order and
// repeated, odd spacing and line breaks, escapes (\u, surrogate pairs, \/)
// beside raw UTF-8, numbers in exponent form. JSONB would reorder, dedupe
// and respace them, so they only read back alike when stored verbatim.
const (
	oddNodes = " [ {\"z\":1, \"a\" : {\"y\":\"caf\\u00e9 \\ud83d\\ude00\", \"b\":[ ]},\n\t\"id\":\"n1\"},\r\n" +
		"{\"id\":\"n2\",\"k\":1,\"k\":2,\"n\":1e2,\"m\":-0.50,\"s\":\"a\\/b ✓\"} ]\n"
	oddEdges    = "[{\"to\":\"n2\" ,\"from\":\"n1\"}]"
	oddSettings = "\t{ \"timeout\" : \"5m\",  \"b\":true,\"a\":[null, {}] }\n"
)

// newPipeline creates a pipeline of status named name by user 3, at minute
// n, or fails the test.
func newPipeline(t *testing.T, s store.Store, name string, status store.PipelineStatus, n int) store.Pipeline {
	t.Helper()
	p, err := s.PipelineCreate(t.Context(), store.Pipeline{
		Name: name, Description: "About " + name, Status: status, Nodes: json.RawMessage(`[{"id":"a"}]`),
		Edges: json.RawMessage(`[]`), Settings: json.RawMessage(`{}`), CreatedBy: 3, CreatedAt: minutes(n), UpdatedAt: minutes(n),
	})
	if err != nil {
		t.Fatalf("PipelineCreate(%s): %v", name, err)
	}
	return p
}

// shown prints a pipeline with its JSON as text, for failure messages.
type shown store.Pipeline

// String prints the fields of the pipeline, its JSON quoted.
func (p shown) String() string {
	return fmt.Sprintf("{ID:%d Name:%q Description:%q Status:%q Nodes:%q Edges:%q Settings:%q Version:%d CreatedBy:%d "+
		"CreatedAt:%v UpdatedAt:%v}", p.ID, p.Name, p.Description, p.Status, p.Nodes, p.Edges, p.Settings, p.Version,
		p.CreatedBy, p.CreatedAt, p.UpdatedAt)
}

// getPipeline returns a stored pipeline, or fails the test.
func getPipeline(t *testing.T, s store.Store, id int64) store.Pipeline {
	t.Helper()
	p, err := s.PipelineGet(t.Context(), id)
	if err != nil {
		t.Fatalf("PipelineGet(%d): %v", id, err)
	}
	return p
}

func testPipelineRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	full := store.Pipeline{
		Name: "Nightly ✓ build", Description: "Builds, then «reviews».", Status: store.PipelineActive,
		Nodes: json.RawMessage(oddNodes), Edges: json.RawMessage(oddEdges), Settings: json.RawMessage(oddSettings),
		Version: 42, CreatedBy: 7, CreatedAt: minutes(1).Add(123 * time.Millisecond), UpdatedAt: minutes(2),
	}
	got, err := s.PipelineCreate(ctx, full)
	if err != nil {
		t.Fatalf("PipelineCreate: %v", err)
	}
	if got.ID <= 0 {
		t.Fatalf("PipelineCreate returned id %d", got.ID)
	}
	want := full
	want.ID, want.Version = got.ID, 1 // a new pipeline starts at version 1, whatever it was given
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PipelineCreate = %+v; want %+v", shown(got), shown(want))
	}
	read := getPipeline(t, s, got.ID)
	if !reflect.DeepEqual(read, want) {
		t.Errorf("PipelineGet = %+v; want %+v", shown(read), shown(want))
	}
	if string(read.Nodes) != oddNodes || string(read.Edges) != oddEdges || string(read.Settings) != oddSettings {
		t.Errorf("definition did not read back byte for byte:\nnodes    %q\nedges    %q\nsettings %q",
			read.Nodes, read.Edges, read.Settings)
	}
	if read.CreatedAt.Location() != time.UTC || read.UpdatedAt.Location() != time.UTC {
		t.Errorf("times %v, %v are not in UTC", read.CreatedAt, read.UpdatedAt)
	}
	anonymous, err := s.PipelineCreate(ctx, store.Pipeline{Name: "nobody's", Status: store.PipelinePaused,
		Nodes: json.RawMessage(`[]`), Edges: json.RawMessage(`[]`), Settings: json.RawMessage(`{}`),
		CreatedAt: minutes(4), UpdatedAt: minutes(4)})
	if err != nil || anonymous.CreatedBy != 0 || anonymous.Description != "" {
		t.Errorf("PipelineCreate without a creator = %+v, %v; want CreatedBy 0", shown(anonymous), err)
	}
	if read := getPipeline(t, s, anonymous.ID); !reflect.DeepEqual(read, anonymous) {
		t.Errorf("PipelineGet = %+v; want %+v", shown(read), shown(anonymous))
	}
	_, err = s.PipelineGet(ctx, anonymous.ID+100)
	wantCode(t, "PipelineGet of a missing pipeline", err, gathering.ENOTFOUND)
}

func testPipelineNameTaken(t *testing.T, s store.Store) {
	ctx := t.Context()
	alpha := newPipeline(t, s, "alpha", store.PipelineDraft, 1)
	_, err := s.PipelineCreate(ctx, store.Pipeline{Name: "alpha", Status: store.PipelineActive,
		Nodes: json.RawMessage(`[]`), Edges: json.RawMessage(`[]`), Settings: json.RawMessage(`{}`),
		CreatedAt: minutes(2), UpdatedAt: minutes(2)})
	wantCode(t, "PipelineCreate with a taken name", err, gathering.ECONFLICT)
	beta := newPipeline(t, s, "beta", store.PipelineDraft, 3)
	renamed := beta
	renamed.Name, renamed.UpdatedAt = "alpha", minutes(4)
	_, err = s.PipelineUpdate(ctx, renamed)
	wantCode(t, "PipelineUpdate to a taken name", err, gathering.ECONFLICT)
	if got := getPipeline(t, s, beta.ID); !reflect.DeepEqual(got, beta) {
		t.Errorf("after a refused rename, PipelineGet = %+v; want %+v", shown(got), shown(beta))
	}
	if got := getPipeline(t, s, alpha.ID); !reflect.DeepEqual(got, alpha) {
		t.Errorf("PipelineGet(alpha) = %+v; want %+v", shown(got), shown(alpha))
	}
	if list, total, err := s.PipelineList(ctx, "", store.Page{}); err != nil || total != 2 || len(list) != 2 {
		t.Errorf("PipelineList = %d pipelines, total %d, %v; want 2", len(list), total, err)
	}
}

func testPipelineUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	created := newPipeline(t, s, "build", store.PipelineDraft, 1)
	change := store.Pipeline{
		ID: created.ID, Name: "build and test", Description: "Now with tests.", Status: store.PipelineActive,
		Nodes: json.RawMessage(oddNodes), Edges: json.RawMessage(oddEdges), Settings: json.RawMessage(oddSettings),
		Version: created.Version, CreatedBy: 99, CreatedAt: minutes(50), UpdatedAt: minutes(5).Add(7 * time.Millisecond),
	}
	got, err := s.PipelineUpdate(ctx, change)
	if err != nil {
		t.Fatalf("PipelineUpdate: %v", err)
	}
	want := change
	// The version moves on; the creator and creation time are not editable.
	want.Version, want.CreatedBy, want.CreatedAt = created.Version+1, created.CreatedBy, created.CreatedAt
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PipelineUpdate = %+v; want %+v", shown(got), shown(want))
	}
	if read := getPipeline(t, s, created.ID); !reflect.DeepEqual(read, want) {
		t.Errorf("PipelineGet after PipelineUpdate = %+v; want %+v", shown(read), shown(want))
	}
	again := got
	again.Status, again.UpdatedAt = store.PipelinePaused, minutes(6)
	if got, err := s.PipelineUpdate(ctx, again); err != nil || got.Version != 3 || got.Status != store.PipelinePaused {
		t.Errorf("second PipelineUpdate = %+v, %v; want version 3, paused", shown(got), err)
	}
	missing := want
	missing.ID = created.ID + 100
	_, err = s.PipelineUpdate(ctx, missing)
	wantCode(t, "PipelineUpdate of a missing pipeline", err, gathering.ENOTFOUND)
}

func testPipelineUpdateStale(t *testing.T, s store.Store) {
	ctx := t.Context()
	created := newPipeline(t, s, "deploy", store.PipelineDraft, 1)
	first := created
	first.Description, first.UpdatedAt = "first writer", minutes(2)
	current, err := s.PipelineUpdate(ctx, first)
	if err != nil || current.Version != 2 {
		t.Fatalf("PipelineUpdate = %+v, %v; want version 2", shown(current), err)
	}
	for _, version := range []int64{created.Version, 0, current.Version + 1} {
		stale := created
		stale.Version, stale.Description, stale.Status, stale.UpdatedAt = version, "late writer", store.PipelineActive, minutes(3)
		_, err := s.PipelineUpdate(ctx, stale)
		wantCode(t, fmt.Sprintf("PipelineUpdate at version %d of a pipeline at version 2", version), err, gathering.ECONFLICT)
	}
	if got := getPipeline(t, s, created.ID); !reflect.DeepEqual(got, current) {
		t.Errorf("after refused stale updates, PipelineGet = %+v; want %+v", shown(got), shown(current))
	}
}

// testPipelineUpdateRace checks that of concurrent updates from the same
// version exactly one wins.
func testPipelineUpdateRace(t *testing.T, s store.Store) {
	created := newPipeline(t, s, "contended", store.PipelineDraft, 1)
	const writers = 10
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			p := created
			p.Description, p.UpdatedAt = fmt.Sprintf("writer %d", i), minutes(2+i)
			_, errs[i] = s.PipelineUpdate(t.Context(), p)
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch code := gathering.ErrorCode(err); {
		case err == nil && winner >= 0:
			t.Errorf("writers %d and %d both updated version %d", winner, i, created.Version)
		case err == nil:
			winner = i
		case code != gathering.ECONFLICT:
			t.Errorf("writer %d: code %q (%v), want %q", i, code, err, gathering.ECONFLICT)
		}
	}
	got := getPipeline(t, s, created.ID)
	if winner < 0 || got.Version != 2 || got.Description != fmt.Sprintf("writer %d", winner) {
		t.Errorf("after the race: %+v, winner %d; want version 2 written by the winner", shown(got), winner)
	}
}

func testPipelineList(t *testing.T, s store.Store) {
	ctx := t.Context()
	statuses := []store.PipelineStatus{store.PipelineActive, store.PipelineDraft, store.PipelineActive,
		store.PipelinePaused, store.PipelineActive, store.PipelineDraft}
	var all, active []int64
	for i, status := range statuses {
		p := newPipeline(t, s, fmt.Sprintf("pipeline-%d", i), status, i)
		all = append(all, p.ID)
		if status == store.PipelineActive {
			active = append(active, p.ID)
		}
	}
	for _, c := range []struct {
		status store.PipelineStatus
		page   store.Page
		want   []int64
		total  int
	}{
		{"", store.Page{}, all, 6},
		{"", store.Page{Limit: 2, Offset: 3}, all[3:5], 6},
		{"", store.Page{Limit: 1}, all[:1], 6},
		{"", store.Page{Offset: 9}, nil, 6},
		{"", store.Page{Offset: -1, Limit: 1000}, all, 6},
		{store.PipelineActive, store.Page{}, active, 3},
		{store.PipelineActive, store.Page{Limit: 1, Offset: 1}, active[1:2], 3},
		{store.PipelinePaused, store.Page{}, all[3:4], 1},
		{store.PipelineDraft, store.Page{Offset: 2}, nil, 2},
	} {
		list, total, err := s.PipelineList(ctx, c.status, c.page)
		var got []int64
		for _, p := range list {
			got = append(got, p.ID)
			if c.status != "" && p.Status != c.status {
				t.Errorf("PipelineList(%q) holds pipeline %d of status %q", c.status, p.ID, p.Status)
			}
		}
		if err != nil || total != c.total || !slices.Equal(got, c.want) {
			t.Errorf("PipelineList(%q, %+v) = %v, total %d, %v; want %v, total %d",
				c.status, c.page, got, total, err, c.want, c.total)
		}
	}
	if list, _, err := s.PipelineList(ctx, "", store.Page{Limit: 1}); err == nil && len(list) == 1 {
		if want := getPipeline(t, s, all[0]); !reflect.DeepEqual(list[0], want) {
			t.Errorf("PipelineList item = %+v; want %+v", shown(list[0]), shown(want))
		}
	}
	_, _, err := s.PipelineList(ctx, "running", store.Page{})
	wantCode(t, "PipelineList of an unknown status", err, gathering.EINVALID)
}

func testPipelineDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	keep := newPipeline(t, s, "keep", store.PipelineActive, 1)
	gone := newPipeline(t, s, "gone", store.PipelineActive, 2)
	if err := s.PipelineDelete(ctx, gone.ID); err != nil {
		t.Fatalf("PipelineDelete: %v", err)
	}
	_, err := s.PipelineGet(ctx, gone.ID)
	wantCode(t, "PipelineGet after PipelineDelete", err, gathering.ENOTFOUND)
	wantCode(t, "second PipelineDelete", s.PipelineDelete(ctx, gone.ID), gathering.ENOTFOUND)
	_, err = s.PipelineUpdate(ctx, gone)
	wantCode(t, "PipelineUpdate of a deleted pipeline", err, gathering.ENOTFOUND)
	if list, total, err := s.PipelineList(ctx, "", store.Page{}); err != nil || total != 1 || len(list) != 1 || list[0].ID != keep.ID {
		t.Errorf("PipelineList after PipelineDelete = %d pipelines, total %d, %v; want only %d", len(list), total, err, keep.ID)
	}
	// The name of a deleted pipeline is free again.
	newPipeline(t, s, "gone", store.PipelineDraft, 3)
}

func testPipelineInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	stored := newPipeline(t, s, "valid", store.PipelineDraft, 1)
	for name, change := range map[string]func(p *store.Pipeline){
		"unknown status":         func(p *store.Pipeline) { p.Status = "running" },
		"empty status":           func(p *store.Pipeline) { p.Status = "" },
		"malformed nodes":        func(p *store.Pipeline) { p.Nodes = json.RawMessage(`[{"id":"a"},]`) },
		"nil nodes":              func(p *store.Pipeline) { p.Nodes = nil },
		"nodes not an array":     func(p *store.Pipeline) { p.Nodes = json.RawMessage(`{"id":"a"}`) },
		"malformed edges":        func(p *store.Pipeline) { p.Edges = json.RawMessage(`[`) },
		"edges not an array":     func(p *store.Pipeline) { p.Edges = json.RawMessage(` "a->b"`) },
		"two values as edges":    func(p *store.Pipeline) { p.Edges = json.RawMessage(`[] []`) },
		"malformed settings":     func(p *store.Pipeline) { p.Settings = json.RawMessage(`{'a': 1}`) },
		"settings not an object": func(p *store.Pipeline) { p.Settings = json.RawMessage(`null`) },
		"empty settings":         func(p *store.Pipeline) { p.Settings = json.RawMessage(``) },
		"invalid UTF-8":          func(p *store.Pipeline) { p.Settings = json.RawMessage("{\"a\":\"\xff\"}") },
	} {
		p := stored
		p.Name, p.UpdatedAt = "changed", minutes(2)
		change(&p)
		_, err := s.PipelineCreate(ctx, p)
		wantCode(t, "PipelineCreate with "+name, err, gathering.EINVALID)
		_, err = s.PipelineUpdate(ctx, p)
		wantCode(t, "PipelineUpdate with "+name, err, gathering.EINVALID)
	}
	if got := getPipeline(t, s, stored.ID); !reflect.DeepEqual(got, stored) {
		t.Errorf("after refused writes, PipelineGet = %+v; want %+v", got, stored)
	}
	if list, total, err := s.PipelineList(ctx, "", store.Page{}); err != nil || total != 1 || len(list) != 1 {
		t.Errorf("after refused creates, PipelineList = %d pipelines, total %d, %v; want 1", len(list), total, err)
	}
}
