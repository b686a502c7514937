#!/usr/bin/env bash
# Measure `authbench load` as a load generator, and record the figures under results/loadgen/.
#
#   scripts/bench-loadgen.sh [throughput|vus10k|all]     (default: all)
#
# throughput: closed-loop GET /healthz with the same connection count (C, default 50) as wrk
#   (Debian's wrk, -t = nproc), against the same `authbench serve` process, interleaved
#   ABBA rounds (R, default 6 → 12 runs of D seconds each, default 10). Reports each run (req/s,
#   p50/p99, generator and server CPU µs per request) and the per-round ratio authbench/wrk.
# vus10k: 10,000 logged-in virtual users (jwt, ramped over 20 s, then held 30 s), each sending
#   GET /api/me once a second (--think 1s), with server CPU/RSS sampled; must show zero
#   generator-side errors.
#
#   REFS=1 adds two reference loops that record nothing (loadgen/examples/floor.rs): hyper's
#   client as documented, and a hand-written httparse loop — what the HTTP layer alone costs.
# Environment: C, R, D (above); VUS (default 10000); REFS; SKIP_BUILD=1 uses the existing release
# binaries; CARGO_TARGET_DIR honoured.
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
help_if_asked "$@" || exit 0
AUTHBENCH_NEED_WRK=1 ensure_deps   # wrk and redis-server from Debian's packages when missing
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --quiet
FLOOR="$TARGET_DIR/release/examples/floor"
if [ -n "${REFS:-}" ] && [ -z "${SKIP_BUILD:-}" ]; then
    cargo build --release --quiet -p authbench-loadgen --example floor
fi
THREADS=$(nproc)

machine() {
    echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    echo "- nproc: $(nproc); kernel: $(uname -r); $(grep -m1 MemTotal /proc/meminfo | tr -s ' ')"
    echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: other"
    echo "  engineers compile on the same 2 cores, so absolute numbers are noisy; runs are interleaved"
    echo "  so both tools see the same noise, and medians are reported)"
    echo "- rustc: $(rustc --version); wrk: $(wrk -v 2>&1 | head -1)"
    echo "- authbench commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!results' || echo ' (with uncommitted changes)')"
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

# CPU time (user+sys, clock ticks) the server process has used so far.
server_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }

throughput() {
    start_server cookie
    local file="$OUT/throughput-vs-wrk.md" raw tck
    raw=$(mktemp -d)
    tck=$(getconf CLK_TCK)
    local wrk_cmd="wrk -t$THREADS -c$C -d${D}s --latency $URL/healthz"
    local ab_cmd="$BIN load --target $URL --scheme none --vus $C --duration ${D}s --no-progress --out DIR"
    local floor_cmd="$FLOOR <hyper|raw> ${URL#http://} $C $D"
    local tools=(wrk authbench)
    [ -n "${REFS:-}" ] && tools+=(hyper-floor raw-floor)
    : >"$raw/runs"
    for round in $(seq "$R"); do
        # Rotate which tool goes first each round (ABBA for two), so drift in the machine's load
        # hits every tool alike.
        local order=() k=$(( (round - 1) % ${#tools[@]} ))
        order=("${tools[@]:k}" "${tools[@]:0:k}")
        for tool in "${order[@]}"; do
            # Per run: requests completed, p50/p99 (µs), generator CPU (user+sys of the whole
            # process, from GNU time) and server CPU (/proc ticks) over the run.
            local s0 s1 n p50 p99 out
            s0=$(server_ticks)
            if [ "$tool" = wrk ]; then
                out=$(/usr/bin/time -f "%U %S" -o "$raw/time" $wrk_cmd)
                n=$(echo "$out" | awk '/requests in/ {print $1}')
                p50=$(echo "$out" | awk '$1=="50%" {print $2}')
                p99=$(echo "$out" | awk '$1=="99%" {print $2}')
            elif [ "$tool" != authbench ]; then
                out=$(/usr/bin/time -f "%U %S" -o "$raw/time" "$FLOOR" "${tool%-floor}" "${URL#http://}" "$C" "$D")
                n=$(echo "$out" | awk '{print $2}'); p50=-; p99=-
            else
                local dir="$raw/ab-$round"
                /usr/bin/time -f "%U %S" -o "$raw/time" \
                    "$BIN" load --target "$URL" --scheme none --vus "$C" --duration "${D}s" --no-progress --out "$dir" >/dev/null
                read -r n p50 p99 < <(python3 -c "
import json; h=json.load(open('$dir/summary.json'))['endpoints']['healthz']; l=h['latency_us']
print(h['count'], '%dus' % l['p50'], '%dus' % l['p99'])")
            fi
            s1=$(server_ticks)
            # wrk prints its latencies as 241.00us / 4.39ms: normalise to µs.
            p50=$(echo "$p50" | awk '/ms$/ {printf "%d", $1*1000; next} /us$/ {printf "%d", $1; next} {print}')
            p99=$(echo "$p99" | awk '/ms$/ {printf "%d", $1*1000; next} /us$/ {printf "%d", $1; next} {print}')
            echo "$round $tool $n $(cat "$raw/time") $((s1 - s0)) $p50 $p99 $(cut -d' ' -f1 /proc/loadavg)" >>"$raw/runs"
        done
    done
    stop_server
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
        [ -n "${REFS:-}" ] && echo "- hyper-floor / raw-floor (reference loops that record nothing; \`loadgen/examples/floor.rs\`): \`$floor_cmd\`"
        echo
        python3 - "$raw/runs" "$D" "$tck" <<'PY'
import statistics as st, sys
runs, D, tck = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
rows = []
for line in open(runs):
    rnd, tool, n, u, s, ticks, p50, p99, load = line.split()
    n = int(n)
    rows.append(dict(round=int(rnd), tool=tool, rps=n / D, gen=(float(u) + float(s)) * 1e6 / n,
                     server=int(ticks) / tck * 1e6 / n, p50=p50, p99=p99, load=load))
print("| round | tool | req/s | p50 µs | p99 µs | generator CPU µs/req | server CPU µs/req | load avg |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['round']} | {r['tool']} | {r['rps']:.0f} | {r['p50']} | {r['p99']} | {r['gen']:.2f} | {r['server']:.2f} | {r['load']} |")
tools = list(dict.fromkeys(r['tool'] for r in rows))
wrk = {r['round']: r for r in rows if r['tool'] == 'wrk'}
print()
print("| tool | median req/s | per-round ratio to wrk: median (range) | rounds ≥ wrk | generator CPU µs/req | server CPU µs/req |")
print("|---|---|---|---|---|---|")
for t in tools:
    v = [r for r in rows if r['tool'] == t]
    ratios = sorted(r['rps'] / wrk[r['round']]['rps'] for r in v)
    print(f"| {t} | {st.median(r['rps'] for r in v):.0f} | {st.median(ratios):.2f}× ({ratios[0]:.2f}–{ratios[-1]:.2f}) "
          f"| {sum(x >= 1 for x in ratios)} of {len(ratios)} | {st.median(r['gen'] for r in v):.2f} "
          f"| {st.median(r['server'] for r in v):.2f} |")
PY
        echo
        echo "Both tools share the 2 cores with the server (and with whatever else runs), so req/s"
        echo "here is a joint figure for generator + server: with both saturated, it is set by generator"
        echo "CPU + server CPU per request. Generator CPU is the whole process (GNU time), start-up included."
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
