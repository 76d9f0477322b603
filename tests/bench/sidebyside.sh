#!/usr/bin/env bash
# Side by side with skynet: each workload below runs from the same Lua file (tests/bench/,
# skynet's API only) on Cirrus and, when SKYNET_ROOT names a built skynet tree, on skynet,
# one right after the other; prints both figures and the ratio (> 1: Cirrus is better).
#
#   export SKYNET_ROOT=$(../shared/anchors/build-skynet.sh)     # optional
#   tests/bench/sidebyside.sh [RUNS] [WORKLOAD...]
#
# Workloads: pingpong (one pair, 200k calls), send (1M one-way sends then a call), hub (1,000
# callers x 200 calls to one service), timer (100k timeouts of 1..100 cs drained: seconds
# beyond the 1 s the longest one needs), spawn (10k newservice: services/s, and resident KB per
# idle service), gate (echo through skynet's gate service and a watchdog that socket.writes
# each frame back, tests/bench/bench_gate.lua, driven by `cirrus-bench echo`: 1,000 closed-loop
# TCP clients, 32-byte frames, 2 s warm-up then 8 s measured; echoes/s and p99 latency).
# The load average is printed before each pair: this machine is shared.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cirrus-target}"
cargo build --release --bin cirrus --bin cirrus-bench -q
cirrus="$CARGO_TARGET_DIR/release/cirrus"
bench="$CARGO_TARGET_DIR/release/cirrus-bench"
gate_port=8899
runs="${1:-1}"
shift || true
workloads=("${@:-pingpong send hub timer spawn gate}")
read -r -a workloads <<<"${workloads[*]}"
tmp=$(mktemp -d /tmp/cirrus-sbs-XXXX)
trap 'rm -rf "$tmp"' EXIT

cirrus_conf() { # start service
    cat >"$tmp/cirrus.lua" <<EOF
thread = 2
harbor = 0
start = "$1"
luaservice = "$root/service/?.lua;$root/tests/bench/?.lua"
lua_path = "$root/lualib/?.lua;$root/lualib/?/init.lua"
bench_port = $gate_port
EOF
    echo "$tmp/cirrus.lua"
}

skynet_conf() {
    local s="$SKYNET_ROOT"
    cat >"$tmp/skynet.lua" <<EOF
thread = 2
harbor = 0
start = "$1"
bootstrap = "snlua bootstrap"
luaservice = "$s/service/?.lua;$root/tests/bench/?.lua"
lualoader = "$s/lualib/loader.lua"
lua_path = "$s/lualib/?.lua;$s/lualib/?/init.lua"
lua_cpath = "$s/luaclib/?.so"
cpath = "$s/cservice/?.so"
bench_port = $gate_port
EOF
    echo "$tmp/skynet.lua"
}

# The figure of a BENCH line: a rate ("= N unit/s"), the timer's drain time beyond 1 s, or
# spawn's KB per idle service (second figure).
figure() { # workload line [which]
    case "$1:${3:-}" in
        timer:) sed -E 's/.*all fired after ([0-9.]+) s.*/\1/' <<<"$2" | awk '{printf "%.3f", $1 - 1}' ;;
        spawn:kb) sed -E 's/.*RSS \+([0-9.]+) KB.*/\1/' <<<"$2" ;;
        gate:) sed -nE 's/.*messages\/s: ([0-9.]+).*/\1/p' <<<"$2" ;;
        gate:p99) sed -nE 's/.* p99 ([0-9.]+) .*/\1/p' <<<"$2" ;;
        *) sed -E 's/.*= ([0-9.]+) [a-z ]+\/s.*/\1/' <<<"$2" ;;
    esac
}

run_one() { # bin conf -> the BENCH line (gate: the load generator's report)
    if [ "$w" = gate ]; then
        "$@" >"$tmp/server.log" 2>&1 &
        local pid=$!
        for _ in $(seq 200); do
            grep -q "BENCH gate listening" "$tmp/server.log" && break
            sleep 0.05
        done
        "$bench" echo --addr "127.0.0.1:$gate_port" --conns 1000 --size 32 --warmup 2 \
            --duration 8 2>&1 || echo "BENCH (no figure)"
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null || true
        return
    fi
    timeout 300 "$@" 2>&1 | grep -m1 '^BENCH' || echo "BENCH (no figure)"
}

printf '%-9s %-14s %14s %14s %8s\n' workload unit cirrus skynet ratio
for w in "${workloads[@]}"; do
    for _ in $(seq "$runs"); do
        load=$(cut -d' ' -f1 /proc/loadavg)
        c=$(run_one "$cirrus" "$(cirrus_conf "bench_$w")")
        s=""
        if [ -n "${SKYNET_ROOT:-}" ]; then
            s=$(cd "$SKYNET_ROOT" && run_one ./skynet "$(skynet_conf "bench_$w")")
        fi
        for which in "" kb p99; do
            [ "$which" = kb ] && [ "$w" != spawn ] && continue
            [ "$which" = p99 ] && [ "$w" != gate ] && continue
            case "$w:$which" in
                timer:) unit="s over 1 s" ;;
                spawn:kb) unit="KB/service" ;;
                gate:p99) unit="p99 ms" ;;
                *) unit="per s" ;;
            esac
            cf=$(figure "$w" "$c" "$which")
            sf=$([ -n "$s" ] && figure "$w" "$s" "$which" || echo "-")
            ratio=-
            if [ "$sf" != "-" ]; then
                # lower is better for times and memory
                if [ "$w" = timer ] || [ -n "$which" ]; then
                    ratio=$(awk -v a="$cf" -v b="$sf" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }')
                else
                    ratio=$(awk -v a="$cf" -v b="$sf" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
                fi
            fi
            printf '%-9s %-14s %14s %14s %8s   (load %s)\n' "$w" "$unit" "$cf" "$sf" "$ratio" "$load"
        done
    done
done
