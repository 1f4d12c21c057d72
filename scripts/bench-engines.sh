#!/usr/bin/env bash
# The field bench on both engines in one run (issue 16, item 7): SQLite, then PostgreSQL with one
# server process, then with two sharing the database. Starts a private PostgreSQL cluster on
# loopback (scripts/postgres.sh, removed after) and runs
#     cargo bench -p verivali-server --bench field
# three times, printing each run's figures under its name. The bench's other settings
# (VERIVALI_BENCH_VISITS, VERIVALI_BENCH_PHONES, ...) pass through; the server CPU per visit on
# PostgreSQL counts the database's processes as well as the server's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cluster="$(mktemp -d "${TMPDIR:-/tmp}/verivali-bench-postgres.XXXXXX")"
trap './scripts/postgres.sh stop "$cluster"; rm -rf "$cluster"' EXIT
url="$(./scripts/postgres.sh start "$cluster")"
cargo bench -p verivali-server --bench field --no-run
run() {
    echo "== $1"
    shift
    env "$@" cargo bench -q -p verivali-server --bench field 2>&1 \
        | grep -E "^(import|on Post|[0-9]+ phones|at |  )"
}
run "SQLite, one process" VERIVALI_BENCH_PROCESSES=1
run "PostgreSQL, one process" VERIVALI_BENCH_DATABASE="$url" VERIVALI_BENCH_PROCESSES=1
run "PostgreSQL, two processes" VERIVALI_BENCH_DATABASE="$url" VERIVALI_BENCH_PROCESSES=2
