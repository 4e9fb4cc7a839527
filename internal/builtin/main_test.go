package builtin

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"go.uber.org/goleak"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/tool"
)

// TestMain checks that no test leaves a goroutine behind (a process
// whose output is still being copied, for instance).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// bundle is a registry holding Tools over a fresh BaseDir.
type bundle struct {
	reg  *tool.Registry
	base string
}

// setup registers Tools(o) in a new registry; o.Workspaces defaults to a
// BaseDir in a temporary directory.
func setup(t *testing.T, o Options) *bundle {
	t.Helper()
	base := t.TempDir()
	if o.Workspaces == nil {
		o.Workspaces = BaseDir(base)
	}
	reg := tool.NewRegistry()
	for _, tl := range Tools(o) {
		if err := reg.Register(tl); err != nil {
			t.Fatalf("Register(%s): %v", tl.Name, err)
		}
	}
	return &bundle{reg: reg, base: base}
}

// root creates and returns the workspace of project.
func (b *bundle) root(t *testing.T, project string) string {
	t.Helper()
	root, err := BaseDir(b.base).Root(context.Background(), project)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// callAs calls a tool through the registry as caller and decodes its
// output.
func (b *bundle) callAs(caller tool.Caller, name string, input any) (map[string]any, error) {
	raw, err := json.Marshal(input)
	if err != nil {
		return nil, err
	}
	out, err := b.reg.Call(context.Background(), caller, name, raw)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// call calls a tool as an administrator.
func (b *bundle) call(name string, input any) (map[string]any, error) {
	return b.callAs(tool.UserCaller(gathering.RoleAdmin), name, input)
}

// mustCall calls a tool as an administrator and fails the test on error.
func (b *bundle) mustCall(t *testing.T, name string, input any) map[string]any {
	t.Helper()
	out, err := b.call(name, input)
	if err != nil {
		t.Fatalf("%s %v: %v", name, input, err)
	}
	return out
}

type in = map[string]any

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if gathering.ErrorCode(err) != code {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, gathering.ErrorCode(err), code)
	}
}

// wantField checks err's code and that one of its fields is the pointer
// field.
func wantField(t *testing.T, what string, err error, code, field string) {
	t.Helper()
	wantCode(t, what, err, code)
	var fields []string
	for _, f := range gathering.ErrorFields(err) {
		fields = append(fields, f.Field)
	}
	if !slices.Contains(fields, field) {
		t.Errorf("%s: fields %v, want %q (error %v)", what, fields, field, err)
	}
}

func writeFile(t *testing.T, root, p, content string) {
	t.Helper()
	full := filepath.Join(root, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
