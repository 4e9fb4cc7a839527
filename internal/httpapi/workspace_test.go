package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// newProject creates a project over the API and returns its id.
func newProject(t *testing.T, s setup, token, body string) string {
	t.Helper()
	code, resp := api(t, "POST", s.srv.URL+"/projects", token, body)
	mustStatus(t, 201, code, resp, "create a project")
	var p ProjectResponse
	if err := json.Unmarshal([]byte(resp), &p); err != nil {
		t.Fatal(err)
	}
	return strconv.FormatInt(p.ID, 10)
}

// fileURL is the address of a file endpoint of a project, for path.
func fileURL(s setup, project, endpoint, path string) string {
	return s.srv.URL + "/workspace/" + project + endpoint + "?path=" + url.QueryEscape(path)
}

// fileRequest sends a request with optional If-Match and returns the
// response and its body.
func fileRequest(t *testing.T, method, url, token, ifMatch, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestProjects(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member, admin := cs[1].token, cs[2].token, cs[3].token
	id := newProject(t, s, member, `{"name":"Atlas","description":"maps","tags":["geo"],"settings":{"lint":true}}`)
	code, body := api(t, "POST", s.srv.URL+"/projects", member, `{"name":"atlas"}`)
	mustStatus(t, 409, code, body, "a second project named atlas")
	code, body = api(t, "POST", s.srv.URL+"/projects", viewer, `{"name":"Viewer's"}`)
	mustStatus(t, 403, code, body, "a viewer creates a project")
	code, body = api(t, "POST", s.srv.URL+"/projects", member, `{"name":"","status":"lost","tags":[""],"settings":[1]}`)
	mustStatus(t, 422, code, body, "an invalid project")
	for _, field := range []string{`"field":"name"`, `"field":"status"`, `"field":"tags/0"`, `"field":"settings"`} {
		if !strings.Contains(body, field) {
			t.Errorf("422 lacks %s: %s", field, body)
		}
	}
	outside := t.TempDir()
	code, body = api(t, "POST", s.srv.URL+"/projects", member, `{"name":"Outside","repository_path":"`+outside+`"}`)
	mustStatus(t, 422, code, body, "a member sets a path outside the base")
	newProject(t, s, admin, `{"name":"Outside","repository_path":"`+outside+`"}`)
	code, body = api(t, "GET", s.srv.URL+"/projects?tag=geo", viewer, "")
	if code != 200 || !strings.Contains(body, `"tags":["geo"]`) {
		t.Fatalf("list by tag: %d %s", code, body)
	}

	agentID := strconv.FormatInt(fakeAgent(t, s, "http://127.0.0.1:1/v1"), 10)
	code, body = api(t, "PUT", s.srv.URL+"/projects/"+id+"/agents/"+agentID, member, "")
	mustStatus(t, 204, code, body, "link an agent")
	code, body = api(t, "GET", s.srv.URL+"/projects/"+id, viewer, "")
	if code != 200 || !strings.Contains(body, `"agent_ids":[`+agentID+`]`) || !strings.Contains(body, `"settings":{"lint":true}`) {
		t.Fatalf("get: %d %s", code, body)
	}
	code, body = api(t, "PUT", s.srv.URL+"/projects/"+id, member, `{"name":"Atlas","status":"archived","version":1}`)
	if code != 200 || !strings.Contains(body, `"version":2`) || !strings.Contains(body, `"status":"archived"`) {
		t.Fatalf("update: %d %s", code, body)
	}
	code, body = api(t, "PUT", s.srv.URL+"/projects/"+id, member, `{"name":"Atlas","version":1}`)
	mustStatus(t, 409, code, body, "an update with a stale version")
	code, body = api(t, "GET", s.srv.URL+"/projects?status=archived", viewer, "")
	if code != 200 || !strings.Contains(body, `"total":1`) {
		t.Fatalf("list archived: %d %s", code, body)
	}
	code, body = api(t, "GET", s.srv.URL+"/projects", viewer, "")
	if code != 200 || !strings.Contains(body, `"name":"Outside","description":"","repository_path":"`+outside+`","status":"active","tags":[]`) {
		t.Fatalf("a project without tags lists []: %d %s", code, body)
	}
	code, body = api(t, "DELETE", s.srv.URL+"/projects/"+id, member, "")
	mustStatus(t, 204, code, body, "delete")
	code, body = api(t, "GET", s.srv.URL+"/projects/"+id, viewer, "")
	mustStatus(t, 404, code, body, "a deleted project")
}

func TestWorkspaceFiles(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member := cs[1].token, cs[2].token
	a := newProject(t, s, member, `{"name":"A"}`)
	b := newProject(t, s, member, `{"name":"B"}`)

	resp, body := fileRequest(t, "PUT", fileURL(s, a, "/file", "docs/readme.md"), member, "", `{"content":"# Hello\nworld\n"}`)
	mustStatus(t, 200, resp.StatusCode, body, "write a file")
	etag := resp.Header.Get("ETag")
	resp, body = fileRequest(t, "GET", fileURL(s, a, "/file", "docs/readme.md"), viewer, "", "")
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != etag || !strings.Contains(body, `"lines":2`) || !strings.Contains(body, `"encoding":"utf-8"`) {
		t.Fatalf("read: %d %s (ETag %q, written %q)", resp.StatusCode, body, resp.Header.Get("ETag"), etag)
	}
	resp, body = fileRequest(t, "GET", fileURL(s, b, "/file", "docs/readme.md"), viewer, "", "")
	mustStatus(t, 404, resp.StatusCode, body, "another project's file")
	resp, body = fileRequest(t, "PUT", fileURL(s, a, "/file", "docs/readme.md"), member, `"0000"`, `{"content":"lost update"}`)
	mustStatus(t, 412, resp.StatusCode, body, "a write over a stale hash")
	resp, body = fileRequest(t, "PUT", fileURL(s, a, "/file", "docs/readme.md"), member, etag, `{"content":"# Hello again\n","backup":true}`)
	mustStatus(t, 200, resp.StatusCode, body, "a write over the current hash")
	resp, body = fileRequest(t, "PUT", fileURL(s, a, "/file", "x.txt"), viewer, "", `{"content":"no"}`)
	mustStatus(t, 403, resp.StatusCode, body, "a viewer writes")

	code, body := api(t, "GET", s.srv.URL+"/workspace/"+a+"/files?max_depth=2", viewer, "")
	if code != 200 || !strings.Contains(body, `"path":"docs/readme.md"`) || !strings.Contains(body, `"path":"docs/readme.md.bak"`) {
		t.Fatalf("tree: %d %s", code, body)
	}
	code, body = api(t, "GET", s.srv.URL+"/workspace/"+a+"/files?max_depth=99", viewer, "")
	mustStatus(t, 422, code, body, "a depth over 20")
	code, body = api(t, "GET", s.srv.URL+"/workspace/"+a+"/info", viewer, "")
	if code != 200 || !strings.Contains(body, `"file_count":2`) {
		t.Fatalf("info: %d %s", code, body)
	}

	fileRequest(t, "PUT", fileURL(s, a, "/file", "page.html"), member, "", `{"content":"<script>alert(1)</script>"}`)
	resp, body = fileRequest(t, "GET", fileURL(s, a, "/file/raw", "page.html"), viewer, "", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.HasPrefix(resp.Header.Get("Content-Security-Policy"), "sandbox") || body != "<script>alert(1)</script>" {
		t.Fatalf("raw html: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	root, err := s.api.workspace.Root(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	if err := os.WriteFile(filepath.Join(root, "dot.png"), png, 0o600); err != nil {
		t.Fatal(err)
	}
	resp, body = fileRequest(t, "GET", fileURL(s, a, "/file/raw", "dot.png"), viewer, "", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || body != string(png) {
		t.Fatalf("raw png: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body = fileRequest(t, "DELETE", fileURL(s, a, "/file", "page.html"), member, "", "")
	mustStatus(t, 204, resp.StatusCode, body, "delete")
	resp, body = fileRequest(t, "GET", fileURL(s, a, "/file", "page.html"), viewer, "", "")
	mustStatus(t, 404, resp.StatusCode, body, "a deleted file")
}

// refusedPaths must each be refused with 403 by every file endpoint; the
// links and files they need are made by refusedFixture (the corpus of the
// workspace package's tests).
var refusedPaths = []string{
	"..", "../x", "../../etc/passwd", "a/../../x", "a/b/../../../x", "...", "a/.. /b",
	"%2e%2e", "%2e%2e/x", "%2e%2e%2fx", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "..%2fx", "a%2f..%2f..%2fx",
	"%252e%252e%252fx", "%252e%252e/%252e%252e/etc", "%25252e%25252e%25252fx",
	`..\x`, `a\..\..\x`, `..\..\etc\passwd`, "%2e%2e%5cx", `\etc\passwd`, `\\server\share`,
	"/etc/passwd", "//etc/passwd", "/", "%2fetc%2fpasswd", `C:\Windows`, "c:/windows/system32",
	"a\x00b", "a.txt\x00.png", "a%00b",
	".env", "config/.env.local", ".ENV.production", "%2eenv", ".ssh/id_rsa", "server.pem", "tls.key", "credentials.json",
	".git", ".git/config", ".GIT/config", ".git./config", `.git\config`, "%2egit/config",
	"etc-link", "etc-link/passwd", "sibling-link", "sibling-link/sibling.txt", "sibling-link/new.txt",
	"file-link", "dir-link", "dir-link/outside.txt",
}

// refusedFixture gives project a a git repository, a secret file and links
// to /etc, to project b's directory, and to a file and a directory outside.
func refusedFixture(t *testing.T, s setup, a, b string) {
	t.Helper()
	root, err := s.api.workspace.Root(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	sibling, err := s.api.workspace.Root(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	if out, err := exec.Command("git", "init", "--quiet", root).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	for dir, name := range map[string]string{sibling: "sibling.txt", outside: "outside.txt", root: ".env"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("keep out"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range map[string]string{"etc-link": "/etc", "sibling-link": sibling, "file-link": filepath.Join(outside, "outside.txt"), "dir-link": outside} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWorkspaceRefusesEveryPathOutsideTheProject(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	member := callers(t, s)[2].token
	a := newProject(t, s, member, `{"name":"A"}`)
	b := newProject(t, s, member, `{"name":"B"}`)
	refusedFixture(t, s, a, b)
	requests := []struct{ method, endpoint, body string }{
		{"GET", "/file", ""}, {"GET", "/file/raw", ""}, {"PUT", "/file", `{"content":"x"}`}, {"DELETE", "/file", ""},
	}
	for _, p := range refusedPaths {
		for _, rq := range requests {
			resp, body := fileRequest(t, rq.method, fileURL(s, a, rq.endpoint, p), member, "", rq.body)
			if resp.StatusCode != 403 || !strings.Contains(body, `"detail":"The path is not allowed in this project."`) ||
				!strings.Contains(body, `"field":"path"`) {
				t.Errorf("%s %s %q: %d %s", rq.method, rq.endpoint, p, resp.StatusCode, body)
			}
		}
	}
	if len(refusedPaths) < 30 {
		t.Fatalf("only %d paths", len(refusedPaths))
	}
}

// TestWorkspaceGit: create a repository, write, stage, commit as the
// caller, and find the commit in the log, the graph and its diff, and in
// the project's activity.
func TestWorkspaceGit(t *testing.T) {
	t.Parallel()
	s := newSetup(t, Options{})
	cs := callers(t, s)
	viewer, member := cs[1].token, cs[2].token
	p := newProject(t, s, member, `{"name":"Repo"}`)
	git := s.srv.URL + "/workspace/" + p + "/git/"
	code, body := api(t, "GET", git+"status", viewer, "")
	mustStatus(t, 422, code, body, "status before init")
	code, body = api(t, "POST", git+"init", member, "")
	mustStatus(t, 200, code, body, "init")
	code, body = api(t, "POST", git+"init", member, "")
	mustStatus(t, 409, code, body, "init twice")
	resp, body := fileRequest(t, "PUT", fileURL(s, p, "/file", "main.go"), member, "", `{"content":"package main\n"}`)
	mustStatus(t, 200, resp.StatusCode, body, "write")
	code, body = api(t, "POST", git+"stage", member, `{"paths":["main.go"]}`)
	mustStatus(t, 200, code, body, "stage")
	code, body = api(t, "POST", git+"stage", member, `{"paths":["../escape"]}`)
	mustStatus(t, 403, code, body, "stage a path outside")
	code, body = api(t, "POST", git+"commit", viewer, `{"message":"no"}`)
	mustStatus(t, 403, code, body, "a viewer commits")
	code, body = api(t, "POST", git+"commit", member, `{"message":"Add main"}`)
	if code != 200 || !strings.Contains(body, `"author_email":"member@example.com"`) || !strings.Contains(body, `"subject":"Add main"`) {
		t.Fatalf("commit: %d %s", code, body)
	}
	var commit struct{ Commit string }
	_ = json.Unmarshal([]byte(body), &commit)
	code, body = api(t, "GET", git+"log?author=member", viewer, "")
	if code != 200 || !strings.Contains(body, `"total":1`) || !strings.Contains(body, commit.Commit) {
		t.Fatalf("log: %d %s", code, body)
	}
	code, body = api(t, "GET", git+"diff?show=true&commit="+commit.Commit, viewer, "")
	if code != 200 || !strings.Contains(body, `+package main`) {
		t.Fatalf("diff of the commit: %d %s", code, body)
	}
	for _, path := range []string{"graph", "branches", "history?path=main.go", "status"} {
		if code, body := api(t, "GET", git+path, viewer, ""); code != 200 {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
	code, body = api(t, "POST", git+"commit", member, `{"message":"Nothing"}`)
	mustStatus(t, 409, code, body, "a commit with nothing staged")
	code, body = api(t, "GET", s.srv.URL+"/workspace/"+p+"/activities?kind=commit", viewer, "")
	if code != 200 || !strings.Contains(body, `"summary":"Committed: Add main"`) {
		t.Fatalf("activity: %d %s", code, body)
	}
}
