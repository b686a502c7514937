#!/usr/bin/env bash
# Measure `authbench load` as a load generator, and record the figures under results/loadgen/.
#
#   scripts/bench-loadgen.sh [throughput|vus10k|all]     (default: all)
#
# throughput: closed-loop GET /healthz with the same connection count (C, default 50) as wrk
#   (Debian's wrk, -t = nproc), against the same `authbench serve` process, interleaved
#   ABBA rounds (R, default 6 → 12 runs of D seconds each, default 10). Reports each run and
#   the medians; the ratio is median(authbench) / median(wrk).
# vus10k: 10,000 logged-in virtual users (jwt, ramped over 20 s, then held 30 s), each sending
#   GET /api/me once a second (--think 1s), with server CPU/RSS sampled; must show zero
#   generator-side errors.
#
# Environment: C, R, D (above); VUS (default 10000); SKIP_BUILD=1 uses the existing release
# binary; CARGO_TARGET_DIR honoured.
set -euo pipefail

cd "$(dirname "$0")/.."
MODE=${1:-all}
C=${C:-50}
R=${R:-6}
D=${D:-10}
VUS=${VUS:-10000}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
BIN="$TARGET_DIR/release/authbench"
OUT=results/loadgen
mkdir -p "$OUT"
STAMP=$(date -u +%Y-%m-%dT%H%MZ)

. scripts/lib/deps.sh
AUTHBENCH_NEED_WRK=1 ensure_deps   # wrk and redis-server from Debian's packages when missing
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --quiet
THREADS=$(nproc)

machine() {
    echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    echo "- nproc: $(nproc); kernel: $(uname -r); $(grep -m1 MemTotal /proc/meminfo | tr -s ' ')"
    echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: other"
    echo "  engineers compile on the same 2 cores, so absolute numbers are noisy; runs are interleaved"
    echo "  so both tools see the same noise, and medians are reported)"
    echo "- rustc: $(rustc --version); wrk: $(wrk -v 2>&1 | head -1)"
}

SERVER_PID=""
start_server() { # scheme, extra args...
    local scheme=$1; shift
    local log
    log=$(mktemp)
    "$BIN" serve "$scheme" --fast-login "$@" >"$log" 2>/dev/null &
    SERVER_PID=$!
    for _ in $(seq 100); do
        if grep -q '^listening on ' "$log"; then break; fi
        sleep 0.05
    done
    URL=$(sed -n 's/^listening on //p' "$log" | head -1)
    rm -f "$log"
    [ -n "$URL" ] || { echo "server did not start" >&2; exit 1; }
}
stop_server() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }
trap stop_server EXIT

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.4f\n", (a[NR/2]+a[NR/2+1])/2}'; }

