#!/usr/bin/env python3
"""criterion's text output (crit_after.txt, run with --baseline before) → criterion_change.csv:
benchmark, the change interval's low, estimate and high (after vs before), and the time after."""
import csv
import re
import sys
from pathlib import Path

here = Path(__file__).parent
text = (here / "crit_after.txt").read_text()
rows, name, after = [], None, None
for line in text.splitlines():
    s = line.strip()
    if re.match(r"^[A-Za-z_][\w\-/.]*$", s) and "/" in s:
        name = s
    m = re.match(r"^(\S+/\S+)?\s*time:\s+\[(.+?)\]", s)
    if m and name is None and m.group(1):
        name = m.group(1)
    if m:
        v = m.group(2).split()
        after = f"{v[2]} {v[3]}" if len(v) == 6 else m.group(2)
    m = re.match(r"^change:\s+\[(\S+) (\S+) (\S+)\]", s)
    if m and name:
        rows.append((name, *m.groups(), after))
        name = None
with open(here / "criterion_change.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["benchmark", "change_low", "change_estimate", "change_high", "time_after_median"])
    w.writerows(rows)
print(f"{len(rows)} benchmarks", file=sys.stderr)
