package circle

import (
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/background"
	"github.com/gathering/gathering/internal/store"
)

func fakeMember(id int64, load, reviewing int, canReview bool, competencies ...string) store.CircleMemberDetail {
	return store.CircleMemberDetail{CircleMember: store.CircleMember{AgentID: id, Competencies: competencies, CanReview: canReview},
		Workload: load, Reviewing: reviewing}
}

func TestPick(t *testing.T) {
	t.Parallel()
	members := []store.CircleMemberDetail{fakeMember(1, 0, 0, false, "python"), fakeMember(2, 3, 0, false, "Go", "SQL"),
		fakeMember(3, 1, 0, false, "go"), fakeMember(4, 1, 0, false, "go")}
	for _, tc := range []struct {
		required []string
		want     int64
	}{
		{[]string{"go"}, 3},           // 2, 3 and 4 cover it: 3 and 4 are least loaded, 3 has the lower id
		{[]string{"go", "sql"}, 2},    // only 2 covers both, whatever its load
		{[]string{"GO", "python"}, 1}, // each covers one: the least loaded
		{[]string{"rust"}, 1},         // nobody covers it: the least loaded
		{nil, 1},                      // no requirement: the least loaded
	} {
		if got := pick(members, tc.required).AgentID; got != tc.want {
			t.Errorf("pick(%v) = %d, want %d", tc.required, got, tc.want)
		}
	}
}

func TestPickReviewer(t *testing.T) {
	t.Parallel()
	members := []store.CircleMemberDetail{fakeMember(1, 0, 0, false), fakeMember(2, 2, 1, true), fakeMember(3, 1, 1, true), fakeMember(4, 0, 2, true)}
	if got := pickReviewer(members, 9); got != 3 {
		t.Errorf("pickReviewer = %d, want 3 (load 2, lower id than 4)", got)
	}
	if got := pickReviewer(members, 3); got != 4 {
		t.Errorf("pickReviewer for 3's task = %d, want 4", got)
	}
	if got := pickReviewer(members[:1], 9); got != 0 {
		t.Errorf("pickReviewer without reviewers = %d, want 0", got)
	}
	if got := pickReviewer([]store.CircleMemberDetail{fakeMember(5, 0, 0, true)}, 5); got != 0 {
		t.Errorf("pickReviewer when the only reviewer is the assignee = %d, want 0", got)
	}
}

// TestGoal: the goal carries the title, the competencies and the
// feedback, and a long description is cut so that the goal fits the
// background task's limit.
func TestGoal(t *testing.T) {
	t.Parallel()
	task := store.CircleTask{ID: 7, Title: "Parser", RequiredCompetencies: []string{"go", "sql"}, Feedback: "Add tests.",
		Description: strings.Repeat("é", MaxTaskDescription)}
	g := goal("core", task)
	if n := len([]rune(g)); n > background.MaxGoalLength {
		t.Errorf("goal of %d characters, more than %d", n, background.MaxGoalLength)
	}
	for _, want := range []string{`"core"`, "#7", "Title: Parser", "Required competencies: go, sql", "Add tests.", "éé…"} {
		if !strings.Contains(g, want) {
			t.Errorf("goal lacks %q", want)
		}
	}
	short := goal("core", store.CircleTask{ID: 1, Title: "T", Description: "Short."})
	if !strings.Contains(short, "Description:\nShort.\n") || strings.Contains(short, "feedback") || strings.Contains(short, "competencies") {
		t.Errorf("goal %q", short)
	}
}
