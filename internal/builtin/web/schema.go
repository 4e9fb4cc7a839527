package web

// The JSON Schemas (draft 2020-12) of the tools. The format keyword is an
// annotation only; URLs are checked in code (checkURL).

// urlSchema is the schema of a destination URL.
const urlSchema = `{
	"type": "string", "format": "uri", "minLength": 1, "maxLength": 2048,
	"description": "An http or https URL."
}`

// requestInputSchema is the input schema of http.request. Header names and
// values are checked in code (checkHeaders), whose messages, unlike a
// pattern's, do not repeat the value.
const requestInputSchema = `{
	"$schema": "https://json-schema.org/draft/2020-12/schema",
	"type": "object",
	"additionalProperties": false,
	"required": ["method", "url"],
	"properties": {
		"method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]},
		"url": ` + urlSchema + `,
		"headers": {
			"type": "object",
			"maxProperties": 50,
			"additionalProperties": {"type": "string", "maxLength": 8192},
			"description": "Request headers. Host, Content-Length, Transfer-Encoding, Connection and hop-by-hop headers are refused."
		},
		"body": {
			"description": "Any JSON value, sent as JSON unless a non-JSON Content-Type header is given and the body is a string, which is then sent as is."
		},
		"timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 120}
	}
}`

// requestOutputSchema is the output schema of http.request.
const requestOutputSchema = `{
	"type": "object",
	"required": ["status", "headers", "body", "body_encoding", "truncated", "duration_ms"],
	"properties": {
		"status": {"type": "integer"},
		"headers": {"type": "object", "additionalProperties": {"type": "string"}},
		"body": {},
		"body_encoding": {"enum": ["json", "text", "base64"]},
		"truncated": {"type": "boolean"},
		"duration_ms": {"type": "integer", "minimum": 0}
	}
}`

// webhookInputSchema is the input schema of notify.webhook.
const webhookInputSchema = `{
	"$schema": "https://json-schema.org/draft/2020-12/schema",
	"type": "object",
	"additionalProperties": false,
	"required": ["url"],
	"properties": {
		"url": ` + urlSchema + `,
		"payload": {"description": "Any JSON value, POSTed as the body (default {})."},
		"secret": {
			"type": "string", "minLength": 16, "maxLength": 256, "writeOnly": true,
			"description": "Signs the delivery: X-Gathering-Signature: sha256=hex(HMAC-SHA256(secret, timestamp + \".\" + body))."
		},
		"event": {
			"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]*$",
			"description": "Sent as the X-Gathering-Event header."
		}
	}
}`

// webhookOutputSchema is the output schema of notify.webhook.
const webhookOutputSchema = `{
	"type": "object",
	"required": ["status", "delivered", "duration_ms"],
	"properties": {
		"status": {"type": "integer", "minimum": 200, "maximum": 299},
		"delivered": {"const": true},
		"duration_ms": {"type": "integer", "minimum": 0}
	}
}`
