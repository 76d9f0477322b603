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
# skynet itself, for the side-by-side tests (kernel/tests/skynet.rs): built once from the anchor
# beside the repo (gcc and make)
if [ -z "${SKYNET_ROOT:-}" ] && [ -f ../shared/anchors/build-skynet.sh ]; then
    SKYNET_ROOT=$(bash ../shared/anchors/build-skynet.sh) && export SKYNET_ROOT ||
        echo "skynet anchor did not build: side-by-side tests will skip" >&2
fi
cargo build --all-targets
cargo test --workspace -- --test-threads=2
