package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gathering/gathering/internal/event"
	"github.com/gathering/gathering/internal/httpapi"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// env is everything a command reads from and writes to the outside world,
// so that tests can run commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	// Test hooks: extra routes, a callback with the address serve listens
	// on, and one with its event bus.
	routes    []httpapi.Route
	listening func(addr string)
	bus       func(*event.Bus)
}

func stdEnv() env {
	return env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
}

const usage = `gathering: a self-hosted server for teams of AI agents.

Usage:
  gathering serve [flags]           run the server
  gathering migrate up|status       apply or list the database migrations
  gathering config [flags]          print the effective configuration (secrets masked)
  gathering user ACTION [flags]     create, list, set-role, deactivate, reset-password
  gathering memory reembed [flags]  re-embed memories with the configured embedder
  gathering pipeline apply|export   apply a pipeline from a JSON or YAML file, or export one
  gathering version                 print the version, commit and Go version

Run "gathering COMMAND --help" for the flags of a command. Every flag has an
environment variable; flags win.
`

// run executes one command and returns the process exit code.
func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return exitUsage
	}
	commands := map[string]func(context.Context, []string, env) int{
		"serve":    serve,
		"migrate":  migrate,
		"config":   showConfig,
		"version":  version,
		"user":     user,
		"memory":   memoryCommand,
		"pipeline": pipelineCommand,
	}
	cmd, ok := commands[args[0]]
	switch {
	case ok:
		return cmd(ctx, args[1:], e)
	case args[0] == "help" || args[0] == "-h" || args[0] == "--help":
		fmt.Fprint(e.stdout, usage)
		return exitOK
	}
	fmt.Fprintf(e.stderr, "gathering: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// newFlagSet returns a flag set whose --help prints a description first.
func newFlagSet(name, description string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet("gathering "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nFlags:\n", strings.TrimSpace(description))
		fs.PrintDefaults()
	}
	return fs
}

// flagExit turns a flag parsing error into an exit code: --help is a
// success, anything else a usage error (the flag package has printed it).
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// fail prints an error and returns the error exit code.
func fail(e env, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "gathering: "+format+"\n", args...)
	return exitError
}
