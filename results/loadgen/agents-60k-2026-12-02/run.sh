#!/bin/bash
# 4 agents, each against its own server process: 60,000 logged-in users on one machine (issue 14).
# Usage: run.sh AUTHBENCH_BINARY OUT_DIR   (OUT_DIR must not exist)
set -euo pipefail
B=$(realpath "$1"); OUT=$2
mkdir "$OUT"; cd "$OUT"
cleanup() { for i in 1 2 3 4; do [ -f serve$i.pid ] && kill "$(cat serve$i.pid)" 2>/dev/null || true; done; }
trap cleanup EXIT
for i in 1 2 3 4; do
  "$B" serve jwt --fast-login --users 60000 --idle-timeout 30s --addr 127.0.0.1:0 > serve$i.out 2> serve$i.err &
  echo $! > serve$i.pid
done
for i in 1 2 3 4; do for _ in $(seq 100); do grep -q listening serve$i.out && break; sleep 0.2; done; done
START=$(date -u -d '+15 seconds' +%Y-%m-%dT%H:%M:%SZ)
for i in 1 2 3 4; do
  URL=$(sed -n 's/^listening on //p' serve$i.out)
  CMD="$B load $URL --scheme jwt --stages 40s:60000,25s:60000 --think 8s --mix me=100 --agent $i/4 --start-at $START --server-pid $(cat serve$i.pid) --out agent$i --no-progress"
  echo "$CMD" > agent$i.cmd
  /usr/bin/time -f "gen maxrss_kb=%M user=%U sys=%S wall=%e" $CMD > agent$i.out 2> agent$i.err &
done
wait $(jobs -p | tail -4) 2>/dev/null || true
sleep 1
for i in 1 2 3 4; do grep VmRSS /proc/"$(cat serve$i.pid)"/status >> serve$i.err; done
"$B" merge merged agent1 agent2 agent3 agent4 > merge.out 2> merge.err; echo "merge exit $?" >> merge.out
