package pipeline

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/gathering/gathering/internal/tool"
)

// The JSON Schemas (draft 2020-12) of the node configs, by node type.

// markerConfig is the config of the trigger, parallel and join nodes.
const markerConfig = `{"type": "object", "additionalProperties": false}`

const agentConfig = `{
	"type": "object",
	"additionalProperties": false,
	"required": ["agent_id", "task"],
	"properties": {
		"agent_id": {"type": "integer", "minimum": 1},
		"task": {"type": "string", "minLength": 1, "maxLength": 20000}
	}
}`

const toolConfig = `{
	"type": "object",
	"additionalProperties": false,
	"required": ["tool"],
	"properties": {
		"tool": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[a-z0-9_]+(\\.[a-z0-9_]+)+$"},
		"input": {"type": "object"}
	}
}`

const conditionConfig = `{
	"type": "object",
	"additionalProperties": false,
	"required": ["expression"],
	"properties": {
		"expression": {"type": "string", "minLength": 1, "maxLength": 2000}
	}
}`

const delayConfig = `{
	"type": "object",
	"additionalProperties": false,
	"required": ["seconds"],
	"properties": {
		"seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400}
	}
}`

const approvalConfig = `{
	"type": "object",
	"additionalProperties": false,
	"properties": {
		"expires_in_seconds": {"type": "integer", "minimum": 1, "maximum": 2592000},
		"message": {"type": "string", "maxLength": 2000}
	}
}`

// urlSchema is an http or https destination, as the notify and http tools
// take it (they check the scheme and host when they run).
const urlSchema = `{"type": "string", "minLength": 1, "maxLength": 2048}`

// notifyFields and httpFields are the input fields of the notify.webhook
// and http.request tools.
const (
	notifyFields = `{
		"url": ` + urlSchema + `,
		"payload": {},
		"secret": {"type": "string", "minLength": 16, "maxLength": 256},
		"event": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]*$"}
	}`
	httpFields = `{
		"method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]},
		"url": ` + urlSchema + `,
		"headers": {"type": "object", "maxProperties": 50, "additionalProperties": {"type": "string", "maxLength": 8192}},
		"body": {},
		"timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 120}
	}`
)

// actionConfig takes, besides action, the fields of the notify.webhook tool
// (send_notification) or of the http.request tool (call_api); any other
// field is refused by unevaluatedProperties. Each action has two branches:
// one that only names its fields, and so always passes and marks them
// evaluated, and one that checks them, so that a wrong value does not make
// its neighbours look unknown.
const actionConfig = `{
	"type": "object",
	"required": ["action"],
	"properties": {"action": {"enum": ["send_notification", "call_api"]}},
	"allOf": [
		{"if": ` + isNotify + `, "then": {"properties": ` + notifyNames + `}},
		{"if": ` + isNotify + `, "then": {"required": ["url"], "properties": ` + notifyFields + `}},
		{"if": ` + isCallAPI + `, "then": {"properties": ` + httpNames + `}},
		{"if": ` + isCallAPI + `, "then": {"required": ["method", "url"], "properties": ` + httpFields + `}}
	],
	"unevaluatedProperties": false
}`

const (
	isNotify    = `{"required": ["action"], "properties": {"action": {"const": "send_notification"}}}`
	isCallAPI   = `{"required": ["action"], "properties": {"action": {"const": "call_api"}}}`
	notifyNames = `{"url": true, "payload": true, "secret": true, "event": true}`
	httpNames   = `{"method": true, "url": true, "headers": true, "body": true, "timeout_seconds": true}`
)

// configSchemas holds the compiled config schema of each node type. It is
// built once and only read.
var configSchemas = compileConfigSchemas(map[string]string{
	TypeTrigger:   markerConfig,
	TypeAgent:     agentConfig,
	TypeTool:      toolConfig,
	TypeCondition: conditionConfig,
	TypeAction:    actionConfig,
	TypeDelay:     delayConfig,
	TypeApproval:  approvalConfig,
	TypeParallel:  markerConfig,
	TypeJoin:      markerConfig,
})

// compileConfigSchemas compiles the schemas; it panics on a bad one, which
// the tests catch.
func compileConfigSchemas(sources map[string]string) map[string]*jsonschema.Schema {
	out := make(map[string]*jsonschema.Schema, len(sources))
	for typ, src := range sources {
		sch, err := compileSchema(typ, src)
		if err != nil {
			panic(fmt.Sprintf("pipeline: the %s config schema: %v", typ, err))
		}
		out[typ] = sch
	}
	return out
}

// compileSchema compiles one schema (they refer to nothing outside).
func compileSchema(typ, src string) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(src)))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	loc := "urn:gathering:pipeline:config:" + typ
	if err := c.AddResource(loc, doc); err != nil {
		return nil, err
	}
	return c.Compile(loc)
}

// violation is one way a config breaks its schema.
type violation struct {
	pointer string // JSON pointer into the config
	message string
}

var printer = message.NewPrinter(language.English)

// violations validates doc against sch, sorted by pointer, then message.
func violations(sch *jsonschema.Schema, doc any) []violation {
	err := sch.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []violation{{message: err.Error()}}
	}
	var out []violation
	collect(ve, &out)
	slices.SortFunc(out, func(a, b violation) int {
		return cmp.Or(cmp.Compare(a.pointer, b.pointer), cmp.Compare(a.message, b.message))
	})
	return slices.Compact(out)
}

// collect appends the leaf errors of ve. A property refused by
// unevaluatedProperties "is not allowed", like one refused by
// additionalProperties.
func collect(ve *jsonschema.ValidationError, out *[]violation) {
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			*out = append(*out, at(ve.InstanceLocation, m, "is required"))
		}
		return
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, at(ve.InstanceLocation, p, "is not allowed"))
		}
		return
	case *kind.FalseSchema:
		*out = append(*out, at(ve.InstanceLocation, "", "is not allowed"))
		return
	}
	if len(ve.Causes) == 0 {
		*out = append(*out, at(ve.InstanceLocation, "", ve.ErrorKind.LocalizedString(printer)))
		return
	}
	for _, c := range ve.Causes {
		collect(c, out)
	}
}

// at builds a violation at loc, extended by prop when it is not empty.
func at(loc []string, prop, msg string) violation {
	if prop != "" {
		loc = append(slices.Clip(loc), prop)
	}
	return violation{pointer: tool.Pointer(loc...), message: msg}
}
