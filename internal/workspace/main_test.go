package workspace

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/gathering/gathering/internal/builtin"
	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/store"
	"go.uber.org/goleak"
)

// Service is what the fs and git tools resolve projects with.
var _ builtin.Workspaces = (*Service)(nil)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeProjects is a Projects in memory.
type fakeProjects struct {
	mu       sync.Mutex
	projects map[int64]store.Project
}

func (f *fakeProjects) ProjectGet(_ context.Context, id int64) (store.Project, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.projects[id]
	if !ok {
		return store.Project{}, gathering.Errorf(gathering.ENOTFOUND, "Project %d does not exist.", id)
	}
	return p, nil
}

// bundle is what setup returns.
type bundle struct {
	svc      *Service
	base     string
	projects *fakeProjects
}

// setup returns a Service over an empty workspace base with projects 1 and
// 2, both in their own directories.
func setup(t *testing.T) *bundle {
	t.Helper()
	base := filepath.Join(t.TempDir(), "workspaces")
	fp := &fakeProjects{projects: map[int64]store.Project{
		1: {ID: 1, Name: "one"},
		2: {ID: 2, Name: "two"},
	}}
	return &bundle{svc: New(fp, base), base: base, projects: fp}
}

// add registers a project.
func (b *bundle) add(p store.Project) {
	b.projects.mu.Lock()
	defer b.projects.mu.Unlock()
	b.projects.projects[p.ID] = p
}

// root resolves project id, failing the test on an error.
func (b *bundle) root(t *testing.T, id int64) string {
	t.Helper()
	root, err := b.svc.Root(t.Context(), strconv.FormatInt(id, 10))
	if err != nil {
		t.Fatalf("Root(%d): %v", id, err)
	}
	return root
}

// writeFile writes a file under root, creating its directories.
func writeFile(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// git runs git in dir with a clean configuration.
func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=T", "-c", "user.email=t@example.com"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v: %s", args, err, out)
	}
}

// wantCode fails the test unless err has code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if gathering.ErrorCode(err) != code {
		t.Errorf("%s: error %v, want code %q", what, err, code)
	}
}

// wantField fails the test unless err carries a FieldError on field.
func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	for _, f := range gathering.ErrorFields(err) {
		if f.Field == field && f.Message != "" {
			return
		}
	}
	t.Errorf("%s: error %v has no field %q", what, err, field)
}
