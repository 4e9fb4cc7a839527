// Package procgroup starts child processes in a process group of their own,
// so that a child and everything it started can be killed together: the
// shell tool's programs and MCP command servers must not leave grandchildren
// behind. On systems without process groups only the child is killed.
package procgroup
