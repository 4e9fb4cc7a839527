// Package workspace serves a project's directory: it resolves a project id
// to its root (the project's repository path, or its own directory under the
// workspace base) and offers the file operations of the HTTP API — info,
// tree, read, write with optimistic concurrency, delete and raw download.
//
// Every file access goes through fsguard, so traversal, absolute and
// percent-encoded paths, symbolic links and secret names are refused. All
// such refusals look alike to the caller: EFORBIDDEN with the message "The
// path is not allowed in this project." on the field "path".
package workspace
