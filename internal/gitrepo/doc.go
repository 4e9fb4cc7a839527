// Package gitrepo runs git safely in a project's directory: the one
// implementation behind the git tools (internal/builtin) and the workspace's
// git API (internal/workspace).
//
// Open accepts a root only when its .git is a real directory (not a gitfile
// pointing elsewhere, nor a symbolic link); Init creates one. Every call runs
// the git program directly (no shell) with an environment holding nothing of
// the server's but PATH, no system or global configuration, the repository
// named explicitly (GIT_DIR, GIT_WORK_TREE), and settings that keep the
// repository's configuration from running hooks, an fsmonitor, signing
// programs, external diff or textconv drivers, or reaching the network. Each
// run is in a process group of its own, killed afterwards; it is bounded by
// Timeout and its output by OutputLimit (DiffLimit for diffs, which are
// truncated instead of refused).
//
// Callers' paths are literal pathspecs cleaned by fsguard.CleanPath, so
// traversal, absolute paths and secret-bearing names are refused; revisions
// must be one commit, branch or tag name, optionally with ~N or ^. Nothing
// starting with '-' is ever taken as a path or a revision. Status, Diff and
// Add never show or stage a secret-named file even when a directory is
// named. Validation errors are EINVALID or EFORBIDDEN with a field named by
// the JSON pointer the git tools use ("/path", "/commit", "/paths/0", …).
//
// Push, pull, fetch, merge and checkout are not offered: the repository is
// local to the server, and the network is disabled for every call.
package gitrepo
