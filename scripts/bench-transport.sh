#!/usr/bin/env bash
# A benchmark, not a test: `authbench load` against the best peers installable here, side by side in
# one run against the same `authbench serve --tls` process, over HTTPS/HTTP/1.1 and HTTP/2 (TLS, ALPN).
#
#   scripts/bench-transport.sh            # writes results/transport/<UTC stamp>.md
#
# Every tool sends the same request, `GET /healthz` (the no-auth baseline: no credential, so no tool
# is charged for a login), at the same connections (and, over HTTP/2, the same streams per
# connection), for D seconds, in interleaved rounds (R, default 3) so all see the same machine noise:
#   h1-tls: authbench load (-c C) · oha (-c C) · wrk (-c C, -t nproc)
#   h2-tls: authbench load (--http2, C × S virtual users, --streams S) · oha (--http2 -c C -p S) ·
#           h2load (-c C -m S)
# Reported per tool: req/s and the generator's CPU µs per request (user + system, GNU time), their
# medians over the rounds, and authbench's ratio to the best peer (the issue's goal: within 10%).
# Then the credential's bytes after HPACK with nghttp2's encoder (`nghttp -v`: bearer, sealed cookie,
# session cookie, on requests 1, 2 and 100 of one connection).
# Installs what it uses: Debian's wrk and nghttp2-client (h2load, nghttp), and oha with
# `cargo install oha --locked`.
# Environment: C (default 50), S (default 10), D (default 10), R (default 3), OUT (the folder,
# default results/transport), SKIP_BUILD=1 (use the existing release binary), CARGO_TARGET_DIR.
set -euo pipefail

cd "$(dirname "$0")/.."
C=${C:-50}
S=${S:-10}
D=${D:-10}
R=${R:-3}
OUT=${OUT:-results/transport}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
BIN="$TARGET_DIR/release/authbench"

. scripts/lib/deps.sh
help_if_asked "$@" || exit 0
AUTHBENCH_NEED_WRK=1 AUTHBENCH_NEED_H2LOAD=1 ensure_deps
command -v oha >/dev/null 2>&1 || { log "cargo install oha --locked"; cargo install oha --locked --quiet; }
OHA=$(command -v oha || echo "$HOME/.cargo/bin/oha")
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --quiet
mkdir -p "$OUT"
STAMP=$(date -u +%Y-%m-%dT%H%MZ)
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

log "authbench serve jwt --tls (certificate in $WORK)"
"$BIN" serve jwt --fast-login --users 1000 --tls --cert-out "$WORK/cert.pem" >"$WORK/serve.out" 2>/dev/null &
SERVER_PID=$!
for _ in $(seq 100); do grep -qs '^listening on ' "$WORK/serve.out" && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$WORK/serve.out")
[ -n "$URL" ] || { log "the server did not start"; exit 1; }

