#!/usr/bin/env bash
# Build Cirrus (release) and run nodes.
#
#   ./start.sh                       the all-in-one node (config/node.lua), in the foreground
#   ./start.sh CONFIG [ARGS...]      any node config, in the foreground
#   ./start.sh cluster up            the local cluster in the background: locator, login, hall,
#                                    chat, game1 and gate on Redis + MariaDB (logs in log/)
#   ./start.sh cluster status        which of its nodes run
#   ./start.sh cluster down          stop them (standby game nodes the locator started too)
#
# Cluster settings from the environment: CIRRUS_REDIS (host:port, default 127.0.0.1:6379),
# CIRRUS_SQL (default mysql://root@127.0.0.1:3306/cirrus; the database is created when the
# mariadb client is at hand), CIRRUS_STORE_PREFIX (default empty), CIRRUS_STANDBY (standby game
# nodes, default "game2:2,game3:3").
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cirrus-target}"
BIN="$CARGO_TARGET_DIR/release/cirrus"

build() {
    cargo build --release --bin cirrus --bin cirrus-bench
}

NODES="locator login hall chat game1 gate"

config_of() {
    case "$1" in
        game*) echo config/game.lua ;;
        *) echo "config/$1.lua" ;;
    esac
}

pid_of() {
    local f="run/$1.pid"
    [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

cluster_up() {
    build
    export CIRRUS_REDIS="${CIRRUS_REDIS:-127.0.0.1:6379}"
    export CIRRUS_SQL="${CIRRUS_SQL:-mysql://root@127.0.0.1:3306/cirrus}"
    export CIRRUS_STORE_PREFIX="${CIRRUS_STORE_PREFIX:-}"
    export CIRRUS_STANDBY="${CIRRUS_STANDBY:-game2:2,game3:3}"
    export CIRRUS_START_GAME="$BIN config/game.lua"
    if command -v mariadb >/dev/null && [[ "$CIRRUS_SQL" == mysql://root@127.0.0.1:3306/* ]]; then
        mariadb -uroot -h127.0.0.1 -e "CREATE DATABASE IF NOT EXISTS ${CIRRUS_SQL##*/}"
    fi
    mkdir -p log run
    for n in $NODES; do
        if pid=$(pid_of "$n"); then
            echo "$n already runs (pid $pid)"
            continue
        fi
        local id="${n#game}"
        CIRRUS_NODE="$n" CIRRUS_SERVER_ID="$id" setsid "$BIN" "$(config_of "$n")" >>"log/$n.log" 2>&1 &
        echo $! >"run/$n.pid"
        # wait for the node before the next one, so a failing node is reported here
        for _ in $(seq 100); do
            grep -q "GAME NODE READY name=$n " "log/$n.log" 2>/dev/null && break
            if ! kill -0 "$(cat "run/$n.pid")" 2>/dev/null; then
                echo "$n failed to start; log/$n.log says:" >&2
                tail -20 "log/$n.log" >&2
                exit 1
            fi
            sleep 0.1
        done
        echo "$n up (pid $(cat "run/$n.pid"), log/$n.log)"
    done
    echo "cluster up: clients connect to 127.0.0.1:8888 (TCP) or :8889 (WebSocket)"
}

cluster_down() {
    for n in $NODES; do
        if pid=$(pid_of "$n"); then
            kill "$pid" && echo "$n stopped (pid $pid)"
        fi
        rm -f "run/$n.pid"
    done
    # standby game nodes were launched by the locator
    pkill -f "$BIN config/game.lua" && echo "standby game nodes stopped" || true
}

cluster_status() {
    for n in $NODES; do
        if pid=$(pid_of "$n"); then echo "$n running (pid $pid)"; else echo "$n down"; fi
    done
    pgrep -af "$BIN config/game.lua" || true
}

if [ "${1:-}" = cluster ]; then
    case "${2:-}" in
        up) cluster_up ;;
        down) cluster_down ;;
        status) cluster_status ;;
        *) echo "usage: $0 cluster up|down|status" >&2; exit 2 ;;
    esac
    exit 0
fi

build
exec "$BIN" "${1:-config/node.lua}" "${@:2}"
