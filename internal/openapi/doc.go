// Package openapi builds GatheRing's OpenAPI 3.1 document from a route table
// and serves a self-contained page to browse it.
//
// The package is router-agnostic: the HTTP layer describes each route as an
// [Operation] (method, chi-style pattern, summary, tag, request and response
// Go types) and [Build] turns the table into a [Document]. Request and
// response types are described by a reflection-based JSON Schema generator
// (the JSON Schema 2020-12 dialect that OpenAPI 3.1 uses) that follows the
// encoding/json rules, so the document cannot drift from the code that
// encodes the bodies. Every operation also lists a default
// application/problem+json response (RFC 9457) with the [ProblemSchemaName]
// schema.
//
// Struct fields may carry three extra tags that enrich their schema:
//
//	doc:"..."      becomes the description
//	enum:"a,b,c"   becomes enum (values parsed as the field's JSON type)
//	format:"uri"   becomes format
//
// [DocsHandler] serves the browsable page (index.html, docs.js, docs.css,
// embedded in [DocsFS]); it loads no resource from another origin and works
// under a strict Content-Security-Policy. [Validate] checks the structure of
// a marshaled document.
package openapi
