package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/gathering/gathering/internal/gathering"
	"github.com/gathering/gathering/internal/httpapi"
	"github.com/gathering/gathering/internal/pipeline"
	"github.com/gathering/gathering/internal/store"
)

const pipelineHelp = `Keep pipeline definitions in files, e.g. in git (works on a fresh
database: it migrates first).

  gathering pipeline apply -f FILE
  gathering pipeline export ID|NAME [--format json|yaml]

apply reads FILE (- for standard input), JSON (.json) or YAML (.yaml, .yml;
any other name is read as JSON when it is JSON, else as YAML), holding the
fields the API takes: name, description, status (draft, active or paused),
nodes, edges and settings. YAML keeps the order of keys. For example:

  name: Triage
  status: active
  nodes:
    - id: start
      type: trigger
    - id: notify
      type: action
      config: {action: send_notification, url: "https://hooks.example.com/triage"}
  edges:
    - {id: e1, from: start, to: notify}

It creates the pipeline, or replaces the one with the same name; without a
status a new pipeline is a draft and an existing one keeps its status. The
definition is validated first, agents against the database; tool names are
checked only when the server activates or runs the pipeline. An active
pipeline must be valid: otherwise apply prints every problem, one a line
(nodes/<id>/<field>: message), and writes nothing. A draft or paused one is
written anyway, its problems printed as warnings.

export prints a pipeline, by id (tried first) or exact name, as a file apply
takes. With --format json the nodes, edges and settings are the stored JSON
verbatim, so applying the export changes nothing but the version.

On SQLite, stop the server first (it holds the database file).`

// pipelineDoc is a pipeline as a file holds it.
type pipelineDoc struct {
	Name        string               `json:"name"`
	Description string               `json:"description"`
	Status      store.PipelineStatus `json:"status"`
	Nodes       json.RawMessage      `json:"nodes"`
	Edges       json.RawMessage      `json:"edges"`
	Settings    json.RawMessage      `json:"settings"`
}

// pipelineCommand runs a `gathering pipeline` subcommand.
func pipelineCommand(ctx context.Context, args []string, e env) int {
	actions := map[string]func(context.Context, []string, env) int{"apply": pipelineApply, "export": pipelineExport}
	if len(args) == 0 || actions[args[0]] == nil {
		newFlagSet("pipeline", pipelineHelp, e).Usage()
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return exitOK
		}
		return exitUsage
	}
	return actions[args[0]](ctx, args[1:], e)
}

// pipelineApply creates or replaces the pipeline of a file.
func pipelineApply(ctx context.Context, args []string, e env) int {
	fs := newFlagSet("pipeline apply", pipelineHelp, e)
	file := fs.String("f", "", "the file to apply: .json, .yaml or .yml, - for standard input (required)")
	cfg, code := loadConfig(fs, args, e)
	if cfg == nil {
		return code
	}
	if *file == "" || fs.NArg() > 0 {
		fmt.Fprintln(e.stderr, "gathering: pipeline apply: takes -f FILE and no other argument")
		return exitUsage
	}
	doc, err := readPipelineDoc(*file, e.stdin)
	if err != nil {
		return fail(e, "pipeline apply: %s", describe(err))
	}
	db, err := openMigrated(ctx, cfg)
	if err != nil {
		return fail(e, "%v", err)
	}
	defer db.Close()
	return applyPipeline(ctx, db, doc, e)
}

// readPipelineDoc reads the file name (- for stdin), refusing unknown
// fields, and checks the fields around the definition as the API does.
func readPipelineDoc(name string, stdin io.Reader) (pipelineDoc, error) {
	var d pipelineDoc
	data, err := readInput(name, stdin)
	if err == nil {
		data, err = documentJSON(name, data)
	}
	if err != nil {
		return d, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); err != io.EOF {
		return d, fmt.Errorf("%s: there is more after the pipeline", name)
	}
	q := httpapi.PipelineRequest{Name: d.Name, Description: d.Description, Status: string(d.Status), Nodes: pipelineJSON(d.Nodes, "")}
	return d, q.Validate()
}

