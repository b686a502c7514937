#!/usr/bin/env bash
# Paired generator CPU per request, before (68ee228, pre-flows) vs after (main), against one jwt server.
# ABAB rounds; the flow path is the jwt closed model with the default mix (me/refresh/logout).
set -euo pipefail
BEFORE=${BEFORE:-/tmp/authbench-68ee228}
AFTER=${AFTER:-/work/main/target/release/authbench}
ROUNDS=${ROUNDS:-4}
D=${D:-8s}
C=${C:-50}
LOG=$(mktemp)
$AFTER serve jwt --fast-login --addr 127.0.0.1:0 > "$LOG" 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null' EXIT
for _ in $(seq 50); do grep -q "listening on" "$LOG" && break; sleep 0.1; done
ADDR=$(grep -o "listening on [^ ]*" "$LOG" | head -1 | awk '{print $3}')
echo "server $ADDR pid $SRV; rounds $ROUNDS × (before, after), $D each, -c $C" >&2
echo "round,arm,rps,gen_cpu_pct,gen_us_per_req,server_us_per_req,errors"
for r in $(seq "$ROUNDS"); do
  for arm in before after; do
    bin=$BEFORE; [ "$arm" = after ] && bin=$AFTER
    j=$($bin load "$ADDR" --scheme jwt -c "$C" --duration "$D" --server-pid "$SRV" --json 2>/dev/null)
    echo "$j" | python3 "$(dirname "$0")/parse_gen.py" "$r" "$arm"
  done
done
