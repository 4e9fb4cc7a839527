// Package builtin provides GatheRing's local built-in skills as tool.Tool
// values ready for a tool.Registry: fs (files of a project's workspace,
// confined by internal/fsguard), git (the workspace's repository, through
// the git command line), calc (internal/calc) and, when the operator names
// the programs it may run, shell.
//
// Every tool that touches a workspace takes project_id in its input and
// resolves it through a Workspaces (the server's is internal/workspace).
// The package owns the tools' schemas and descriptions, the hardening of
// the shell subprocess (no shell interpretation, a minimal environment,
// capped output, process-group kills) and the mapping of their failures to
// gathering error codes; git runs through internal/gitrepo.
package builtin
