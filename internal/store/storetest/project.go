package storetest

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
)

// exerciseProjects runs the ProjectStore part of the suite, each test on a
// fresh migrated store.
func exerciseProjects(t *testing.T, migrated func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		test func(t *testing.T, s store.Store)
	}{
		{"ProjectRoundTrip", testProjectRoundTrip},
		{"ProjectNameTaken", testProjectNameTaken},
		{"ProjectInvalid", testProjectInvalid},
		{"ProjectList", testProjectList},
		{"ProjectUpdate", testProjectUpdate},
		{"ProjectDelete", testProjectDelete},
		{"ProjectAgentLinks", testProjectAgentLinks},
		{"ActivityAdd", testActivityAdd},
		{"ActivityList", testActivityList},
		{"ActivityStats", testActivityStats},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { t.Parallel(); tt.test(t, migrated(t)) })
	}
}

// newProject is an active project named name by user 3, created at minute
// n, with empty settings.
func newProject(name string, n int) store.Project {
	return store.Project{Name: name, Description: "About " + name, Status: store.ProjectActive,
		Settings: json.RawMessage(`{}`), CreatedBy: 3, CreatedAt: minutes(n), UpdatedAt: minutes(n)}
}

// createProject stores p or fails the test.
func createProject(t *testing.T, s store.Store, p store.Project) store.Project {
	t.Helper()
	got, err := s.ProjectCreate(t.Context(), p)
	if err != nil {
		t.Fatalf("ProjectCreate(%s): %v", p.Name, err)
	}
	return got
}

// showProject prints a project with its settings as text.
func showProject(p store.Project) string {
	settings := string(p.Settings)
	p.Settings = nil
	return fmt.Sprintf("%+v Settings:%q", p, settings)
}

// wantProject fails the test unless the stored project equals want, every
// field, byte for byte and with UTC times.
func wantProject(t *testing.T, op string, s store.Store, want store.Project) {
	t.Helper()
	got, err := s.ProjectGet(t.Context(), want.ID)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: ProjectGet = %s, %v;\nwant %s", op, showProject(got), err, showProject(want))
	}
}

func testProjectRoundTrip(t *testing.T, s store.Store) {
	full := store.Project{
		Name: "Gathering ✓ core", Description: "The «core».", RepositoryPath: "/srv/repos/core",
		Status: store.ProjectArchived, Tags: []string{"go", "ü", "backend"}, Settings: json.RawMessage(oddSettings),
		CreatedBy: 7, CreatedAt: minutes(1).Add(123 * time.Millisecond), UpdatedAt: minutes(2), Version: 42,
	}
	got := createProject(t, s, full)
	if got.ID <= 0 {
		t.Fatalf("ProjectCreate returned id %d", got.ID)
	}
	want := full
	want.ID, want.Version = got.ID, 1 // a new project starts at version 1, whatever it was given
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ProjectCreate = %s;\nwant %s", showProject(got), showProject(want))
	}
	wantProject(t, "after ProjectCreate", s, want)
	bare := createProject(t, s, store.Project{Name: "bare", Status: store.ProjectActive,
		Settings: json.RawMessage(`{}`), CreatedAt: minutes(3), UpdatedAt: minutes(3)})
	if bare.CreatedBy != 0 || bare.Tags != nil || bare.RepositoryPath != "" {
		t.Errorf("ProjectCreate without creator or tags = %s", showProject(bare))
	}
	wantProject(t, "bare project", s, bare)
	_, err := s.ProjectGet(t.Context(), bare.ID+100)
	wantCode(t, "ProjectGet of a missing project", err, gathering.ENOTFOUND)
}

