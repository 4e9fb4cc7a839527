package builtin

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/gathering"
)

// gitWorkspace returns a bundle whose project "p" is a fresh repository on
// branch main, and the workspace root.
func gitWorkspace(t *testing.T) (*bundle, string) {
	t.Helper()
	b := setup(t, Options{})
	root := b.root(t, "p")
	gitInit(t, root)
	return b, root
}

// gitInit makes dir a new repository on branch main.
func gitInit(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command("git", "init", "--quiet", "--initial-branch=main", dir)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git init: %v: %s", err, out)
	}
}

func TestGitNotARepository(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	root := b.root(t, "p")
	for _, name := range []string{"git.status", "git.log", "git.diff", "git.branches"} {
		_, err := b.call(name, in{"project_id": "p"})
		wantCode(t, name, err, gathering.EINVALID)
		if !strings.Contains(gathering.ErrorMessage(err), "not a git repository") {
			t.Errorf("%s message %q", name, gathering.ErrorMessage(err))
		}
	}
	// A repository above the workspace is never used.
	gitInit(t, b.base)
	_, err := b.call("git.status", in{"project_id": "p"})
	wantCode(t, "repository above the workspace", err, gathering.EINVALID)
	// A .git that is a file (a gitfile pointing elsewhere) is refused too.
	writeFile(t, root, ".git", "gitdir: "+filepath.Join(b.base, ".git"))
	_, err = b.call("git.status", in{"project_id": "p"})
	wantCode(t, "gitfile", err, gathering.EINVALID)
}

