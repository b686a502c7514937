#!/usr/bin/env bash
# Summarise a criterion run (`cargo bench --bench micro`) into a results folder:
#   micro.csv   benchmark,median_ns,ci_low_ns,ci_high_ns   (median and its 95 % bootstrap CI)
#   micro.svg   horizontal bar chart of the medians on a log scale, CI as whiskers
#   summary.md  machine, date, command, the issue's goals against the medians, all rows as a table
#
# Usage: scripts/bench-summary.sh [--target-dir DIR] [--out DIR] [--log FILE] [--command "CMD"]
#   --target-dir  cargo target dir holding criterion/ (default: ${CARGO_TARGET_DIR:-target})
#   --out         results folder (default: results/micro)
#   --log         the bench's captured stdout: its `clock:` and `credential size:` lines go into summary.md
#   --command     the command line that produced the run, recorded in summary.md
#
# Reads every criterion/**/new/estimates.json with its benchmark.json, so a folder that holds older
# runs of benchmarks no longer in the bench reports them too: summarise a fresh criterion/ folder.
# Needs python3 (standard library only).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

# Paths given on the command line (or in CARGO_TARGET_DIR) are relative to where it was typed;
# the defaults are relative to the repository.
target_dir="${CARGO_TARGET_DIR:+$(realpath -m "$CARGO_TARGET_DIR")}"
target_dir="${target_dir:-$root/target}"
out="$root/results/micro"
log=""
command="cargo bench --bench micro"
while [ $# -gt 0 ]; do
  case "$1" in
    --target-dir) target_dir="$(realpath -m "$2")"; shift 2 ;;
    --out) out="$(realpath -m "$2")"; shift 2 ;;
    --log) log="$(realpath -m "$2")"; shift 2 ;;
    --command) command="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "bench-summary: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

criterion="$target_dir/criterion"
if [ ! -d "$criterion" ]; then
  echo "bench-summary: no $criterion: run \`cargo bench --bench micro\` first (or pass --target-dir)" >&2
  exit 1
fi
mkdir -p "$out"

lscpu_field() { lscpu 2>/dev/null | sed -n "s/^$1:[[:space:]]*//p" | head -1; }
cpu="$(lscpu_field 'Model name') (family $(lscpu_field 'CPU family'), model $(lscpu_field 'Model'))"
machine="CPU ${cpu} · nproc $(nproc) · Linux $(uname -r) · $(rustc --version 2>/dev/null || echo 'rustc ?')"

python3 - "$criterion" "$out" "$log" "$command" "$machine" <<'PY'
import csv, datetime, glob, json, math, os, sys

criterion, out, log, command, machine = sys.argv[1:6]

rows = []
for est_path in glob.glob(os.path.join(criterion, "**", "new", "estimates.json"), recursive=True):
    bench_path = os.path.join(os.path.dirname(est_path), "benchmark.json")
    if not os.path.exists(bench_path):
        continue
    with open(bench_path) as f:
        name = json.load(f)["full_id"]
    with open(est_path) as f:
        median = json.load(f)["median"]
    ci = median["confidence_interval"]
    rows.append((name, median["point_estimate"], ci["lower_bound"], ci["upper_bound"]))
if not rows:
    sys.exit(f"bench-summary: no */new/estimates.json under {criterion}")

# The bench's own group order, then the name.
ORDER = ["cookie", "jwt", "session", "password", "end_to_end", "json"]
rank = lambda name: (ORDER.index(name.split("/")[0]) if name.split("/")[0] in ORDER else len(ORDER), name)
rows.sort(key=lambda r: rank(r[0]))
by_name = {r[0]: r for r in rows}

