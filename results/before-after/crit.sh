#!/usr/bin/env bash
# Paired criterion runs (issue 22: the per-request benchmarks within 5% of before): the bench binary
# built at 934d605 (before issue 22's changes; `cargo bench --bench micro --no-run` in a worktree of
# that commit) and main's, alternating before, after, before, after (ROUNDS pairs, default 2) in
# one sitting and one working directory, each saved as a criterion baseline (before1, after1, …).
# parse_crit.py then reads each baseline's estimates and writes criterion_change.csv.
# Usage: crit.sh BEFORE_BENCH_BINARY AFTER_BENCH_BINARY
set -euo pipefail
cd "$(dirname "$0")/../.."
F='^(end_to_end|session_check|revocation)/'
for r in $(seq 1 "${ROUNDS:-2}"); do
    echo "round $r: before" >&2
    "$1" --bench --save-baseline "before$r" "$F" >/dev/null 2>&1
    echo "round $r: after" >&2
    "$2" --bench --save-baseline "after$r" "$F" >/dev/null 2>&1
done