func testProjectNameTaken(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := createProject(t, s, newProject("Alpha", 0))
	other := createProject(t, s, newProject("beta", 0))
	for _, name := range []string{"Alpha", "alpha", "ALPHA"} {
		_, err := s.ProjectCreate(ctx, newProject(name, 1))
		wantCode(t, "ProjectCreate of taken name "+name, err, gathering.ECONFLICT)
		renamed := other
		renamed.Name = name
		_, err = s.ProjectUpdate(ctx, renamed)
		wantCode(t, "ProjectUpdate to taken name "+name, err, gathering.ECONFLICT)
	}
	wantProject(t, "after refused renames", s, other)
	first.Name = "ALPHA" // a project may change the case of its own name
	if _, err := s.ProjectUpdate(ctx, first); err != nil {
		t.Errorf("ProjectUpdate of its own name's case: %v", err)
	}
}

func testProjectInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	stored := createProject(t, s, newProject("valid", 0))
	for name, change := range map[string]func(p *store.Project){
		"empty name":         func(p *store.Project) { p.Name = "" },
		"empty status":       func(p *store.Project) { p.Status = "" },
		"unknown status":     func(p *store.Project) { p.Status = "deleted" },
		"nil settings":       func(p *store.Project) { p.Settings = nil },
		"settings array":     func(p *store.Project) { p.Settings = json.RawMessage(`[]`) },
		"settings not JSON":  func(p *store.Project) { p.Settings = json.RawMessage(`{"a":`) },
		"settings bad UTF-8": func(p *store.Project) { p.Settings = json.RawMessage("{\"a\":\"\xff\"}") },
		"tag bad UTF-8":      func(p *store.Project) { p.Tags = []string{"ok", "\xff"} },
	} {
		p := newProject("new", 1)
		change(&p)
		_, err := s.ProjectCreate(ctx, p)
		wantCode(t, "ProjectCreate with "+name, err, gathering.EINVALID)
		u := stored
		change(&u)
		_, err = s.ProjectUpdate(ctx, u)
		wantCode(t, "ProjectUpdate with "+name, err, gathering.EINVALID)
	}
	wantProject(t, "after refused updates", s, stored)
	list, total, err := s.ProjectList(ctx, store.ProjectFilter{}, store.Page{})
	if err != nil || total != 1 || len(list) != 1 {
		t.Errorf("ProjectList after refused creates = %d projects, total %d, %v; want 1", len(list), total, err)
	}
	_, _, err = s.ProjectList(ctx, store.ProjectFilter{Status: "deleted"}, store.Page{})
	wantCode(t, "ProjectList of an unknown status", err, gathering.EINVALID)
}

func testProjectList(t *testing.T, s store.Store) {
	create := func(name, status string, tags ...string) int64 {
		p := newProject(name, 0)
		p.Status, p.Tags = status, tags
		return createProject(t, s, p).ID
	}
	a := create("a", store.ProjectActive, "go", "web")
	b := create("b", store.ProjectArchived, "go")
	c := create("c", store.ProjectActive)
	d := create("d", store.ProjectArchived, "golang", "ü")
	all := []int64{a, b, c, d}
	for _, tc := range []struct {
		filter store.ProjectFilter
		page   store.Page
		want   []int64
		total  int
	}{
		{store.ProjectFilter{}, store.Page{}, all, 4},
		{store.ProjectFilter{}, store.Page{Limit: 2, Offset: 1}, all[1:3], 4},
		{store.ProjectFilter{}, store.Page{Offset: 9}, nil, 4},
		{store.ProjectFilter{}, store.Page{Offset: -1, Limit: 1000}, all, 4},
		{store.ProjectFilter{Status: store.ProjectActive}, store.Page{}, []int64{a, c}, 2},
		{store.ProjectFilter{Status: store.ProjectArchived}, store.Page{Limit: 1}, []int64{b}, 2},
		{store.ProjectFilter{Tag: "go"}, store.Page{}, []int64{a, b}, 2},
		{store.ProjectFilter{Tag: "ü"}, store.Page{}, []int64{d}, 1},
		{store.ProjectFilter{Tag: "g"}, store.Page{}, nil, 0},
		{store.ProjectFilter{Status: store.ProjectArchived, Tag: "go"}, store.Page{}, []int64{b}, 1},
		{store.ProjectFilter{Status: store.ProjectActive, Tag: "golang"}, store.Page{}, nil, 0},
	} {
		list, total, err := s.ProjectList(t.Context(), tc.filter, tc.page)
		var got []int64
		for _, p := range list {
			got = append(got, p.ID)
		}
		if err != nil || total != tc.total || !slices.Equal(got, tc.want) {
			t.Errorf("ProjectList(%+v, %+v) = %v, total %d, %v; want %v, total %d", tc.filter, tc.page, got, total, err,
				tc.want, tc.total)
		}
	}
}

func testProjectUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	stored := createProject(t, s, newProject("core", 0))
	changed := stored
	changed.Name, changed.Description, changed.RepositoryPath = "Core ✓", "New text", "/repos/core"
	changed.Status, changed.Tags, changed.Settings = store.ProjectArchived, []string{"x"}, json.RawMessage(oddSettings)
	changed.UpdatedAt = minutes(5)
	changed.CreatedBy, changed.CreatedAt = 99, minutes(4) // not written by an update
	got, err := s.ProjectUpdate(ctx, changed)
	if err != nil {
		t.Fatalf("ProjectUpdate: %v", err)
	}
	want := changed
	want.CreatedBy, want.CreatedAt, want.Version = stored.CreatedBy, stored.CreatedAt, 2
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ProjectUpdate = %s;\nwant %s", showProject(got), showProject(want))
	}
	wantProject(t, "after ProjectUpdate", s, want)
	stale := changed // still at version 1
	stale.Description = "lost update"
	_, err = s.ProjectUpdate(ctx, stale)
	wantCode(t, "ProjectUpdate at a stale version", err, gathering.ECONFLICT)
	wantProject(t, "after a stale update", s, want)
	missing := want
	missing.ID = want.ID + 100
	_, err = s.ProjectUpdate(ctx, missing)
	wantCode(t, "ProjectUpdate of a missing project", err, gathering.ENOTFOUND)
	want.Tags = nil
	if got, err := s.ProjectUpdate(ctx, want); err != nil || got.Version != 3 || got.Tags != nil {
		t.Errorf("ProjectUpdate clearing tags = %s, %v; want version 3, no tags", showProject(got), err)
	}
}

// addActivity appends a to the log or fails the test.
func addActivity(t *testing.T, s store.Store, a store.Activity) store.Activity {
	t.Helper()
	got, err := s.ActivityAdd(t.Context(), a)
	if err != nil {
		t.Fatalf("ActivityAdd(%s): %v", a.Summary, err)
	}
	return got
}

// linkAgent links agent to project at minute 0 or fails the test.
func linkAgent(t *testing.T, s store.Store, project, agent int64) {
	t.Helper()
	if err := s.ProjectAgentLink(t.Context(), project, agent, minutes(0)); err != nil {
		t.Fatalf("ProjectAgentLink(%d, %d): %v", project, agent, err)
	}
}

// wantIDs fails the test unless got, err are want and no error.
func wantIDs(t *testing.T, op string, got []int64, err error, want ...int64) {
	t.Helper()
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("%s = %v, %v; want %v", op, got, err, want)
	}
}

func testProjectDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	gone := createProject(t, s, newProject("gone", 0))
	kept := createProject(t, s, newProject("kept", 0))
	agent := newAgentWithPersona(t, s, "worker")
	linkAgent(t, s, gone.ID, agent.ID)
	linkAgent(t, s, kept.ID, agent.ID)
	addActivity(t, s, store.Activity{ProjectID: gone.ID, Kind: store.ActivityCommit, Summary: "c1", At: minutes(1)})
	addActivity(t, s, store.Activity{ProjectID: kept.ID, Kind: store.ActivityCommit, Summary: "c2", At: minutes(1)})
	if err := s.ProjectDelete(ctx, gone.ID); err != nil {
		t.Fatalf("ProjectDelete: %v", err)
	}
	_, err := s.ProjectGet(ctx, gone.ID)
	wantCode(t, "ProjectGet after ProjectDelete", err, gathering.ENOTFOUND)
	wantCode(t, "second ProjectDelete", s.ProjectDelete(ctx, gone.ID), gathering.ENOTFOUND)
	ids, err := s.AgentProjects(ctx, agent.ID)
	wantIDs(t, "AgentProjects after ProjectDelete", ids, err, kept.ID)
	ids, err = s.ProjectAgents(ctx, gone.ID)
	wantIDs(t, "ProjectAgents of the deleted project", ids, err)
	for _, p := range []struct {
		id   int64
		want int
	}{{gone.ID, 0}, {kept.ID, 1}} {
		if _, total, err := s.ActivityList(ctx, store.ActivityFilter{ProjectID: p.id}, store.Page{}); err != nil || total != p.want {
			t.Errorf("ActivityList(%d) after ProjectDelete: total %d, %v; want %d", p.id, total, err, p.want)
		}
	}
	if _, err := s.AgentGet(ctx, agent.ID); err != nil {
		t.Errorf("AgentGet after deleting its project: %v", err)
	}
}

func testProjectAgentLinks(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("p", 0))
	q := createProject(t, s, newProject("q", 0))
	a1, a2 := newAgentWithPersona(t, s, "a1"), newAgentWithPersona(t, s, "a2")
	linkAgent(t, s, p.ID, a2.ID)
	linkAgent(t, s, p.ID, a1.ID)
	linkAgent(t, s, p.ID, a1.ID) // linking again is not an error
	linkAgent(t, s, q.ID, a1.ID)
	ids, err := s.ProjectAgents(ctx, p.ID)
	wantIDs(t, "ProjectAgents", ids, err, a1.ID, a2.ID)
	ids, err = s.AgentProjects(ctx, a1.ID)
	wantIDs(t, "AgentProjects", ids, err, p.ID, q.ID)
	wantCode(t, "link to a missing project", s.ProjectAgentLink(ctx, q.ID+100, a1.ID, minutes(1)), gathering.ENOTFOUND)
	wantCode(t, "link of a missing agent", s.ProjectAgentLink(ctx, p.ID, a2.ID+100, minutes(1)), gathering.ENOTFOUND)
	if err := s.ProjectAgentUnlink(ctx, p.ID, a2.ID); err != nil {
		t.Fatalf("ProjectAgentUnlink: %v", err)
	}
	wantCode(t, "second unlink", s.ProjectAgentUnlink(ctx, p.ID, a2.ID), gathering.ENOTFOUND)
	wantCode(t, "unlink of no link", s.ProjectAgentUnlink(ctx, q.ID, a2.ID), gathering.ENOTFOUND)
	ids, err = s.ProjectAgents(ctx, p.ID)
	wantIDs(t, "ProjectAgents after unlink", ids, err, a1.ID)
	if err := s.AgentDelete(ctx, a1.ID); err != nil {
		t.Fatalf("AgentDelete: %v", err)
	}
	for _, project := range []int64{p.ID, q.ID} {
		ids, err = s.ProjectAgents(ctx, project)
		wantIDs(t, fmt.Sprintf("ProjectAgents(%d) after AgentDelete", project), ids, err)
	}
	ids, err = s.AgentProjects(ctx, a1.ID)
	wantIDs(t, "AgentProjects of a deleted agent", ids, err)
}

// showActivity prints an activity with its details as text.
func showActivity(a store.Activity) string {
	details := string(a.Details)
	a.Details = nil
	return fmt.Sprintf("%+v Details:%q", a, details)
}

