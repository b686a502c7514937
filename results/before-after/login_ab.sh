#!/usr/bin/env bash
# Login throughput at the default password cost (argon2id m=19 MiB, t=2, p=1), before (934d605)
# and after (main), ABAB, each arm its own server on one private redis-server; closed model,
# every virtual user logs in, logs out, logs in again (--mix logout=1).
set -euo pipefail
BEFORE=${BEFORE:-/tmp/authbench-934d605}
AFTER=${AFTER:-/work/main/target/release/authbench}
ROUNDS=${ROUNDS:-3}; D=${D:-8s}; C=${C:-4}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >/dev/null 2>&1 &
RS=$!
trap 'kill $RS 2>/dev/null; [ -n "${SRV:-}" ] && kill $SRV 2>/dev/null' EXIT
sleep 0.5
echo "round,arm,logins_per_s,login_p50_ms,login_p99_ms,errors,server_us_per_login"
for r in $(seq "$ROUNDS"); do
  for arm in before after; do
    bin=$BEFORE; [ "$arm" = after ] && bin=$AFTER
    LOG=$(mktemp)
    $bin serve session --addr 127.0.0.1:0 --redis-url "redis://127.0.0.1:$PORT" > "$LOG" 2>&1 &
    SRV=$!
    for _ in $(seq 100); do grep -q "listening on" "$LOG" && break; sleep 0.1; done
    ADDR=$(grep -o "listening on [^ ]*" "$LOG" | head -1 | awk '{print $3}')
    j=$($bin load "$ADDR" --scheme session -c "$C" --duration "$D" --mix me=0,refresh=0,logout=1 --server-pid "$SRV" --json 2>/dev/null)
    kill $SRV; wait $SRV 2>/dev/null || true; SRV=""
    echo "$j" | python3 /tmp/parse_login.py "$r" "$arm"
  done
done
