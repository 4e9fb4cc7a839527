#!/usr/bin/env bash
# On-demand performance figures (not part of scripts/test.sh):
#   - binary size;
#   - start-to-ready time and idle RSS of `gathering serve` on SQLite and on
#     PostgreSQL (the local server, in a scratch database);
#   - GET /health/live through the whole API beside a bare net/http handler,
#     measured the same way in the same run (go test -bench), and a wrk load
#     against the real binary;
#   - the cost of authentication and rate limiting, and authenticated
#     GET /auth/me beside /health/live on PostgreSQL;
#   - tools: schema validation, the recorded execution path (p50/p99),
#     background executions per second, and a wrk load of calc.eval calls
#     through the API on the real binary;
#   - agents: a chat turn and time to first token beside the bare provider
#     call; memory: embedding and recall at 10,000 and 100,000 memories;
#   - pipelines: no-op nodes per second and per-node overhead beside the
#     database's single-row commit rate.
#   - scheduler: occurrences claimed per second and dispatch lag with
#     10,000 actions; background tasks: the cost of a step.
#   - workspace: tree listing of a 10,000-entry project, cold and cached;
#     1 MiB file reads.
#   - circles: a circle's detail with 20 and 200 members; conversations: a
#     turn's overhead excluding the provider.
# Usage: scripts/bench.sh [seconds-per-load, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
duration="${1:-10}"
work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	psql "$GATHERING_TEST_DATABASE_URL" -qc "drop database if exists gathering_bench with (force)" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, $(go version | cut -d' ' -f3)"
go build -o "$work/gathering" ./cmd/gathering
go build -ldflags='-s -w' -o "$work/gathering-stripped" ./cmd/gathering
echo "binary size: $(du -h "$work/gathering" | cut -f1) ($(du -h "$work/gathering-stripped" | cut -f1) stripped)"

bench_password=bench-password-$RANDOM$RANDOM

# start_and_measure NAME PORT [ENV...]: prints start-to-ready and idle RSS,
# leaves the server running.
start_and_measure() {
	local name=$1 port=$2; shift 2
	mkdir -p "$work/$name"
	(cd "$work/$name" && echo "$bench_password" | env "$@" "$work/gathering" user create --email bench@example.com --role admin >/dev/null)
	local t0; t0=$(date +%s%N)
	(cd "$work/$name" && exec env "$@" PORT="$port" GATHERING_SHUTDOWN_DRAIN=0s GATHERING_RATE_LIMIT_HEALTH=1000000/s GATHERING_RATE_LIMIT_WRITE=1000000/s GATHERING_RATE_LIMIT_AUTH=1000/s "$work/gathering" serve >/dev/null 2>&1) &
	pids+=($!)
	until curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null; do sleep 0.005; done
	local t1; t1=$(date +%s%N)
	sleep 2
	local pid; pid=$(pgrep -f "^$work/gathering serve" | tail -1)
	echo "$name: start to ready $(((t1 - t0) / 1000000)) ms; idle RSS $(awk '/VmRSS/ {print $2 / 1024 " MiB"}' "/proc/$pid/status")"
}

ensure_postgres
psql "$GATHERING_TEST_DATABASE_URL" -qc "drop database if exists gathering_bench with (force)" -c "create database gathering_bench" >/dev/null
pg_url="${GATHERING_TEST_DATABASE_URL/\/test\?//gathering_bench?}"

start_and_measure sqlite 18401
start_and_measure postgres 18402 DATABASE_URL="$pg_url"

echo
echo "== go test -bench: the API vs a bare net/http handler (8 keep-alive clients, loopback)"
go test -run '^$' -bench 'Live$' -benchtime "${duration}s" ./internal/httpapi/ | grep -E '^Benchmark'

echo
echo "== go test -bench: authentication and rate limiting"
echo "   Guard: auth + rate-limit middleware in process (SQLite); Authenticate: the service alone;"
echo "   MePostgres vs LivePostgres: authenticated GET /auth/me beside /health/live on PostgreSQL"
go test -run '^$' -bench 'Guard|Postgres$' -benchtime "${duration}s" ./internal/httpapi/ | grep -E '^Benchmark'
go test -run '^$' -bench 'Authenticate' -benchtime "${duration}s" ./internal/auth/ | grep -E '^Benchmark'
go test -run '^$' -bench 'Allow' -benchtime "${duration}s" ./internal/ratelimit/ | grep -E '^Benchmark'

