#!/usr/bin/env bash
# The field bench with peers beside it, in the same run (issue 13): installs RxDB server with its
# memory storage and pouchdb-server from npm (into ~/.cache/verivali/peers, once), starts them on
# loopback (RxDB in memory, PouchDB in memory and on LevelDB), and runs
#     cargo bench -p verivali-server --bench field
# with VERIVALI_BENCH_PEERS naming them, so that every segment pushed to Verivali is pushed to each
# peer as well. The bench's other settings (VERIVALI_BENCH_VISITS, ...) pass through.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peers=${VERIVALI_PEERS_DIR:-$HOME/.cache/verivali/peers}
mkdir -p "$peers"
cd "$peers"
# rxdb-server 15.22 is written for rxdb 15.22 and express 4 (its own development versions).
if [ ! -f .installed-v1 ]; then
  [ -f package.json ] || npm init -y >/dev/null
  npm install --no-audit --no-fund rxdb@15.22.0 rxdb-server@15.22.0 rxjs@7.8.1 \
    express@4.19.2 cors@2.8.6 pouchdb-server@4.2.0
  touch .installed-v1
fi
# Node resolves the script's imports from where it lies.
cp "$root/scripts/peers/rxdb-server.mjs" .

scratch=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_for() {
  for _ in $(seq 100); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.2
  done
  echo "no answer from $1" >&2
  exit 1
}

rx_port=$(free_port)
node rxdb-server.mjs "$rx_port" >"$scratch/rxdb.log" 2>&1 &
rx_pid=$!
pids+=("$rx_pid")

peer_list="rxdb-memory=rxdb@http://127.0.0.1:$rx_port/visits/0@$rx_pid"
pouch() { # name, then pouchdb-server's storage options
  local name=$1 port pid
  shift
  port=$(free_port)
  mkdir -p "$scratch/$name"
  (cd "$scratch/$name" && exec "$peers/node_modules/.bin/pouchdb-server" --host 127.0.0.1 \
    --port "$port" --no-stdout-logs "$@" >"$scratch/$name.log" 2>&1) &
  pid=$!
  pids+=("$pid")
  wait_for "http://127.0.0.1:$port/"
  curl -sf -X PUT "http://127.0.0.1:$port/visits" >/dev/null
  peer_list="$peer_list,$name=pouchdb@http://127.0.0.1:$port/visits@$pid"
}
pouch pouchdb-memory --in-memory
pouch pouchdb-leveldb --dir "$scratch/pouchdb-leveldb"
wait_for "http://127.0.0.1:$rx_port/visits/0/pull?lwt=0&id=&limit=1"

export VERIVALI_BENCH_PEERS="$peer_list"
cd "$root"
cargo bench -p verivali-server --bench field
