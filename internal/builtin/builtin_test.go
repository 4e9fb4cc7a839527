package builtin

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/tool"
)

func TestToolsOffered(t *testing.T) {
	t.Parallel()
	names := func(o Options) []string {
		var out []string
		for _, tl := range setup(t, o).reg.List() {
			out = append(out, tl.Name)
		}
		return out
	}
	base := []string{"calc.eval", "fs.delete", "fs.list", "fs.move", "fs.read", "fs.search", "fs.write",
		"git.add", "git.branches", "git.commit", "git.diff", "git.log", "git.status"}
	if got := names(Options{}); !slices.Equal(got, base) {
		t.Fatalf("tools %v, want %v", got, base)
	}
	if got := names(Options{ShellPrograms: []string{"echo"}}); !slices.Contains(got, "shell.run") || len(got) != len(base)+1 {
		t.Fatalf("with shell programs: %v", got)
	}
	if got := Tools(Options{}); len(got) != 1 || got[0].Name != "calc.eval" {
		t.Fatalf("without workspaces: %v", got)
	}
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{ShellPrograms: []string{"echo"}})
	want := map[string][]tool.Permission{
		"calc.eval": nil,
		"fs.list":   {tool.PermFSRead}, "fs.read": {tool.PermFSRead}, "fs.search": {tool.PermFSRead},
		"fs.write": {tool.PermFSWrite}, "fs.delete": {tool.PermFSWrite}, "fs.move": {tool.PermFSWrite},
		"git.status": {tool.PermGit}, "git.log": {tool.PermGit}, "git.diff": {tool.PermGit}, "git.branches": {tool.PermGit},
		"git.add": {tool.PermGit, tool.PermFSWrite}, "git.commit": {tool.PermGit, tool.PermFSWrite},
		"shell.run": {tool.PermExec, tool.PermAdmin},
	}
	for _, tl := range b.reg.List() {
		if !slices.Equal(tl.Permissions, want[tl.Name]) {
			t.Errorf("%s permissions %v, want %v", tl.Name, tl.Permissions, want[tl.Name])
		}
		if tl.Dangerous != (tl.Name == "shell.run") || tl.Description == "" || len(tl.Output) == 0 {
			t.Errorf("%s: dangerous %v, description %q, output schema %s", tl.Name, tl.Dangerous, tl.Description, tl.Output)
		}
	}
	viewer, member := tool.UserCaller(gathering.RoleViewer), tool.UserCaller(gathering.RoleMember)
	_, err := b.callAs(viewer, "fs.read", in{"project_id": "p", "path": "a.txt"})
	wantCode(t, "viewer fs.read", err, gathering.EFORBIDDEN)
	_, err = b.callAs(member, "shell.run", in{"project_id": "p", "program": "echo"})
	wantCode(t, "member shell.run", err, gathering.EFORBIDDEN)
	_, err = b.callAs(tool.AgentCaller("calc"), "fs.list", in{"project_id": "p"})
	wantCode(t, "agent without fs", err, gathering.EFORBIDDEN)
	if _, err := b.callAs(tool.AgentCaller("fs"), "fs.list", in{"project_id": "p"}); err != nil {
		t.Fatalf("agent with fs: %v", err)
	}
}

func TestBaseDirRefusesBadIDs(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	bad := []string{"", ".", "..", "../x", "a/b", `a\b`, "a b", "a.b", "é", "a\x00b", "/etc", "~root",
		strings.Repeat("a", 65), "%2e%2e"}
	for _, id := range bad {
		_, err := BaseDir(base).Root(context.Background(), id)
		wantField(t, "Root "+id, err, gathering.EINVALID, "project_id")
	}
	if entries, _ := os.ReadDir(base); len(entries) != 0 {
		t.Fatalf("refused ids created %v", entries)
	}
}

func TestBaseDirCreatesRoot(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	for _, id := range []string{"p1", "Project_2-b", strings.Repeat("z", 64)} {
		root, err := BaseDir(base).Root(context.Background(), id)
		if err != nil || root != filepath.Join(base, id) {
			t.Fatalf("Root(%q) = %q, %v", id, root, err)
		}
		info, err := os.Stat(root)
		if err != nil || !info.IsDir() || info.Mode().Perm() != 0o750 {
			t.Fatalf("root %q: %v, %v", root, info, err)
		}
		if again, err := BaseDir(base).Root(context.Background(), id); err != nil || again != root {
			t.Fatalf("second Root(%q) = %q, %v", id, again, err)
		}
	}
	_, err := BaseDir("").Root(context.Background(), "p")
	wantCode(t, "empty base", err, gathering.EINTERNAL)
}

func TestValidationThroughRegistry(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{ShellPrograms: []string{"echo"}})
	cases := []struct {
		tool  string
		input in
		field string
	}{
		{"fs.read", in{"project_id": "p"}, "/path"},
		{"fs.read", in{"path": "a.txt"}, "/project_id"},
		{"fs.read", in{"project_id": "p", "path": "a.txt", "mode": "raw"}, "/mode"},
		{"fs.write", in{"project_id": "p", "path": "a.txt"}, "/content"},
		{"fs.move", in{"project_id": "p", "from": "a"}, "/to"},
		{"fs.search", in{"project_id": "p", "name": "*.go", "limit": 1001}, "/limit"},
		{"fs.search", in{"project_id": "p"}, ""},
		{"calc.eval", in{"expression": strings.Repeat("1", 1001)}, "/expression"},
		{"calc.eval", in{"expression": "1", "extra": true}, "/extra"},
		{"git.log", in{"project_id": "p", "limit": 201}, "/limit"},
		{"git.add", in{"project_id": "p", "paths": []string{}}, "/paths"},
		{"git.commit", in{"project_id": "p", "message": "m", "author_email": "not an email"}, "/author_email"},
		{"git.commit", in{"project_id": "p", "message": "m", "author_name": "Eve\nSigned-off-by: x"}, "/author_name"},
		{"git.commit", in{"project_id": "p", "message": "m", "author_name": "Eve <e@x>"}, "/author_name"},
		{"git.commit", in{"project_id": "p", "message": " \n\t"}, "/message"},
		{"shell.run", in{"project_id": "p", "program": "echo", "args": make([]string, 101)}, "/args"},
		{"shell.run", in{"project_id": "p", "program": "echo", "stdin": strings.Repeat("x", 1<<20+1)}, "/stdin"},
		{"fs.list", in{"project_id": "../up"}, "/project_id"},
		{"git.status", in{"project_id": "a/b"}, "/project_id"},
	}
	for _, c := range cases {
		_, err := b.call(c.tool, c.input)
		wantField(t, c.tool+" "+c.field, err, gathering.EINVALID, c.field)
	}
	if entries, _ := os.ReadDir(b.base); len(entries) != 0 {
		t.Fatalf("invalid calls created workspaces: %v", entries)
	}
}
