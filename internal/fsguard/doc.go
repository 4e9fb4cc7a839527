// Package fsguard confines file operations to one directory tree (a
// project's workspace) for the built-in fs skill.
//
// Every path passes through CleanPath first, which refuses empty paths, NUL
// bytes, absolute paths, ".." segments (with "/" or "\" separators),
// percent-encoded traversal (decoded repeatedly, up to a bound) and
// secret-bearing names (.env, .git, .ssh, *.pem, *.key, id_rsa*,
// credentials*). The operations then run through an os.Root, so no path or
// symbolic link can reach outside the directory; in addition, fsguard refuses
// to go through symbolic links at all, so a link inside the workspace cannot
// expose a secret file under an innocent name. Files larger than MaxFileSize
// are neither read nor written.
package fsguard
