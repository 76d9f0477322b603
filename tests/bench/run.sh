#!/usr/bin/env bash
# Core kernel benchmarks: each runs a Lua workload in a fresh release node and prints one
# figure. Usage: tests/bench/run.sh [pingpong send hub timer spawn] (default: all)
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cirrus-target}"
cargo build --release --bin cirrus -q
threads="${CIRRUS_THREADS:-2}"
for b in "${@:-pingpong send hub timer spawn}"; do
    for name in $b; do
        CIRRUS_BENCH="bench_$name" CIRRUS_BENCH_N="${CIRRUS_BENCH_N:-}" CIRRUS_THREADS="$threads" \
            "$CARGO_TARGET_DIR/release/cirrus" tests/bench/config.lua 2>&1 | grep '^BENCH' || {
            echo "bench $name failed" >&2
            exit 1
        }
    done
done
