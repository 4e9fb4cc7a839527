package builtin

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// prop is one JSON Schema (a property's or a whole input's).
type prop = map[string]any

// object returns the schema of a closed object (additionalProperties:
// false) with the given properties, of which required must be present.
func object(props map[string]prop, required ...string) prop {
	return prop{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"type":                 "object",
		"properties":           props,
		"required":             append([]string{}, required...),
		"additionalProperties": false,
	}
}

// str returns a string property.
func str(desc string, minLen, maxLen int) prop {
	return prop{"type": "string", "description": desc, "minLength": minLen, "maxLength": maxLen}
}

// integer returns an integer property bounded by lo and hi.
func integer(desc string, lo, hi int) prop {
	return prop{"type": "integer", "description": desc, "minimum": lo, "maximum": hi}
}

// boolean returns a boolean property.
func boolean(desc string) prop { return prop{"type": "boolean", "description": desc} }

// mustJSON encodes a schema built from the helpers above; they cannot fail
// to encode, so a failure is a programming error.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("builtin: encoding a schema: %v", err))
	}
	return b
}

// maxPathLen bounds every path in tool inputs.
const maxPathLen = 4096

// projectIDProp is the project_id property of every workspace tool.
var projectIDProp = str("The id of the project whose workspace to use.", 1, 200)

// pathProp returns a workspace-relative path property.
func pathProp(desc string) prop {
	return str(desc+" Relative to the workspace root, with '/' separators; '..', absolute paths and secret files (.env, .git, .ssh, keys, credentials) are refused.", 1, maxPathLen)
}

// withProject adds project_id to props.
func withProject(props map[string]prop) map[string]prop {
	props["project_id"] = projectIDProp
	return props
}

// output returns an output schema: an object with the given required
// properties.
func output(props map[string]prop) json.RawMessage {
	return mustJSON(prop{"type": "object", "properties": props, "required": slices.Sorted(maps.Keys(props))})
}

// typ returns a schema of one JSON type.
func typ(t string) prop { return prop{"type": t} }