// readInput returns the content of the file name, or all of stdin for -.
func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name)
}

// documentJSON returns a file's data as JSON, converting YAML with its keys
// in order. A name that is neither .json nor .yaml/.yml is JSON when its
// data is.
func documentJSON(name string, data []byte) ([]byte, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return data, nil
	case ".yaml", ".yml":
	default:
		if json.Valid(data) {
			return data, nil
		}
	}
	out, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not valid YAML: %w", name, err)
	}
	return out, nil
}

// applyPipeline creates doc's pipeline, or updates the one with its name.
// An active pipeline must be valid; another's problems are warnings.
func applyPipeline(ctx context.Context, db store.Store, doc pipelineDoc, e env) int {
	p, found, err := pipelineByName(ctx, db, doc.Name)
	if err != nil {
		return fail(e, "pipeline apply: %s", describe(err))
	}
	p = doc.onto(p)
	problems := definitionProblems(ctx, db, p)
	if p.Status == store.PipelineActive && len(problems) > 0 {
		fmt.Fprintf(e.stderr, "gathering: pipeline apply: %q is active but its definition is invalid; nothing was written:\n", p.Name)
		printProblems(e.stderr, problems)
		return exitError
	}
	if p, err = savePipeline(ctx, db, p, found); err != nil {
		return fail(e, "pipeline apply: %s", describe(err))
	}
	if len(problems) > 0 {
		fmt.Fprintf(e.stderr, "gathering: pipeline apply: warning: the %s %q cannot be activated until these are fixed:\n", p.Status, p.Name)
		printProblems(e.stderr, problems)
	}
	if found {
		fmt.Fprintf(e.stdout, "updated pipeline %d %q to version %d (%s)\n", p.ID, p.Name, p.Version, p.Status)
	} else {
		fmt.Fprintf(e.stdout, "created pipeline %d %q (%s)\n", p.ID, p.Name, p.Status)
	}
	return exitOK
}

// pipelineByName returns the pipeline called name, if there is one.
func pipelineByName(ctx context.Context, db store.Store, name string) (store.Pipeline, bool, error) {
	for offset := 0; ; offset += 200 {
		ps, total, err := db.PipelineList(ctx, "", store.Page{Limit: 200, Offset: offset})
		if err != nil {
			return store.Pipeline{}, false, err
		}
		if i := slices.IndexFunc(ps, func(p store.Pipeline) bool { return p.Name == name }); i >= 0 {
			return ps[i], true, nil
		}
		if offset+len(ps) >= total || len(ps) == 0 {
			return store.Pipeline{}, false, nil
		}
	}
}

// onto fills p from the document as the API does: absent edges and
// settings are empty, and an absent status keeps p's (draft when new).
func (d pipelineDoc) onto(p store.Pipeline) store.Pipeline {
	p.Name, p.Description, p.Nodes = d.Name, d.Description, d.Nodes
	p.Edges, p.Settings = pipelineJSON(d.Edges, "[]"), pipelineJSON(d.Settings, "{}")
	p.Status = cmp.Or(d.Status, p.Status, store.PipelineDraft)
	return p
}

// pipelineJSON returns raw, or empty when raw is absent or null.
func pipelineJSON(raw json.RawMessage, empty string) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage(empty)
	}
	return raw
}

// definitionProblems validates p's definition as the API does, agents
// against the database. Tools are not checked: their registry is the
// server's.
func definitionProblems(ctx context.Context, db store.Store, p store.Pipeline) []pipeline.Problem {
	return pipeline.Check(p.Nodes, p.Edges, p.Settings, pipeline.Refs{
		Agent: func(id int64) bool { _, err := db.AgentGet(ctx, id); return err == nil },
	})
}