// TestGitIgnoresRepositoryPrograms: hooks, an fsmonitor and a signing
// program configured in the repository never run.
func TestGitIgnoresRepositoryPrograms(t *testing.T) {
	t.Parallel()
	b, root := gitWorkspace(t)
	marker := filepath.Join(t.TempDir(), "ran")
	script := "#!/bin/sh\necho \"$0\" >> " + marker + "\nexit 1\n"
	for _, p := range []string{".git/hooks/pre-commit", ".git/hooks/commit-msg", ".git/hooks/post-commit", "fsmonitor.sh", "gpg.sh"} {
		writeFile(t, root, p, script)
		if err := os.Chmod(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	config := "[core]\n\tfsmonitor = " + filepath.Join(root, "fsmonitor.sh") + "\n" +
		"[commit]\n\tgpgSign = true\n[gpg]\n\tprogram = " + filepath.Join(root, "gpg.sh") + "\n" +
		"[log]\n\tshowSignature = true\n"
	f, err := os.OpenFile(filepath.Join(root, ".git", "config"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(config)
		_ = f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	b.mustCall(t, "fs.write", in{"project_id": "p", "path": "a.txt", "content": "a"})
	b.mustCall(t, "git.status", in{"project_id": "p"})
	b.mustCall(t, "git.add", in{"project_id": "p", "paths": []string{"a.txt"}})
	b.mustCall(t, "git.commit", in{"project_id": "p", "message": "signed?"})
	b.mustCall(t, "git.log", in{"project_id": "p"})
	b.mustCall(t, "git.diff", in{"project_id": "p", "commit": "HEAD"})
	if ran, err := os.ReadFile(marker); !os.IsNotExist(err) {
		t.Fatalf("repository programs ran: %s", ran)
	}
}

func TestGitWorkflow(t *testing.T) {
	t.Parallel()
	b, root := gitWorkspace(t)
	p := func(kv ...any) in {
		m := in{"project_id": "p"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	b.mustCall(t, "fs.write", p("path", "hello.txt", "content", "hello\n"))
	b.mustCall(t, "fs.write", p("path", "docs/read me.md", "content", "# Docs\n"))
	writeFile(t, root, ".env", "SECRET_TOKEN=hunter2")
	writeFile(t, root, "conf/credentials.json", `{"key":"hunter2"}`)

	if out := b.mustCall(t, "git.log", p()); len(out["commits"].([]any)) != 0 {
		t.Fatalf("git.log of a new repository: %v", out)
	}
	out := b.mustCall(t, "git.status", p())
	if out["branch"] != "main" || statusOf(out, "hello.txt") != "untracked/untracked" || statusOf(out, "docs/read me.md") == "" {
		t.Fatalf("git.status before add: %v", out)
	}
	if statusOf(out, ".env") != "" || statusOf(out, "conf/credentials.json") != "" {
		t.Fatalf("git.status shows secret files: %v", out)
	}

	b.mustCall(t, "git.add", p("paths", []string{"."}))
	out = b.mustCall(t, "git.diff", p("staged", true))
	diff := out["diff"].(string)
	if !strings.Contains(diff, "+hello") || !strings.Contains(diff, "+# Docs") || out["truncated"] != false {
		t.Fatalf("git.diff staged: %v", out)
	}
	if strings.Contains(diff, "hunter2") {
		t.Fatalf("a secret file was staged: %s", diff)
	}

	out = b.mustCall(t, "git.commit", p("message", "Add hello\n\nFirst commit.", "author_name", "Ada Lovelace", "author_email", "ada@example.com"))
	hash, _ := out["commit"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(hash) {
		t.Fatalf("git.commit: %v", out)
	}
	out = b.mustCall(t, "git.log", p())
	commits := out["commits"].([]any)
	first := commits[0].(map[string]any)
	if len(commits) != 1 || first["commit"] != hash || first["author_name"] != "Ada Lovelace" ||
		first["author_email"] != "ada@example.com" || first["subject"] != "Add hello" || first["date"] == "" {
		t.Fatalf("git.log: %v", out)
	}
	if out := b.mustCall(t, "git.log", p("path", "docs", "limit", 5)); len(out["commits"].([]any)) != 1 {
		t.Fatalf("git.log path: %v", out)
	}
	if out := b.mustCall(t, "git.log", p("path", "nowhere")); len(out["commits"].([]any)) != 0 {
		t.Fatalf("git.log other path: %v", out)
	}
	_, err := b.call("git.commit", p("message", "again"))
	wantCode(t, "commit with nothing staged", err, gathering.ECONFLICT)

	b.mustCall(t, "fs.write", p("path", "hello.txt", "content", "hello, world\n"))
	out = b.mustCall(t, "git.status", p())
	if statusOf(out, "hello.txt") != "unmodified/modified" || len(out["entries"].([]any)) != 1 {
		t.Fatalf("git.status after a change: %v", out)
	}
	for _, input := range []in{p(), p("path", "hello.txt"), p("commit", "HEAD"), p("commit", hash[:12]), p("commit", "main")} {
		out = b.mustCall(t, "git.diff", input)
		if d := out["diff"].(string); !strings.Contains(d, "-hello\n") || !strings.Contains(d, "+hello, world\n") {
			t.Fatalf("git.diff %v: %v", input, out)
		}
	}
	if out := b.mustCall(t, "git.diff", p("path", "docs")); out["diff"] != "" {
		t.Fatalf("git.diff of an unchanged path: %v", out)
	}

	out = b.mustCall(t, "git.branches", p())
	branches := out["branches"].([]any)
	if out["current"] != "main" || len(branches) != 1 || branches[0].(map[string]any)["commit"] != hash {
		t.Fatalf("git.branches: %v", out)
	}
}

// statusOf returns "index/worktree" for path in a git.status output, or ""
// when it is not listed.
func statusOf(out map[string]any, path string) string {
	for _, e := range out["entries"].([]any) {
		if m := e.(map[string]any); m["path"] == path {
			return m["index"].(string) + "/" + m["worktree"].(string)
		}
	}
	return ""
}

func TestGitRefusesOptionsAndBadPaths(t *testing.T) {
	t.Parallel()
	b, root := gitWorkspace(t)
	target := filepath.Join(t.TempDir(), "x")
	writeFile(t, root, "ok.txt", "ok")
	cases := []struct {
		tool  string
		input in
		code  string
		field string
	}{
		{"git.diff", in{"path": "--output=" + target}, gathering.EINVALID, "/path"},
		{"git.diff", in{"path": "-p"}, gathering.EINVALID, "/path"},
		{"git.diff", in{"commit": "--output=" + target}, gathering.EINVALID, "/commit"},
		{"git.diff", in{"commit": "-x"}, gathering.EINVALID, "/commit"},
		{"git.diff", in{"commit": "HEAD..main"}, gathering.EINVALID, "/commit"},
		{"git.diff", in{"commit": "HEAD:secret"}, gathering.EINVALID, "/commit"},
		{"git.diff", in{"commit": "main@{1}"}, gathering.EINVALID, "/commit"},
		{"git.diff", in{"path": "../x"}, gathering.EFORBIDDEN, "/path"},
		{"git.diff", in{"path": ".env"}, gathering.EFORBIDDEN, "/path"},
		{"git.log", in{"path": "--output=" + target}, gathering.EINVALID, "/path"},
		{"git.log", in{"path": "/etc/passwd"}, gathering.EFORBIDDEN, "/path"},
		{"git.add", in{"paths": []string{"ok.txt", "--output=" + target}}, gathering.EINVALID, "/paths/1"},
		{"git.add", in{"paths": []string{"-A"}}, gathering.EINVALID, "/paths/0"},
		{"git.add", in{"paths": []string{"ok.txt", "sub/.env"}}, gathering.EFORBIDDEN, "/paths/1"},
		{"git.add", in{"paths": []string{".git/config"}}, gathering.EFORBIDDEN, "/paths/0"},
		{"git.add", in{"paths": []string{"a/../../x"}}, gathering.EFORBIDDEN, "/paths/0"},
	}
	for _, c := range cases {
		c.input["project_id"] = "p"
		_, err := b.call(c.tool, c.input)
		wantField(t, c.tool+" "+c.field, err, c.code, c.field)
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Fatalf("an option reached git: %v", err)
	}
	if out := b.mustCall(t, "git.status", in{"project_id": "p"}); statusOf(out, "ok.txt") != "untracked/untracked" {
		t.Fatalf("a refused git.add staged something: %v", out)
	}
	// Glob characters are literal: "*" is a file name, not every file.
	_, err := b.call("git.add", in{"project_id": "p", "paths": []string{"*"}})
	wantCode(t, "git.add *", err, gathering.EINVALID)
	_, err = b.call("git.diff", in{"project_id": "p", "commit": "no-such-branch"})
	wantCode(t, "git.diff unknown revision", err, gathering.EINVALID)
	if strings.Contains(gathering.ErrorMessage(err), root) {
		t.Fatalf("the message shows the workspace path: %q", gathering.ErrorMessage(err))
	}
}

func TestGitDiffTruncated(t *testing.T) {
	t.Parallel()
	b, _ := gitWorkspace(t)
	line := strings.Repeat("x", 99) + "\n"
	b.mustCall(t, "fs.write", in{"project_id": "p", "path": "big.txt", "content": strings.Repeat(line, 15000)})
	b.mustCall(t, "git.add", in{"project_id": "p", "paths": []string{"big.txt"}})
	out := b.mustCall(t, "git.diff", in{"project_id": "p", "staged": true})
	if out["truncated"] != true || len(out["diff"].(string)) != diffLimit {
		t.Fatalf("git.diff of 1.5 MB: truncated %v, %d bytes", out["truncated"], len(out["diff"].(string)))
	}
}
