package main

import (
	"context"
	"fmt"

	"github.com/gathering/gathering/internal/gathering"
)

func version(_ context.Context, args []string, e env) int {
	fs := newFlagSet("version", "Print the version, the commit and the Go version of this binary.\nIt takes no flags.", e)
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	b := gathering.Build()
	fmt.Fprintf(e.stdout, "gathering %s\ncommit %s\n%s\n", b.Version, b.Commit, b.GoVersion)
	return exitOK
}