// printProblems prints one problem a line, named like the API's field
// errors: nodes/<id>/<field>, edges/<id>/<field>, or a path from the
// definition.
func printProblems(w io.Writer, problems []pipeline.Problem) {
	for _, p := range problems {
		fmt.Fprintf(w, "%s: %s\n", p.Path(), p.Message)
	}
}

// savePipeline creates p, or updates it from the version read when it
// exists.
func savePipeline(ctx context.Context, db store.Store, p store.Pipeline, exists bool) (store.Pipeline, error) {
	p.UpdatedAt = time.Now()
	if exists {
		return db.PipelineUpdate(ctx, p)
	}
	p.CreatedAt = p.UpdatedAt
	return db.PipelineCreate(ctx, p)
}

// pipelineExport prints a pipeline as a file apply takes.
func pipelineExport(ctx context.Context, args []string, e env) int {
	target, args := leadingArg(args)
	fs := newFlagSet("pipeline export", pipelineHelp, e)
	format := fs.String("format", "json", "json or yaml")
	cfg, code := loadConfig(fs, args, e)
	if cfg == nil {
		return code
	}
	refs := slices.Concat(target, fs.Args())
	if len(refs) != 1 || (*format != "json" && *format != "yaml") {
		fmt.Fprintln(e.stderr, "gathering: pipeline export: takes one pipeline id or name, and --format json or yaml")
		return exitUsage
	}
	db, err := openMigrated(ctx, cfg)
	if err != nil {
		return fail(e, "%v", err)
	}
	defer db.Close()
	p, err := findPipeline(ctx, db, refs[0])
	if err == nil {
		err = writeExport(e.stdout, p, *format)
	}
	if err != nil {
		return fail(e, "pipeline export: %s", describe(err))
	}
	return exitOK
}

// leadingArg splits off a first argument that is not a flag (the id or
// name before the flags), at which flag parsing would stop.
func leadingArg(args []string) (first, rest []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[:1], args[1:]
	}
	return nil, args
}

// findPipeline returns the pipeline whose id is ref, else whose name is.
func findPipeline(ctx context.Context, db store.Store, ref string) (store.Pipeline, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		p, err := db.PipelineGet(ctx, id)
		if gathering.ErrorCode(err) != gathering.ENOTFOUND {
			return p, err
		}
	}
	p, found, err := pipelineByName(ctx, db, ref)
	if err == nil && !found {
		err = fmt.Errorf("no pipeline has the id or name %q", ref)
	}
	return p, err
}

// writeExport writes p as a document apply takes: JSON embedding the stored
// nodes, edges and settings verbatim, or YAML converted from it.
func writeExport(w io.Writer, p store.Pipeline, format string) error {
	doc := fmt.Appendf(nil, "{\n  \"name\": %s,\n  \"description\": %s,\n  \"status\": %s,\n  \"nodes\": %s,\n  \"edges\": %s,\n  \"settings\": %s\n}\n",
		jsonString(p.Name), jsonString(p.Description), jsonString(string(p.Status)), p.Nodes, p.Edges, p.Settings)
	if format == "yaml" {
		var err error
		if doc, err = toYAML(doc); err != nil {
			return err
		}
	}
	_, err := w.Write(doc)
	return err
}

// jsonString encodes s as a JSON string, leaving <, > and & as they are.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// toYAML converts a JSON document to YAML with its keys in order. It
// refuses one that would not read back as the same values: go-yaml reads
// some scalars differently (1e3 as a string, for one).
func toYAML(doc []byte) ([]byte, error) {
	out, err := yaml.JSONToYAML(doc)
	if err != nil {
		return nil, err
	}
	back, err := yaml.YAMLToJSON(out)
	if err != nil || !sameJSON(doc, back) {
		return nil, errors.New("the pipeline does not survive the conversion to YAML (a number such as 1e3, or a control character); export it with --format json")
	}
	return out, nil
}

// sameJSON reports whether a and b are valid JSON of equal values.
func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}