# One run: tool, transport, then the command. Appends "tool transport rps cpu_us_per_req" to rows.
run() {
    local tool=$1 mode=$2; shift 2
    /usr/bin/time -f '%U %S' -o "$WORK/time" "$@" >"$WORK/out" 2>&1 || { log "$tool ($mode) failed: $(tail -3 "$WORK/out")"; return 0; }
    python3 - "$tool" "$mode" "$WORK/out" "$WORK/time" >>"$WORK/rows" <<'PY'
import json, re, sys
tool, mode, out, tfile = sys.argv[1:]
text = open(out).read()
user, sys_ = map(float, open(tfile).read().split()[-2:])
if tool == "authbench":
    s = json.loads(text[text.index("{"):])
    n, rps = s["total"]["count"], s["total"]["rps"]
elif tool == "wrk":
    n = int(re.search(r"(\d+) requests in", text).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
elif tool == "h2load":
    n = int(re.search(r"requests: \d+ total, \d+ started, (\d+) done", text).group(1))
    rps = float(re.search(r"finished in [\d.]+\w*, ([\d.]+) req/s", text).group(1))
else:  # oha --output-format json
    s = json.loads(text[text.index("{"):])
    n = sum(s.get("statusCodeDistribution", {}).values())
    rps = s["summary"]["requestsPerSec"]
print(tool, mode, rps, (user + sys_) * 1e6 / max(n, 1))
PY
}

: >"$WORK/rows"
for round in $(seq "$R"); do
    log "round $round of $R: h1-tls"
    run authbench h1-tls "$BIN" load "$URL/healthz" --ca "$WORK/cert.pem" --scheme none -c "$C" -d "${D}s" --no-progress --json
    run oha h1-tls "$OHA" --no-tui --output-format json -c "$C" -z "${D}s" --insecure "$URL/healthz"
    run wrk h1-tls wrk -t "$(nproc)" -c "$C" -d "${D}s" "$URL/healthz"
    log "round $round of $R: h2-tls"
    run authbench h2-tls "$BIN" load "$URL/healthz" --ca "$WORK/cert.pem" --scheme none --http2 --streams "$S" \
        -c "$((C * S))" -d "${D}s" --no-progress --json
    run oha h2-tls "$OHA" --no-tui --output-format json --http2 -c "$C" -p "$S" -z "${D}s" --insecure "$URL/healthz"
    run h2load h2-tls h2load -c "$C" -m "$S" -t "$(nproc)" -D "$D" "$URL/healthz"
done

# The credential after HPACK with nghttp2's encoder (h2load's and curl's; nghttp2-client's `nghttp`
# prints each HEADERS frame it sends): 100 `GET /api/me?N` on one HTTP/2 connection, with a real
# bearer token (from this jwt server), a real sealed cookie (from a `serve cookie` started here),
# a session-id cookie of the session schemes' exact shape (32 hex digits; its value is random,
# its server would need Redis), and bare. The same paths in each run, so with − bare is the
# credential's share of requests 1, 2 and 100.
log "HPACK: the credential's bytes with nghttp2's encoder (nghttp -v)"
"$BIN" serve cookie --fast-login --users 10 --tls --cert-out "$WORK/cookie-cert.pem" >"$WORK/cookie.out" 2>/dev/null &
COOKIE_PID=$!
for _ in $(seq 100); do grep -qs '^listening on ' "$WORK/cookie.out" && break; sleep 0.1; done
COOKIE_URL=$(sed -n 's/^listening on //p' "$WORK/cookie.out")
login='{"username":"user1","password":"password1"}'
TOKEN=$(curl -sk -X POST "$URL/auth/login" -H 'content-type: application/json' -d "$login" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
SEALED=$(curl -sk -D - -o /dev/null -X POST "$COOKIE_URL/auth/login" -H 'content-type: application/json' -d "$login" |
    sed -n 's/^set-cookie: \([^;]*\).*/\1/Ip' | head -1)
kill "$COOKIE_PID" 2>/dev/null || true
SID="__Host-ab_sid=$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
PATHS=$(for i in $(seq 100); do printf '%s/api/me?%d ' "$URL" "$i"; done)
frames() { # header line or empty → the HEADERS frame lengths of requests 1, 2 and 100
    # shellcheck disable=SC2086
    if [ -n "$1" ]; then nghttp -v -n -H "$1" $PATHS; else nghttp -v -n $PATHS; fi 2>&1 |
        sed -n 's/.*send HEADERS frame <length=\([0-9]*\).*/\1/p' | sed -n '1p;2p;100p' | tr '\n' ' '
}
{
    echo "bare $(frames '')"
    echo "bearer(${#TOKEN}B) $(frames "authorization: Bearer $TOKEN")"
    echo "sealed-cookie(${#SEALED}B) $(frames "cookie: $SEALED")"
    echo "session-cookie(${#SID}B) $(frames "cookie: $SID")"
} >"$WORK/hpack"

python3 - "$WORK/rows" "$C" "$S" "$D" "$R" >"$OUT/$STAMP.md" <<'PY'
import statistics, sys
from collections import defaultdict
rows, C, S, D, R = sys.argv[1], *sys.argv[2:]
runs = defaultdict(list)
for line in open(rows):
    tool, mode, rps, cpu = line.split()
    runs[(mode, tool)].append((float(rps), float(cpu)))
print(f"# authbench load against its peers, HTTPS (C={C} connections, S={S} streams over h2, {D} s, {R} rounds)\n")
print("| transport | tool | req/s (median) | generator CPU µs/req (median) | authbench ÷ best peer (req/s; CPU) |")
print("|---|---|---:|---:|---|")
for mode in ("h1-tls", "h2-tls"):
    med = {t: (statistics.median(r for r, _ in v), statistics.median(c for _, c in v))
           for (m, t), v in runs.items() if m == mode}
    peers = {t: v for t, v in med.items() if t != "authbench"}
    best = max(peers.items(), key=lambda kv: kv[1][0]) if peers else None
    for tool, (rps, cpu) in sorted(med.items()):
        ratio = ""
        if tool == "authbench" and best:
            ratio = f"{rps / best[1][0]:.2f} of {best[0]}'s req/s; {cpu / best[1][1]:.2f} × its CPU"
        print(f"| {mode} | {tool} | {rps:.0f} | {cpu:.1f} | {ratio} |")
PY
python3 - "$WORK/hpack" >>"$OUT/$STAMP.md" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1])]
bare = list(map(int, rows[0][1:]))
print("\n## The credential after HPACK, nghttp2's encoder (h2load, curl)\n")
print("HEADERS frame bytes of `GET /api/me?N` on one HTTP/2 connection (`nghttp -v`), minus the same "
      "request without a credential: what the credential costs on requests 1, 2 and 100. nghttp2 "
      "never indexes `authorization`; it indexes a `cookie` of 20 bytes or more. The session cookie "
      "has the session schemes' exact shape with a random value.\n")
print("| credential | request 1 | request 2 | request 100 |")
print("|---|---:|---:|---:|")
for name, *lens in rows[1:]:
    if len(lens) != 3 or len(bare) != 3:
        print(f"| {name} | — | — | — |")
        continue
    d = [int(x) - b for x, b in zip(lens, bare)]
    print(f"| {name} | {d[0]} B | {d[1]} B | {d[2]} B |")
PY
log "written: $OUT/$STAMP.md"
cat "$OUT/$STAMP.md"
