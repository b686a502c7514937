#!/usr/bin/env bash
# Fault runs on a fresh Debian machine: a Redis outage under session load, the target killed
# mid-run, the generator interrupted; writes faults.csv and reliability.md into RESULTS_DIR
# (by default the newest folder under results/, so they sit beside that compare run).
#
#   scripts/faults.sh [RESULTS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh
help_if_asked "$@" || exit 0
ensure_deps
out=${1:-$(ls -d results/*/ 2>/dev/null | grep -v -e micro -e loadgen -e cpu-ratio | sort | tail -n 1)}
out=${out:-results/faults}
cargo build --release --locked --bin authbench >&2
log "authbench faults --out $out"
exec target/release/authbench faults --out "$out"