echo
echo "== the event bus, and 1,000 WebSocket clients on one topic (publish-to-receive latency, drops)"
go test -run '^$' -bench 'Publish' -benchtime "${duration}s" ./internal/event/ | grep -E '^Benchmark'
go test -run '^$' -bench 'WebSocketFanout' -benchtime 1x -v ./internal/httpapi/ | grep -E 'events/s to'
echo "== cross-instance latency through PostgreSQL (1,000 events)"
go test -count=1 -run 'CrossInstanceLatency' -v ./internal/event/pgbridge/ | grep -E 'p50|p99' || true

if ! command -v wrk >/dev/null; then apt_install wrk; fi
for port in 18401 18402; do
	echo
	echo "== wrk -t2 -c16 -d${duration}s GET /health/live on the real binary (port $port; access log to /dev/null; health tier raised so the server, not the limiter, is measured)"
	wrk -t2 -c16 -d"${duration}s" --latency "http://127.0.0.1:$port/health/live" | grep -E '^ +(50|99)%|Requests/sec'
done

echo
echo "== go test -bench: tools (validation of a ten-field input; no-op tool through Registry.Call, through the recorded path, and in the background)"
go test -run '^$' -bench 'ValidateTenFields|CallNoop|ExecuteNoop|AsyncNoop' -benchtime 20000x ./internal/tool/ | grep -E '^Benchmark'

cat >"$work/calc.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"input":{"expression":"(2+3)*7 - 15% of 2500"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
LUA
for port in 18401 18402; do
	token=$(curl -fs -H 'Content-Type: application/json' -d "{\"email\":\"bench@example.com\",\"password\":\"$bench_password\"}" "http://127.0.0.1:$port/auth/login/json" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
	echo
	echo "== wrk -t2 -c8 -d${duration}s POST /tools/calc.eval/execute on the real binary (port $port: authenticated, validated, run, recorded)"
	BENCH_TOKEN=$token wrk -t2 -c8 -d"${duration}s" --latency -s "$work/calc.lua" "http://127.0.0.1:$port/tools/calc.eval/execute" | grep -E '^ +(50|99)%|Requests/sec|Non-2xx'
done

echo
echo "== go test -bench: agents (a whole chat turn on SQLite with a fake provider answering at once, beside the bare provider call; time to first token)"
go test -run '^$' -bench 'ChatTurn|ProviderCall|FirstToken' -benchtime 2000x ./internal/agent/ | grep -E '^Benchmark'
echo "== go test -bench: memory (local embedding; exact recall over 10,000 and 100,000 memories of 384 dimensions on each backend)"
go test -run '^$' -bench 'LocalEmbed' ./internal/memory/ | grep -E '^Benchmark'
go test -run '^$' -bench 'Recall|Rank' -benchtime 5x ./internal/memory/ | grep -E '^Benchmark'

echo
echo "== go test -bench: pipelines (chains of ten no-op tool nodes: sustained nodes/s with 500 runs at once, per-node overhead of runs one at a time)"
echo "   beside them, the same database's single-row commit rate (one and eight writers): the ceiling of a durable engine"
go test -run '^$' -bench 'NoopNodes|SingleRowCommit' -benchtime 500x ./internal/engine/ | grep -E '^Benchmark'
go test -run '^$' -bench 'NoopNodeOverhead' -benchtime 200x ./internal/engine/ | grep -E '^Benchmark'

echo
echo "== go test -bench: scheduler (PostgreSQL: due occurrences claimed per second by one and three instances; due-to-started lag with 10,000 active actions)"
go test -run '^$' -bench 'ClaimDue|DispatchLag' ./internal/scheduler/ | grep -E '^Benchmark'
echo "== go test -bench: background tasks (SQLite: what a step costs besides the model, 10-step tasks one at a time)"
go test -run '^$' -bench 'TaskSteps' -benchtime 30x ./internal/background/ | grep -E '^Benchmark'

echo
echo "== go test -bench: workspace (a 9,900-file project's tree, cold and cached, with and without git status; reading 1 MiB files)"
go test -run '^$' -bench 'Tree10000Files|Read1MiB' -benchtime 20x ./internal/workspace/ | grep -E '^Benchmark'

echo
echo "== go test -bench: circles (a circle's detail — members, agents, personas, workload, task counts — in one query, 20 and 200 members, both backends; and over HTTP)"
go test -run '^$' -bench 'CircleDetail$' ./internal/circle/ | grep -E '^Benchmark'
go test -run '^$' -bench 'CircleDetailHTTP' ./internal/httpapi/ | grep -E '^Benchmark'
echo "== go test -bench: conversations (a turn's cost besides the provider: the runner's own work, the agent service's, and the provider call beside them)"
go test -run '^$' -bench 'Turn$' -benchtime 1000x ./internal/conversation/ | grep -E '^Benchmark'