func testActivityAdd(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := createProject(t, s, newProject("p", 0))
	full := store.Activity{ProjectID: p.ID, Kind: store.ActivityFileEdited, Summary: "Edited «main.go» ✓",
		Path: "cmd/main.go", Details: json.RawMessage(oddSettings), UserID: 4, AgentID: 9,
		At: minutes(1).Add(7 * time.Millisecond)}
	got := addActivity(t, s, full)
	want := full
	want.ID = got.ID
	if got.ID <= 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("ActivityAdd = %s;\nwant %s", showActivity(got), showActivity(want))
	}
	bare := addActivity(t, s, store.Activity{ProjectID: p.ID, Kind: store.ActivityDiscussion, Summary: "talk",
		At: minutes(2)})
	if string(bare.Details) != "{}" || bare.UserID != 0 || bare.AgentID != 0 || bare.Path != "" || bare.ID <= got.ID {
		t.Errorf("ActivityAdd without details = %s; want details {}, no user, agent or path", showActivity(bare))
	}
	list, _, err := s.ActivityList(ctx, store.ActivityFilter{ProjectID: p.ID}, store.Page{})
	if err != nil || !reflect.DeepEqual(list, []store.Activity{bare, want}) {
		t.Errorf("ActivityList = %v, %v; want %s, %s", list, err, showActivity(bare), showActivity(want))
	}
	_, err = s.ActivityAdd(ctx, store.Activity{ProjectID: p.ID + 100, Kind: store.ActivityBuild, Summary: "b"})
	wantCode(t, "ActivityAdd to a missing project", err, gathering.ENOTFOUND)
	for name, a := range map[string]store.Activity{
		"unknown kind":      {Kind: "deploy", Summary: "d"},
		"empty kind":        {Summary: "d"},
		"empty summary":     {Kind: store.ActivityBuild},
		"details array":     {Kind: store.ActivityBuild, Summary: "d", Details: json.RawMessage(`[]`)},
		"details not JSON":  {Kind: store.ActivityBuild, Summary: "d", Details: json.RawMessage(`{`)},
		"details bad UTF-8": {Kind: store.ActivityBuild, Summary: "d", Details: json.RawMessage("{\"a\":\"\xff\"}")},
	} {
		a.ProjectID = p.ID
		_, err := s.ActivityAdd(ctx, a)
		wantCode(t, "ActivityAdd with "+name, err, gathering.EINVALID)
	}
}

// activityFixture fills two projects' logs and returns the first project
// and its activities' ids by summary.
func activityFixture(t *testing.T, s store.Store) (int64, map[string]int64) {
	t.Helper()
	p := createProject(t, s, newProject("p", 0)).ID
	other := createProject(t, s, newProject("other", 0)).ID
	ids := map[string]int64{}
	for _, a := range []store.Activity{
		{Summary: "a", Kind: store.ActivityFileCreated, Path: "x.go", UserID: 1, At: minutes(1)},
		{Summary: "b", Kind: store.ActivityFileEdited, Path: "x.go", AgentID: 5, At: minutes(2)},
		{Summary: "c", Kind: store.ActivityCommit, UserID: 1, AgentID: 5, At: minutes(3)},
		{Summary: "d", Kind: store.ActivityFileEdited, Path: "y.go", UserID: 2, At: minutes(3)},
		{Summary: "e", Kind: store.ActivityTestRun, AgentID: 6, At: minutes(5)},
		{Summary: "f", Kind: store.ActivityFileEdited, Path: "x.go", UserID: 1, At: minutes(0)}, // late, but older
	} {
		a.ProjectID = p
		ids[a.Summary] = addActivity(t, s, a).ID
	}
	addActivity(t, s, store.Activity{ProjectID: other, Kind: store.ActivityFileEdited, Summary: "z", Path: "x.go",
		UserID: 1, AgentID: 5, At: minutes(3)})
	return p, ids
}

