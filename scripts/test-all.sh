#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, and the tests of all crates.
# This is the README's test command, and .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== browser test dependencies (chromium, playwright-core)"
VERIVALI_PLAYWRIGHT_DIR="$(./scripts/browser-deps.sh)"
export VERIVALI_PLAYWRIGHT_DIR
echo "== a private PostgreSQL cluster on loopback (the PostgreSQL engine's tests)"
postgres_dir="$(mktemp -d "${TMPDIR:-/tmp}/verivali-postgres.XXXXXX")"
trap './scripts/postgres.sh stop "$postgres_dir"; rm -rf "$postgres_dir"' EXIT
VERIVALI_TEST_POSTGRES="$(./scripts/postgres.sh start "$postgres_dir")"
export VERIVALI_TEST_POSTGRES
# Here no test of the PostgreSQL engine may skip itself.
export VERIVALI_REQUIRE_POSTGRES=1
echo "== cargo test"
cargo test --workspace --locked
echo "== the server's API tests again, on PostgreSQL (each test's server in a database of its own)"
# The binary `cargo test --workspace` built: selecting it with `-p`/`--test` would unify features
# differently and build the server again.
api_tests="$(cargo test --workspace --locked --no-run --message-format=json 2>/dev/null \
    | grep '"kind":\["test"\],"crate_types":\["bin"\],"name":"api"' \
    | grep -o '"executable":"[^"]*"' | cut -d'"' -f4)"
(cd server && VERIVALI_TEST_ENGINE=postgres "$api_tests")
echo "== generated bindings against a real server"
./scripts/test-bindings.sh
echo "== the .deb package of the server (cargo-deb, dpkg-deb, systemd-analyze)"
./scripts/test-package.sh
echo "== the OpenAPI document against real answers (schemathesis)"
./scripts/test-api-document.sh
echo "== fuzzing every decoder of outside input (30 s each)"
./scripts/fuzz.sh 30
echo "== all tests passed"
