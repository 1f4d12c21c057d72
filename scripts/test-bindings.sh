#!/usr/bin/env bash
# Tests of the generated bindings (DESIGN §10): builds the library and the server, generates the
# Python (and Kotlin) code from the built library with the workspace's uniffi-bindgen, and runs
# each language's tests against a real server process. Called by scripts/test-all.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
cargo build --locked -p verivali-ffi -p verivali-server
lib="$target/debug/libverivali_ffi.so"
out="$target/bindings-test"
rm -rf "$out" && mkdir -p "$out/python"
cargo run --locked -q -p verivali-ffi --bin uniffi-bindgen -- \
    generate --library "$lib" --language python --out-dir "$out/python" >/dev/null
cp "$lib" "$out/python/"

export VERIVALI_SERVER_BIN="$target/debug/verivali-server"
echo "== Python bindings"
VERIVALI_BINDINGS_DIR="$out/python" python3 -m unittest -v bindings/tests/python/test_phone.py
