#!/usr/bin/env bash
# Build Cirrus in release mode and start a node (default: the all-in-one config/node.lua).
# Usage: ./start.sh [config/xxx.lua]
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cirrus-target}"
cargo build --release --bin cirrus
exec "$CARGO_TARGET_DIR/release/cirrus" "${1:-config/node.lua}"
