#!/usr/bin/env bash
# Paired criterion run (issue 22: the per-request benchmarks within 5% of before): the bench binary
# built at 934d605 (before issue 22's changes; `cargo bench --bench micro --no-run` in a worktree of
# that commit) saves a baseline, then main's compares against it, one after the other, in the same
# working directory. Usage: crit.sh BEFORE_BENCH_BINARY AFTER_BENCH_BINARY
# Writes crit_before.txt and crit_after.txt beside this script; parse_crit.py turns the second
# into criterion_change.csv.
set -euo pipefail
cd "$(dirname "$0")/../.."
F='^(end_to_end|session_check|revocation)/'
"$1" --bench --save-baseline before "$F" >results/before-after/crit_before.txt 2>&1
"$2" --bench --baseline before "$F" >results/before-after/crit_after.txt 2>&1
