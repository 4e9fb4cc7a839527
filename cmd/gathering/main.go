// Command gathering is GatheRing's single binary: the server (serve), its
// schema migrations (migrate), the effective configuration (config) and the
// build information (version). It is the composition root: the only place
// that picks a storage backend and wires components together.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-signals
		cancel() // first signal: graceful shutdown
		sig := <-signals
		fmt.Fprintf(os.Stderr, "gathering: second signal (%v): exiting at once\n", sig)
		os.Exit(130)
	}()
	os.Exit(run(ctx, os.Args[1:], stdEnv()))
}
