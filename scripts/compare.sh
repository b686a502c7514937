#!/usr/bin/env bash
# The main job, from a fresh Debian machine: install what is missing (redis-server, a C compiler),
# build the release binary, run the whole comparison, then the fault runs into the same folder.
#
#   scripts/compare.sh                       # full run into results/<date-time>; prints what each phase took
#   scripts/compare.sh --quick               # smoke run of every scheme (< 4 min)
#   scripts/compare.sh --out results/mine --repeat 5 --sessions 0,100k,1m
#
# Every argument goes to `authbench compare` (see `authbench compare --help`); `--help` prints this
# without installing or building anything. At the end the raw per-run folders (runs/, faults/) are
# packed into runs.tar.xz in the results folder (`tar xJf runs.tar.xz` unpacks them): the folder
# keeps its CSVs, plots, reports and environment.json, and `authbench report` needs nothing more.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh
if ! help_if_asked "$@"; then
    # Every option of `authbench compare`, from a binary already built (nothing is built for help).
    if [ -x target/release/authbench ]; then
        echo
        target/release/authbench compare --help
    else
        echo "Every option: \`authbench compare --help\` (build with \`cargo build --release\` first)."
    fi
    exit 0
fi
ensure_deps

log "cargo build --release"
cargo build --release --locked --bin authbench

out=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[$i]}" in
        --out) out=${args[$((i + 1))]:-} ;;
        --out=*) out=${args[$i]#--out=} ;;
    esac
done
if [ -z "$out" ]; then
    out="results/$(date -u +%Y-%m-%dT%H-%M-%S)"
    args+=(--out "$out")
fi

log "authbench compare ${args[*]}"
target/release/authbench compare "${args[@]}"

log "authbench faults --out $out"
target/release/authbench faults --out "$out"

# One archive of every raw run, reproducible byte for byte from the same files.
log "packing $out/runs and $out/faults into $out/runs.tar.xz"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00Z' -C "$out" -cf - runs faults |
    xz -9 -T1 >"$out/runs.tar.xz"
rm -rf "${out:?}/runs" "${out:?}/faults"

log "done: $out/report.md, $out/report.html, $out/reliability.md, $out/runs.tar.xz"
