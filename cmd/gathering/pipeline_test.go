package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gathering/gathering/internal/store"
)

// triageYAML is a valid pipeline without a status; the keys of the post
// node's config and headers are out of alphabetical order.
const triageYAML = `name: Triage
description: File new issues
nodes:
  - id: start
    type: trigger
  - id: post
    type: action
    config:
      action: call_api
      url: https://api.example.com/issues
      method: POST
      headers:
        X-Zeta: "1"
        X-Alpha: "2"
edges:
  - id: e1
    from: start
    to: post
settings:
  max_parallel: 2
`

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// storedPipelines returns the pipelines of a data directory.
func storedPipelines(t *testing.T, dir string) []store.Pipeline {
	t.Helper()
	var ps []store.Pipeline
	withStore(t, dir, func(st store.Store) {
		var err error
		if ps, _, err = st.PipelineList(t.Context(), "", store.Page{Limit: 100}); err != nil {
			t.Fatal(err)
		}
	})
	return ps
}

// inOrder reports whether the words occur in s one after the other.
func inOrder(s string, words ...string) bool {
	for _, w := range words {
		i := strings.Index(s, w)
		if i < 0 {
			return false
		}
		s = s[i+len(w):]
	}
	return true
}

// TestPipelineApplyExportRoundTrip applies a YAML file, then its JSON
// export, which changes nothing but the version, then statuses.
func TestPipelineApplyExportRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	vars := map[string]string{"GATHERING_DATA_DIR": dir}
	file := writeFile(t, dir, "triage.yaml", triageYAML)
	if code, stdout, stderr := runCommand(t, vars, "pipeline", "apply", "-f", file); code != exitOK || stdout != "created pipeline 1 \"Triage\" (draft)\n" || stderr != "" {
		t.Fatalf("apply: %d %q %s", code, stdout, stderr)
	}
	code, exported, stderr := runCommand(t, vars, "pipeline", "export", "Triage", "--format", "json")
	if code != exitOK || !strings.Contains(exported, `"status": "draft"`) {
		t.Fatalf("export: %d %s %s", code, exported, stderr)
	}
	before := storedPipelines(t, dir)[0]
	if code, stdout, stderr := runWithInput(t, vars, exported, "pipeline", "apply", "-f", "-"); code != exitOK || stdout != "updated pipeline 1 \"Triage\" to version 2 (draft)\n" {
		t.Fatalf("apply the export: %d %q %s", code, stdout, stderr)
	}
	after := storedPipelines(t, dir)[0]
	if !bytes.Equal(after.Nodes, before.Nodes) || !bytes.Equal(after.Edges, before.Edges) || !bytes.Equal(after.Settings, before.Settings) {
		t.Fatalf("the definition changed:\n%s\n%s", before.Nodes, after.Nodes)
	}
	if _, again, _ := runCommand(t, vars, "pipeline", "export", "1"); again != exported {
		t.Fatalf("export by id after the round trip:\n%s\nwant:\n%s", again, exported)
	}
	active := writeFile(t, dir, "active.yml", strings.Replace(triageYAML, "nodes:", "status: active\nnodes:", 1))
	for _, step := range []struct{ file, want string }{
		{active, "updated pipeline 1 \"Triage\" to version 3 (active)\n"},
		{file, "updated pipeline 1 \"Triage\" to version 4 (active)\n"}, // no status: kept
	} {
		if code, stdout, stderr := runCommand(t, vars, "pipeline", "apply", "-f", step.file); code != exitOK || stdout != step.want {
			t.Fatalf("apply %s: %d %q %s", step.file, code, stdout, stderr)
		}
	}
}

// TestPipelineYAMLKeepsKeyOrder checks that a node's config keeps the order
// of its keys from a YAML file to the database and back to YAML.
func TestPipelineYAMLKeepsKeyOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	vars := map[string]string{"GATHERING_DATA_DIR": dir}
	if code, _, stderr := runWithInput(t, vars, triageYAML, "pipeline", "apply", "-f", "-"); code != exitOK {
		t.Fatalf("apply: %d %s", code, stderr)
	}
	if nodes := string(storedPipelines(t, dir)[0].Nodes); !inOrder(nodes, `"action"`, `"url"`, `"method"`, `"headers"`, `"X-Zeta"`, `"X-Alpha"`) {
		t.Fatalf("stored nodes lost the key order: %s", nodes)
	}
	code, exported, stderr := runCommand(t, vars, "pipeline", "export", "--format", "yaml", "Triage")
	if code != exitOK || !inOrder(exported, "name:", "description:", "status:", "nodes:", "action:", "url:", "method:", "headers:", "X-Zeta:", "X-Alpha:", "edges:", "settings:") {
		t.Fatalf("export as YAML: %d\n%s%s", code, exported, stderr)
	}
	if code, stdout, stderr := runWithInput(t, vars, exported, "pipeline", "apply", "-f", "-"); code != exitOK || stdout != "updated pipeline 1 \"Triage\" to version 2 (draft)\n" {
		t.Fatalf("apply the YAML export: %d %q %s", code, stdout, stderr)
	}
}

