#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, vet and static analysis,
# then `go test -race ./...` on both storage backends (embedded SQLite and the
# PostgreSQL on 127.0.0.1:5432) with Redis answering on 127.0.0.1:6379.
# Services that are installed but stopped are started; missing ones are
# installed from Debian's packages when running as root.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2

step() { printf '\n== %s\n' "$*"; }

step "gofmt"
unformatted=$(gofmt -l cmd internal)
if [ -n "$unformatted" ]; then
	echo "these files need gofmt -w:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "staticcheck"
go run "$STATICCHECK" ./...

step "services"
ensure_postgres
ensure_redis

step "go test -race -count=1 ./... (never from the test cache)"
go test -race -count=1 -timeout 20m "$@" ./...