with open(os.path.join(out, "micro.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["benchmark", "median_ns", "ci_low_ns", "ci_high_ns"])
    for name, med, lo, hi in rows:
        w.writerow([name, f"{med:.1f}", f"{lo:.1f}", f"{hi:.1f}"])


def human(ns):
    for unit, scale in (("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


# ---- goals of issue 5, judged on the median; "borderline" when the CI straddles the limit ----
def absolute(bench, limit_ns, label):
    return (label, bench, lambda: (limit_ns, 1.0))

def relative(bench, base, factor, label):
    return (label, bench, lambda: (factor * by_name[base][1], by_name[base][1]))

GOALS = [
    absolute("jwt/decode/HS256", 2_000, "HS256 verify ≤ 2 µs"),
    absolute("jwt/decode/EdDSA", 45_000, "EdDSA verify ≤ 45 µs"),
    absolute("jwt/decode/ES256", 65_000, "ES256 verify ≤ 65 µs"),
    absolute("cookie/encrypted_open", 1_000, "encrypted-cookie open ≤ 1 µs"),
    relative("end_to_end/api_me/cookie", "end_to_end/healthz", 1.5, "in-process /api/me cookie ≤ 1.5× /healthz"),
    relative("end_to_end/api_me/jwt_HS256", "end_to_end/healthz", 1.5, "in-process /api/me jwt (HS256, serve's default) ≤ 1.5× /healthz"),
]
goal_lines = ["| goal | benchmark | limit | measured median (95 % CI) | verdict |", "|---|---|---|---|---|"]
for label, bench, limit in GOALS:
    if bench not in by_name:
        goal_lines.append(f"| {label} | `{bench}` | | not measured | — |")
        continue
    try:
        lim, base = limit()
    except KeyError:
        goal_lines.append(f"| {label} | `{bench}` | | baseline not measured | — |")
        continue
    _, med, lo, hi = by_name[bench]
    verdict = "met" if hi <= lim else ("MISSED" if med > lim else "met (CI crosses the limit)")
    if med > lim and lo <= lim:
        verdict = "MISSED (CI crosses the limit)"
    ratio = f" = {med / base:.2f}× /healthz" if base != 1.0 else ""
    goal_lines.append(
        f"| {label} | `{bench}` | {human(lim)} | {human(med)} ({human(lo)} – {human(hi)}){ratio} | {verdict} |"
    )

sizes, clock_line = [], ""
if log and os.path.exists(log):
    with open(log) as f:
        for line in f:
            if "credential size:" in line:
                sizes.append(line.split("credential size:", 1)[1].strip())
            elif line.startswith("clock:"):
                clock_line = line.split(":", 1)[1].strip()

# Which clock timed a row: benches/micro.rs times what waits on redis-server by the wall clock and
# the rest by the process CPU clock, unless its log says everything was wall-clock.
WALL_ROWS = ("session/create", "session/lookup", "session/delete", "end_to_end/api_me/session")
all_wall = clock_line.startswith("wall")
clock_of = lambda name: "wall" if all_wall or name in WALL_ROWS else "CPU"

healthz = by_name.get("end_to_end/healthz", (None, None))[1]
table = ["| benchmark | clock | median | 95 % CI | vs /healthz |", "|---|---|---:|---:|---:|"]
for name, med, lo, hi in rows:
    rel = ""
    if healthz and name.startswith("end_to_end/"):
        rel = f"{med / healthz:.2f}×" if clock_of(name) == clock_of("end_to_end/healthz") else "(other clock)"
    table.append(f"| `{name}` | {clock_of(name)} | {human(med)} | {human(lo)} – {human(hi)} | {rel} |")

now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
with open(os.path.join(out, "summary.md"), "w") as f:
    f.write("# Micro-benchmarks (criterion)\n\n")
    f.write(f"- date: {now}\n- machine: {machine}\n- command: `{command}`\n")
    f.write("- figures: criterion's median per iteration and its 95 % bootstrap confidence interval\n")
    if clock_line:
        f.write(f"- clock: {clock_line}\n")
    f.write("\n")
    f.write("## Goals (issue 5)\n\n" + "\n".join(goal_lines) + "\n\n")
    if sizes:
        f.write("## Credential sizes\n\n" + "".join(f"- {s}\n" for s in sizes) + "\n")
    f.write("## All benchmarks\n\n" + "\n".join(table) + "\n\n![bar chart](micro.svg)\n")

# ---- SVG bar chart, log-scale x axis, drawn by hand (no fonts or libraries needed) ----
COLORS = {"cookie": "#4e79a7", "jwt": "#f28e2b", "session": "#e15759", "password": "#76b7b2",
          "end_to_end": "#59a14f", "json": "#b07aa1"}
lo_dec = math.floor(math.log10(max(1.0, min(r[2] for r in rows))))
hi_dec = math.ceil(math.log10(max(r[3] for r in rows)))
label_w, plot_w, value_w, row_h, top = 250, 560, 110, 18, 48
width = label_w + plot_w + value_w
height = top + row_h * len(rows) + 40
x = lambda ns: label_w + plot_w * (math.log10(max(ns, 10 ** lo_dec)) - lo_dec) / (hi_dec - lo_dec)
esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
       f'font-family="sans-serif" font-size="11">',
       f'<rect width="{width}" height="{height}" fill="white"/>',
       f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="13">authbench micro-benchmarks: '
       f'median time per iteration (log scale), whiskers = 95 % CI</text>',
       f'<text x="{width / 2}" y="32" text-anchor="middle" fill="#555">'
       f'{"wall-clock time" if all_wall else "process CPU time; rows marked wall: wall-clock time, Redis round trip included"}'
       f'</text>']
for d in range(lo_dec, hi_dec + 1):
    gx = x(10 ** d)
    svg.append(f'<line x1="{gx:.1f}" y1="{top - 6}" x2="{gx:.1f}" y2="{height - 34}" stroke="#ddd"/>')
    svg.append(f'<text x="{gx:.1f}" y="{height - 20}" text-anchor="middle">{human(10 ** d)}</text>')
for i, (name, med, lo, hi) in enumerate(rows):
    y = top + i * row_h
    color = COLORS.get(name.split("/")[0], "#999")
    svg.append(f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end">{esc(name)}</text>')
    svg.append(f'<rect x="{label_w}" y="{y + 3}" width="{max(1.0, x(med) - label_w):.1f}" height="{row_h - 6}" '
               f'fill="{color}"><title>{esc(name)}: {human(med)}</title></rect>')
    svg.append(f'<line x1="{x(lo):.1f}" y1="{y + row_h / 2}" x2="{x(hi):.1f}" y2="{y + row_h / 2}" stroke="black"/>')
    wall = " wall" if clock_of(name) == "wall" and not all_wall else ""
    svg.append(f'<text x="{label_w + plot_w + 6}" y="{y + 12}">{human(med)}{wall}</text>')
svg.append("</svg>")
with open(os.path.join(out, "micro.svg"), "w") as f:
    f.write("\n".join(svg) + "\n")

print(f"bench-summary: {len(rows)} benchmarks -> {out}/micro.csv, micro.svg, summary.md")
PY
