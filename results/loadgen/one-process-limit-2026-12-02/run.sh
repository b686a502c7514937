#!/bin/bash
# One generator against one server, asking for 20,500 users (more than a 20,000-file process holds).
# Usage: run.sh AUTHBENCH_BINARY OUT_DIR   (OUT_DIR must not exist)
set -uo pipefail
B=$(realpath "$1"); OUT=$2
mkdir "$OUT" && cd "$OUT" || exit 2
"$B" serve jwt --fast-login --users 25000 --addr 127.0.0.1:0 > serve.out 2> serve.err &
SP=$!
trap 'kill $SP 2>/dev/null' EXIT
for _ in $(seq 50); do grep -q listening serve.out && break; sleep 0.2; done
URL=$(sed -n 's/^listening on //p' serve.out)
CMD="$B load $URL --scheme jwt --stages 40s:20500,25s:20500 --think 8s --mix me=100 --server-pid $SP --out run --no-progress"
echo "$CMD" > command.txt
/usr/bin/time -f "gen maxrss_kb=%M user=%U sys=%S wall=%e" $CMD > stdout.txt 2> stderr.txt
echo "exit $?" >> stdout.txt
grep VmRSS /proc/$SP/status >> serve.err
