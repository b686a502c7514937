#!/bin/bash
# Memory per logged-in user must not depend on the sweep's levels (issue 11): the session scheme's
# slope at two level sets, one run each, same binary.
# Usage: run.sh AUTHBENCH_BINARY OUT_DIR
set -euo pipefail
B=$(realpath "$1"); OUT=$2
mkdir -p "$OUT"
"$B" compare --quick --schemes session --sessions 0,100k,200k --seed 11 --no-progress --out "$OUT/levels-0-100k-200k"
"$B" compare --quick --schemes session --sessions 0,500k,1m --seed 11 --no-progress --out "$OUT/levels-0-500k-1m"
for d in "$OUT"/levels-*/; do
  echo "$d: $(grep '^session,store_bytes_per_session,' "$d/summary.csv")"
done
