#!/usr/bin/env bash
# The test command: builds Cirrus and runs every Rust and Lua test against real servers.
# Redis, MariaDB and PostgreSQL are started (or installed) by tests/ensure_services.sh when
# they are not already answering on their standard ports.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cirrus-target}"
if [ -x tests/ensure_services.sh ]; then
    tests/ensure_services.sh
fi
cargo build --all-targets
cargo test --workspace -- --test-threads=2
