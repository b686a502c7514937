#!/usr/bin/env python3
"""The baselines crit.sh saved (target/criterion/<group>/<bench>/<before|after><round>/estimates.json)
→ criterion_change.csv: per benchmark, each round's after ÷ before of the mean estimate, and the
mean of those ratios with its range over the rounds, as a change in %."""
import csv
import json
import sys
from pathlib import Path

root = Path(__file__).resolve().parents[2] / "target" / "criterion"
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
rows = []
for est in sorted(root.glob("**/before1/estimates.json")):
    bench = est.parent.parent
    name = str(bench.relative_to(root))
    ratios, before_ns, after_ns = [], [], []
    for r in range(1, rounds + 1):
        b, a = bench / f"before{r}" / "estimates.json", bench / f"after{r}" / "estimates.json"
        if not (b.exists() and a.exists()):
            break
        mb = json.loads(b.read_text())["mean"]["point_estimate"]
        ma = json.loads(a.read_text())["mean"]["point_estimate"]
        before_ns.append(mb)
        after_ns.append(ma)
        ratios.append(ma / mb)
    if len(ratios) < rounds:
        continue
    mean = sum(ratios) / len(ratios)
    rows.append([
        name,
        f"{sum(before_ns) / len(before_ns):.1f}",
        f"{sum(after_ns) / len(after_ns):.1f}",
        *[f"{(x - 1) * 100:+.1f}" for x in ratios],
        f"{(mean - 1) * 100:+.1f}",
        f"{(min(ratios) - 1) * 100:+.1f}..{(max(ratios) - 1) * 100:+.1f}",
    ])
out = Path(__file__).parent / "criterion_change.csv"
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["benchmark", "before_ns", "after_ns", *[f"change_round{r}_pct" for r in range(1, rounds + 1)],
                "change_mean_pct", "change_range_pct"])
    w.writerows(rows)
print(f"{len(rows)} benchmarks → {out}", file=sys.stderr)
