#!/usr/bin/env bash
# The tests, from a fresh Debian machine: installs what is missing, then runs format, lint and every
# test level (Router oneshot, in-process server on port 0, the real binary) plus a bench build.
# Tests start their own redis-server on free loopback ports; nothing here touches a system Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh
help_if_asked "$@" || exit 0
ensure_deps

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "cargo test"
cargo test --workspace --locked

# The benches keep compiling. In the dev profile this reuses the test build's artifacts; the release
# (bench) profile would add a several-minute thin-LTO build that proves nothing more here.
log "cargo bench --no-run (benches keep compiling)"
cargo bench --workspace --locked --no-run --profile dev

log "all checks passed"
