#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/) for SECONDS each, default 30, from its committed
# seed corpus fuzz/corpus/<target>/. What the run finds goes to a scratch corpus, never into the
# repository; a crash stops the run with its input in fuzz/artifacts/<target>/ (docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
# The test command's runs are the same each time (seed 1: a red CI means a real find in that
# sequence, not chance); a longer hunt takes another, e.g. FUZZ_SEED=$RANDOM.
seed="${FUZZ_SEED:-1}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
# libFuzzer's instrumentation flags are nightly-only; the stable compiler accepts them so.
export RUSTC_BOOTSTRAP=1
# Its own target directory: the instrumented build shares nothing with the normal one.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}-fuzz"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cd fuzz
# Debug assertions and overflow checks come from fuzz/Cargo.toml's release profile.
flags=(-O --sanitizer none)
cargo fuzz build "${flags[@]}"
for target in $(cargo fuzz list); do
    mkdir -p "$scratch/$target"
    status=0
    cargo fuzz run "${flags[@]}" "$target" "$scratch/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -seed="$seed" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        >"$scratch/$target.log" 2>&1 || status=$?
    runs="$(grep -m1 -oE 'stat::number_of_executed_units: [0-9]+' "$scratch/$target.log" || true)"
    echo "-- $target: ${seconds} s, seed $seed, ${runs#stat::number_of_executed_units: } inputs, exit $status"
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$scratch/$target.log"
        exit "$status"
    fi
done
