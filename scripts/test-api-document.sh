#!/usr/bin/env bash
# Compares the OpenAPI document with the server's real answers (issue 12): schemathesis, from
# PyPI, generates requests from /api/v1/openapi.json and sends them to a demo server process whose
# phones sync while it runs; every answer's status, content type, headers and body must be the
# ones the document gives, and none may be a 5xx. Called by scripts/test-all.sh; docs/security.md
# says which checks run and why two are left out.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
cargo build --locked -q -p verivali-server
server="$target/debug/verivali-server"

# One pinned version in its own virtual environment, installed when missing.
version=4.32.5
venv="$HOME/.cache/verivali/schemathesis-$version"
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$version"
fi

work="$(mktemp -d)"
"$server" demo --bind 127.0.0.1:0 --data-dir "$work/data" --pace-ms 300 >"$work/server.out" 2>"$work/server.err" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
    grep -q "listening on" "$work/server.out" && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/server.err"; exit 1; }
    sleep 0.2
done
url="$(grep -o 'listening on http://[^ ]*' "$work/server.out" | cut -d' ' -f3)"
export SUPERVISOR_TOKEN="$(grep -o 'API token: [^ ]*' "$work/server.out" | cut -d' ' -f3)"
code="$(grep -m1 -oP '^  \K\S+(?=  )' "$work/server.out")"

# A phone of our own (the first printed code), and a household the demo phones have visited, so
# that the calls on one household reach real data.
read -r DEVICE_TOKEN HOUSEHOLD_ID < <(python3 - "$url" "$code" "$SUPERVISOR_TOKEN" <<'EOF'
import json, sys, time, urllib.request, uuid
url, code, supervisor = sys.argv[1:]
def call(path, body=None, token=None):
    request = urllib.request.Request(url + "/api/v1" + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json",
                 **({"Authorization": "Bearer " + token} if token else {})})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)
device = call("/devices/enroll", {"code": code, "device_id": str(uuid.uuid4()), "device_name": "schemathesis"})
for _ in range(100):
    visits = call("/queues/visits?limit=1", token=supervisor)["visits"]
    if visits:
        break
    time.sleep(0.2)
print(device["token"], visits[0]["household_id"])
EOF
)
export DEVICE_TOKEN HOUSEHOLD_ID

cat >"$work/schemathesis.toml" <<'EOF'
seed = 1
[generation]
max-examples = 25
[parameters]
household_id = "${HOUSEHOLD_ID}"
[auth.openapi.device]
bearer = "${DEVICE_TOKEN}"
[auth.openapi.supervisor]
bearer = "${SUPERVISOR_TOKEN}"
# The request bodies' schemas give their shape; the validation rules (docs/validation-codes.md)
# refuse more than the shape with a 400 and a code, and a push answers per visit, a bad visit
# REJECTED among good ones. So the two checks that read a 400 as a fault, or a 200 to a bad
# visit as one, are left out; every check of the answers runs.
[checks]
positive_data_acceptance.enabled = false
negative_data_rejection.enabled = false
EOF

# From the scratch directory, where schemathesis keeps its cache.
cd "$work"
"$venv/bin/schemathesis" --config-file schemathesis.toml run "$url/api/v1/openapi.json" \
    --url "$url/api/v1" --no-color
