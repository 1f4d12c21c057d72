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

echo "== Kotlin bindings on the JVM"
# kotlinc from npm's kotlin-compiler and JNA from Debian, installed when missing.
jna=/usr/share/java/jna.jar
if [ ! -f "$jna" ]; then
    apt-get install -y libjna-java >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y libjna-java >/dev/null; }
fi
kotlin_home="$HOME/.cache/verivali/kotlin"
kotlinc="$kotlin_home/node_modules/kotlin-compiler/bin/kotlinc"
if [ ! -x "$kotlinc" ]; then
    mkdir -p "$kotlin_home"
    (cd "$kotlin_home" && npm install --no-audit --no-fund --silent kotlin-compiler@2.4.20)
fi
mkdir -p "$out/kotlin"
cargo run --locked -q -p verivali-ffi --bin uniffi-bindgen -- \
    generate --library "$lib" --language kotlin --no-format --out-dir "$out/kotlin" >/dev/null
# One compilation (kotlinc is slow to start): the bindings, their test, and the Android demo's
# plain-Kotlin logic with its JVM harness.
"$kotlinc" -nowarn -cp "$jna" -d "$out/kotlin/test.jar" \
    "$out/kotlin/id/verivali/core/verivali_ffi.kt" bindings/tests/kotlin/*.kt \
    android-demo/shared/src/main/kotlin/id/verivali/demo/*.kt android-demo/harness/src/main/kotlin/*.kt
stdlib="$(dirname "$kotlinc")/../lib/kotlin-stdlib.jar"
jvm=(java -Djna.library.path="$(dirname "$lib")" -cp "$out/kotlin/test.jar:$jna:$stdlib")
"${jvm[@]}" PhoneTestKt

echo "== Android demo logic on the JVM (android-demo/shared, android-demo/harness)"
"${jvm[@]}" HarnessKt