throughput() {
    start_server cookie
    local file="$OUT/throughput-vs-wrk.md" raw
    raw=$(mktemp -d)
    local wrk_cmd="wrk -t$THREADS -c$C -d${D}s --latency $URL/healthz"
    local ab_cmd="$BIN load --target $URL --scheme none --vus $C --duration ${D}s --no-progress --out DIR"
    : >"$raw/wrk.rps"; : >"$raw/ab.rps"; : >"$raw/ratio"
    local rows=""
    for round in $(seq "$R"); do
        local w_r="" a_r=""
        # ABBA: alternate which tool goes first, so drift in the machine's load hits both.
        local order="wrk ab"; [ $((round % 2)) -eq 0 ] && order="ab wrk"
        for tool in $order; do
            if [ "$tool" = wrk ]; then
                local o rps p50 p99
                o=$($wrk_cmd)
                rps=$(echo "$o" | awk '/^Requests\/sec:/ {print $2}')
                p50=$(echo "$o" | awk '$1=="50%" {print $2}')
                p99=$(echo "$o" | awk '$1=="99%" {print $2}')
                echo "$rps" >>"$raw/wrk.rps"; w_r=$rps
                rows+="| $round | wrk | $rps | $p50 | $p99 | $(cut -d' ' -f1 /proc/loadavg) |"$'\n'
            else
                local dir="$raw/ab-$round"
                "$BIN" load --target "$URL" --scheme none --vus "$C" --duration "${D}s" --no-progress --out "$dir" >/dev/null
                local line
                line=$(python3 -c "
import json; s=json.load(open('$dir/summary.json')); h=s['endpoints']['healthz']; l=h['latency_us']
print('%.0f %.2fms %.2fms %s' % (h['rps'], l['p50']/1000, l['p99']/1000, s['generator']['cpu_percent']))")
                set -- $line
                echo "$1" >>"$raw/ab.rps"; a_r=$1
                rows+="| $round | authbench | $1 | $2 | $3 | $(cut -d' ' -f1 /proc/loadavg) |"$'\n'
            fi
        done
        python3 -c "print($a_r / $w_r)" >>"$raw/ratio"
    done
    stop_server
    local mw ma
    mw=$(median <"$raw/wrk.rps"); ma=$(median <"$raw/ab.rps")
    # Each measurement is appended as a dated section: on a shared machine one run is not the truth.
    [ -s "$file" ] || printf '%s\n\n%s\n' "# authbench load vs wrk: closed-loop GET /healthz, $C connections" \
        "Newest section last. Written by \`scripts/bench-loadgen.sh throughput\`." >"$file"
    {
        echo
        echo "## $STAMP (C=$C R=$R D=$D)"
        echo
        machine
        echo
        echo "Server: \`authbench serve cookie --fast-login\` (one process for every run; /healthz is"
        echo "the same handler in every scheme). Each run ${D} s; rounds alternate which tool goes first."
        echo
        echo "- wrk: \`$wrk_cmd\`"
        echo "- authbench: \`$ab_cmd\`"
        echo
        echo "| round | tool | req/s | p50 | p99 | load avg |"
        echo "|---|---|---|---|---|---|"
        printf "%s" "$rows"
        echo
        echo "**Median req/s: wrk $mw, authbench $ma; ratio of medians $(python3 -c "print('%.2f' % ($ma/$mw))")×;"
        echo "median of the per-round ratios (authbench/wrk, same round) $(median <"$raw/ratio" | xargs printf '%.2f')×.**"
        echo
        echo "Both tools share the 2 cores with the server (and with whatever else runs), so req/s"
        echo "here is a joint figure for generator + server; the ratio is what compares the generators."
    } >>"$file"
    rm -rf "$raw"
    echo "wrote $file"
}

vus10k() {
    ulimit -n "$(ulimit -Hn)"
    start_server jwt --users "$VUS"
    local file="$OUT/vus-10k.md" dir="$OUT/vus-10k"
    rm -rf "$dir"
    local cmd="$BIN load --target $URL --scheme jwt --stages 20s:$VUS,30s:$VUS --think 1s --mix me=100 --server-pid $SERVER_PID --no-progress --out $dir"
    local t0=$SECONDS
    /usr/bin/time -f "%M" -o "$dir.maxrss" $cmd >"$dir.stdout" 2>"$dir.stderr" || true
    stop_server
    local maxrss; maxrss=$(tail -1 "$dir.maxrss"); rm -f "$dir.maxrss"
    {
        echo "# 10,000 logged-in virtual users at 1 request/s each"
        echo
        echo "Measured $STAMP by \`scripts/bench-loadgen.sh vus10k\` in $((SECONDS - t0)) s."
        echo
        machine
        echo
        echo "- server: \`authbench serve jwt --fast-login --users $VUS\`"
        echo "- load: \`${cmd/$URL/URL}\`"
        echo "- generator peak RSS (GNU time %M): $((maxrss / 1024)) MiB"
        echo
        echo '```'
        cat "$dir.stdout"
        echo '```'
        echo
        python3 - "$dir" <<'PY'
import csv, json, sys
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
rows = list(csv.DictReader(open(d + "/timeseries.csv")))
hold = [r for r in rows if float(r["t_s"]) > 21 and float(r["t_s"]) < 50]
gen_err = sum(int(r[k]) for r in rows for k in ("err_connect", "err_timeout", "err_closed"))
print(f"- virtual users at peak: {s['vus_max']}; errors of any kind: {s['total']['errors']} "
      f"(connect/timeout/closed, i.e. generator- or socket-side: {gen_err})")
if hold:
    rps = sorted(float(r["me_rps"]) for r in hold)
    p99 = sorted(int(r["me_p99_us"] or 0) for r in hold)
    cpu = sorted(float(r["gen_cpu_percent"] or 0) for r in hold)
    print(f"- hold phase ({len(hold)} s): /api/me {rps[len(rps)//2]:.0f} req/s median "
          f"(min {rps[0]:.0f}, max {rps[-1]:.0f}); per-second p99 median {p99[len(p99)//2]/1000:.1f} ms; "
          f"generator CPU median {cpu[len(cpu)//2]:.0f}% of one core")
print(f"- generator saturated seconds: {s['generator']['saturated_seconds']} "
      f"(max timer lag {s['generator']['max_lag_us']/1000:.1f} ms)")
print(f"- server: {s['server']['cpu_us_per_req']:.1f} µs CPU/request, RSS max {s['server']['rss_bytes_max']//2**20} MiB")
PY
        echo
        echo "Per-second data: \`$dir/timeseries.csv\`; summary: \`$dir/summary.json\`."
    } >"$file"
    rm -f "$dir.stdout" "$dir.stderr"
    echo "wrote $file"
}

case "$MODE" in
    throughput) throughput ;;
    vus10k) vus10k ;;
    all) throughput; vus10k ;;
    *) echo "usage: $0 [throughput|vus10k|all]" >&2; exit 2 ;;
esac
