#!/usr/bin/env bash
# CPU time per authenticated GET /api/me divided by CPU time per GET /healthz, on the same server in
# the same run, for each scheme (issue 2's "equally tuned" figure). An independent generator (wrk)
# so the figure does not depend on authbench's own load generator.
#
#   scripts/cpu-ratio.sh [OUT_DIR] [DURATION_S] [CONNECTIONS] [ROUNDS]
#
# CPU = utime+stime of the server process from /proc/PID/stat (plus redis-server's
# used_cpu_user+used_cpu_sys from INFO for `session`), divided by requests wrk completed in the same
# window. healthz and me alternate ROUNDS times per scheme so drift on a shared machine hits both.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh
help_if_asked "$@" || exit 0
AUTHBENCH_NEED_WRK=1 ensure_deps
apt_install curl

OUT=${1:-results/cpu-ratio}
DUR=${2:-8}
CONNS=${3:-50}
ROUNDS=${4:-3}
mkdir -p "$OUT"
cargo build --release --locked --bin authbench >&2
BIN=target/release/authbench
TICK=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
redis_cpu_us() { redis-cli -p "$1" INFO cpu | awk -F: '/^used_cpu_(sys|user):/{s+=$2} END{printf "%.0f", s*1e6}'; }

csv="$OUT/cpu-ratio.csv"
echo "scheme,round,endpoint,requests,server_cpu_us_per_req,redis_cpu_us_per_req,total_cpu_us_per_req" >"$csv"

SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; }
trap cleanup EXIT
: >"$OUT/credential-bytes.txt"

for scheme in cookie session jwt; do
    # `serve session` starts its own private redis-server (with a generated password) and names
    # its port on stderr.
    fifo=$(mktemp -u); mkfifo "$fifo"; errlog=$(mktemp)
    "$BIN" serve "$scheme" --fast-login --users 1000 >"$fifo" 2>"$errlog" &
    SERVER_PID=$!
    read -r line <"$fifo"; rm -f "$fifo"
    base=${line#listening on }
    sleep 0.2
    REDIS_PORT=$(sed -n 's/.*private redis-server at redis:\/\/[^ ]*@127.0.0.1:\([0-9]*\).*/\1/p' "$errlog")
    # Its password (printed nowhere): the config file in its private directory, ours to read.
    [ -n "$REDIS_PORT" ] && REDISCLI_AUTH=$(sed -n 's/^requirepass //p' \
        "${TMPDIR:-/tmp}/authbench-redis-$SERVER_PID-$REDIS_PORT/auth.conf") && export REDISCLI_AUTH
    login=$(curl -s -i -H 'Content-Type: application/json' -d '{"username":"user1","password":"password1"}' "$base/auth/login")
    if [ "$scheme" = jwt ]; then
        token=$(printf '%s' "$login" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
        header="Authorization: Bearer $token"
    else
        header="Cookie: $(printf '%s' "$login" | tr -d '\r' | sed -n 's/^set-cookie: \([^;]*\).*/\1/Ip')"
    fi
    curl -sf -H "$header" "$base/api/me" >/dev/null || { echo "login/me failed for $scheme" >&2; exit 1; }
    value=${header#*: }
    echo "$scheme,${#value}" >>"$OUT/credential-bytes.txt"
    wrk -t1 -c"$CONNS" -d2s "$base/healthz" >/dev/null   # warm-up, not recorded
    wrk -t1 -c"$CONNS" -d2s -H "$header" "$base/api/me" >/dev/null
    for round in $(seq "$ROUNDS"); do
        for ep in healthz me; do
            path=/healthz; hdr=()
            [ "$ep" = me ] && { path=/api/me; hdr=(-H "$header"); }
            c0=$(cpu_ticks "$SERVER_PID"); r0=0; [ -n "$REDIS_PORT" ] && r0=$(redis_cpu_us "$REDIS_PORT")
            out=$(wrk -t1 -c"$CONNS" -d"${DUR}s" "${hdr[@]}" "$base$path")
            c1=$(cpu_ticks "$SERVER_PID"); r1=0; [ -n "$REDIS_PORT" ] && r1=$(redis_cpu_us "$REDIS_PORT")
            reqs=$(printf '%s\n' "$out" | awk '/requests in/{print $1}')
            non2xx=$(printf '%s\n' "$out" | awk '/Non-2xx/{print $NF}')
            [ -n "$non2xx" ] && { echo "$scheme $ep: $non2xx non-2xx responses" >&2; exit 1; }
            server=$(awk -v c="$((c1 - c0))" -v t="$TICK" -v n="$reqs" 'BEGIN{printf "%.3f", c/t*1e6/n}')
            redis=0
            [ "$scheme" = session ] && redis=$(awk -v d="$((r1 - r0))" -v n="$reqs" 'BEGIN{printf "%.3f", d/n}')
            total=$(awk -v a="$server" -v b="$redis" 'BEGIN{printf "%.3f", a+b}')
            echo "$scheme,$round,$ep,$reqs,$server,$redis,$total" >>"$csv"
            echo "$scheme round $round $ep: $reqs req, server $server us/req, redis $redis us/req" >&2
        done
    done
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; rm -f "$errlog"
done

# Ratio per scheme: mean over rounds of (me total / healthz server) in the same round.
{
    echo "# CPU per /api/me over CPU per /healthz, same server, same run (wrk -t1 -c$CONNS -d${DUR}s, $ROUNDS rounds)"
    echo "# command: scripts/cpu-ratio.sh $*"
    echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, kernel $(uname -r), $(date -u +%FT%TZ)"
    echo "scheme,ratio_mean,ratio_min,ratio_max,rounds"
    awk -F, 'NR>1{k=$1","$2; if($3=="healthz") h[k]=$7; else m[k]=$7; s[$1]=1}
        END{for (sc in s){n=0;sum=0;mn=1e9;mx=0;
              for (k in m){split(k,p,","); if(p[1]==sc && h[k]>0){r=m[k]/h[k];sum+=r;n++; if(r<mn)mn=r; if(r>mx)mx=r}}
              if(n>0) printf "%s,%.2f,%.2f,%.2f,%d\n", sc, sum/n, mn, mx, n}}' "$csv" | sort
} >"$OUT/cpu-ratio.md.tmp"
mv "$OUT/cpu-ratio.md.tmp" "$OUT/ratio.txt"
cat "$OUT/ratio.txt"
