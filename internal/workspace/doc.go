// Package workspace serves a project's directory: it resolves a project id
// to its root (the project's repository path, or its own directory under the
// workspace base) and offers the file operations of the HTTP API — info,
// tree (cached, see cache.go), read, write with optimistic concurrency,
// delete and raw download — and its git repository through internal/gitrepo
// (status, log, file history, diff, branches, graph, init, stage, unstage,
// commit; never push or pull).
//
// Every file access goes through fsguard, so traversal, absolute and
// percent-encoded paths, symbolic links and secret names are refused. All
// such refusals look alike to the caller: EFORBIDDEN with the message "The
// path is not allowed in this project." on the field "path".
package workspace
