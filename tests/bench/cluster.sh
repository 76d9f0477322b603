#!/usr/bin/env bash
# Cluster benchmark: node b serves, node a measures (bench_cluster.lua). Prints BENCH lines.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cirrus-target}"
cargo build --release --bin cirrus -q
bin="$CARGO_TARGET_DIR/release/cirrus"
conf=$(mktemp /tmp/cirrus-cluster-XXXX.lua)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
printf 'a = "127.0.0.1:%s"\nb = "127.0.0.1:%s"\n' "$(port)" "$(port)" > "$conf"
export CIRRUS_CLUSTER_FILE="$conf" CIRRUS_THREADS="${CIRRUS_THREADS:-2}"
CIRRUS_NODE=b CIRRUS_START=bench_sink "$bin" tests/bench/cluster_node.lua >/dev/null 2>&1 &
b=$!
trap 'kill $b 2>/dev/null; rm -f "$conf"' EXIT
CIRRUS_NODE=a CIRRUS_START=bench_cluster "$bin" tests/bench/cluster_node.lua 2>&1 | grep '^BENCH'
