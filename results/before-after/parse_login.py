import json, sys
r, arm = sys.argv[1], sys.argv[2]
s = json.load(sys.stdin)
eps = s["endpoints"]
e = eps["login"] if isinstance(eps, dict) else next(x for x in eps if x.get("endpoint") == "login")
d = s["duration_s"]; n = e["count"]
lat = e.get("latency_us") or {}
cpu = s["server"]["cpu_percent"] or 0.0
print(f"{r},{arm},{n/d:.1f},{lat.get('p50',0)/1e3:.1f},{lat.get('p99',0)/1e3:.1f},{e.get('errors')},{cpu*1e4*d/max(n,1):.0f}")
