#!/usr/bin/env bash
# What the browser tests need (tests/tests/browser.rs): Debian's chromium, and playwright-core from
# npm under ~/.cache/verivali/browser. Nothing downloads a browser of its own. Called by
# scripts/test-all.sh before the tests; prints the playwright directory.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
    apt-get install -y chromium >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }
fi
dir="$HOME/.cache/verivali/browser"
if [ ! -d "$dir/node_modules/playwright-core" ]; then
    mkdir -p "$dir"
    (cd "$dir" && npm install --no-audit --no-fund --silent playwright-core@1.65.1)
fi
echo "$dir"
