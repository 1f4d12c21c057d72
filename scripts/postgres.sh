#!/usr/bin/env bash
# A private PostgreSQL cluster on loopback, for the tests of the PostgreSQL engine (issue 16).
#
#   scripts/postgres.sh start DIR   installs Debian's PostgreSQL when it is missing, creates a
#                                   cluster in DIR (once), starts it on a free port of 127.0.0.1
#                                   and prints the URL of its maintenance database;
#   scripts/postgres.sh stop DIR    stops it.
#
# Tests create a database of their own in it for each run (VERIVALI_TEST_POSTGRES).
set -euo pipefail
action="${1:?start or stop}"
dir="${2:?the directory of the cluster}"

bin_dir() {
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
    if [ -z "$found" ]; then
        echo "installing PostgreSQL (Debian's packages)" >&2
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q postgresql >&2 \
            || { $sudo apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive \
                $sudo apt-get install -y -q postgresql >&2; }
        found="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
    fi
    echo "$found"
}

# PostgreSQL refuses to run as root: as root, the cluster belongs to the packages' user.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

bin="$(bin_dir)"
case "$action" in
start)
    mkdir -p "$dir"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
            --locale=C.UTF-8 >/dev/null
    fi
    port=55432
    while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300" \
        start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    ;;
*)
    echo "start or stop" >&2
    exit 2
    ;;
esac