// TestPipelineApplyProblems refuses an invalid active pipeline, writing
// nothing, and stores an invalid draft with warnings.
func TestPipelineApplyProblems(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	vars := map[string]string{"GATHERING_DATA_DIR": dir}
	cycle := writeFile(t, dir, "cycle.json", `{"name": "Loop", "status": "active",
		"nodes": [{"id": "a", "type": "join"}, {"id": "b", "type": "join"}],
		"edges": [{"id": "ab", "from": "a", "to": "b"}, {"id": "ba", "from": "b", "to": "a"}]}`)
	code, stdout, stderr := runCommand(t, vars, "pipeline", "apply", "-f", cycle)
	if code != exitError || stdout != "" || !strings.Contains(stderr, "\nnodes/a: the graph has a cycle: a → b → a\n") {
		t.Fatalf("an active cycle: %d %q %s", code, stdout, stderr)
	}
	if ps := storedPipelines(t, dir); len(ps) != 0 {
		t.Fatalf("an invalid active pipeline was stored: %+v", ps)
	}
	draft := `{"name": "Broken", "nodes": [{"id": "write", "type": "agent", "config": {"agent_id": 99, "task": "Hi"}}]}`
	code, stdout, stderr = runWithInput(t, vars, draft, "pipeline", "apply", "-f", "-")
	if code != exitOK || stdout != "created pipeline 1 \"Broken\" (draft)\n" || !strings.Contains(stderr, "warning") || !strings.Contains(stderr, "\nnodes/write/config/agent_id: agent 99 does not exist\n") {
		t.Fatalf("an invalid draft: %d %q %s", code, stdout, stderr)
	}
	activate := strings.Replace(draft, `"nodes"`, `"status": "active", "nodes"`, 1)
	if code, _, stderr := runWithInput(t, vars, activate, "pipeline", "apply", "-f", "-"); code != exitError || !strings.Contains(stderr, "agent 99 does not exist") {
		t.Fatalf("activating the invalid draft: %d %s", code, stderr)
	}
	if ps := storedPipelines(t, dir); len(ps) != 1 || ps[0].Version != 1 || ps[0].Status != store.PipelineDraft {
		t.Fatalf("the refused activation wrote: %+v", ps)
	}
}

// TestPipelineCommandRefusals covers bad arguments, files and references.
func TestPipelineCommandRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	vars := map[string]string{"GATHERING_DATA_DIR": dir}
	for _, c := range []struct {
		input string
		args  []string
		code  int
		want  string
	}{
		{"", []string{"export", "nope"}, exitError, `no pipeline has the id or name "nope"`},
		{"", []string{"export", "42"}, exitError, `no pipeline has the id or name "42"`},
		{"", []string{"export"}, exitUsage, "one pipeline id or name"},
		{"", []string{"export", "x", "--format", "xml"}, exitUsage, "--format json or yaml"},
		{"", []string{"apply"}, exitUsage, "-f FILE"},
		{"", []string{"apply", "-f", filepath.Join(dir, "none.json")}, exitError, "no such file"},
		{"name: X\nnode: []\n", []string{"apply", "-f", "-"}, exitError, `unknown field "node"`},
		{`{"name": "", "status": "on", "nodes": []}`, []string{"apply", "-f", "-"}, exitError, "status: must be draft, active or paused"},
		{"", []string{"sideways"}, exitUsage, "gathering pipeline apply"},
	} {
		code, _, stderr := runWithInput(t, vars, c.input, append([]string{"pipeline"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: %d %s", c.args, code, stderr)
		}
	}
}

// TestToYAMLRefusesALossyConversion: go-yaml would read 1e3 back as a
// string.
func TestToYAMLRefusesALossyConversion(t *testing.T) {
	t.Parallel()
	if _, err := toYAML([]byte(`{"n": 1e3}`)); err == nil || !strings.Contains(err.Error(), "--format json") {
		t.Fatalf("1e3: %v", err)
	}
	if out, err := toYAML([]byte(`{"n": 1.5, "s": "true"}`)); err != nil || string(out) != "\"n\": 1.5\ns: \"true\"\n" {
		t.Fatalf("a faithful conversion: %q %v", out, err)
	}
}

// TestPipelineHelpExampleApplies keeps the example of the help text valid.
func TestPipelineHelpExampleApplies(t *testing.T) {
	t.Parallel()
	_, example, _ := strings.Cut(pipelineHelp, "For example:\n\n")
	example, _, _ = strings.Cut(example, "\n\n")
	vars := map[string]string{"GATHERING_DATA_DIR": t.TempDir()}
	if code, stdout, stderr := runWithInput(t, vars, example, "pipeline", "apply", "-f", "-"); code != exitOK || stdout != "created pipeline 1 \"Triage\" (active)\n" || stderr != "" {
		t.Fatalf("the help's example: %d %q %s", code, stdout, stderr)
	}
}