func testActivityList(t *testing.T, s store.Store) {
	p, ids := activityFixture(t, s)
	for _, tc := range []struct {
		filter store.ActivityFilter
		page   store.Page
		want   string // summaries, newest first
		total  int
	}{
		{store.ActivityFilter{}, store.Page{}, "edcbaf", 6},
		{store.ActivityFilter{}, store.Page{Limit: 2, Offset: 1}, "dc", 6},
		{store.ActivityFilter{}, store.Page{Offset: 9}, "", 6},
		{store.ActivityFilter{Kind: store.ActivityFileEdited}, store.Page{}, "dbf", 3},
		{store.ActivityFilter{Kind: store.ActivityFileEdited}, store.Page{Limit: 1, Offset: 1}, "b", 3},
		{store.ActivityFilter{UserID: 1}, store.Page{}, "caf", 3},
		{store.ActivityFilter{AgentID: 5}, store.Page{}, "cb", 2},
		{store.ActivityFilter{Path: "x.go"}, store.Page{}, "baf", 3},
		{store.ActivityFilter{Since: minutes(2)}, store.Page{}, "edcb", 4},
		{store.ActivityFilter{Until: minutes(3)}, store.Page{}, "baf", 3},
		{store.ActivityFilter{Since: minutes(1), Until: minutes(5)}, store.Page{}, "dcba", 4},
		{store.ActivityFilter{Kind: store.ActivityFileEdited, UserID: 1, Path: "x.go", Since: minutes(0)},
			store.Page{}, "f", 1},
		{store.ActivityFilter{Kind: store.ActivityBuild}, store.Page{}, "", 0},
	} {
		tc.filter.ProjectID = p
		list, total, err := s.ActivityList(t.Context(), tc.filter, tc.page)
		var got, want []int64
		for _, a := range list {
			got = append(got, a.ID)
		}
		for _, r := range tc.want {
			want = append(want, ids[string(r)])
		}
		if err != nil || total != tc.total || !slices.Equal(got, want) {
			t.Errorf("ActivityList(%+v, %+v) = %v, total %d, %v; want %v (%s), total %d", tc.filter, tc.page, got,
				total, err, want, tc.want, tc.total)
		}
	}
	_, _, err := s.ActivityList(t.Context(), store.ActivityFilter{ProjectID: p, Kind: "deploy"}, store.Page{})
	wantCode(t, "ActivityList of an unknown kind", err, gathering.EINVALID)
	list, total, err := s.ActivityList(t.Context(), store.ActivityFilter{ProjectID: p + 100}, store.Page{})
	if err != nil || total != 0 || len(list) != 0 {
		t.Errorf("ActivityList of a missing project = %v, total %d, %v; want none", list, total, err)
	}
}

func testActivityStats(t *testing.T, s store.Store) {
	p, _ := activityFixture(t, s)
	for _, tc := range []struct {
		filter store.ActivityFilter
		want   map[string]int
	}{
		{store.ActivityFilter{}, map[string]int{store.ActivityFileCreated: 1, store.ActivityFileEdited: 3,
			store.ActivityCommit: 1, store.ActivityTestRun: 1}},
		{store.ActivityFilter{Since: minutes(2), Until: minutes(5)}, map[string]int{store.ActivityFileEdited: 2,
			store.ActivityCommit: 1}},
		// Kind, UserID, AgentID and Path are ignored.
		{store.ActivityFilter{Kind: store.ActivityCommit, UserID: 2, AgentID: 6, Path: "y.go", Until: minutes(1)},
			map[string]int{store.ActivityFileEdited: 1}},
		{store.ActivityFilter{Since: minutes(6)}, map[string]int{}},
	} {
		tc.filter.ProjectID = p
		got, err := s.ActivityStats(t.Context(), tc.filter)
		if err != nil || !maps.Equal(got, tc.want) {
			t.Errorf("ActivityStats(%+v) = %v, %v; want %v", tc.filter, got, err, tc.want)
		}
	}
	if got, err := s.ActivityStats(t.Context(), store.ActivityFilter{ProjectID: p + 100}); err != nil || len(got) != 0 {
		t.Errorf("ActivityStats of a missing project = %v, %v; want none", got, err)
	}
}
