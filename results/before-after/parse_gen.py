import json, sys
r, arm = sys.argv[1], sys.argv[2]
s = json.load(sys.stdin); t = s["total"]; g = s["generator"]["cpu_percent"]; rps = t["rps"]
print(f"{r},{arm},{rps:.0f},{g:.1f},{g*1e4/rps:.2f},{s['server']['cpu_us_per_req']:.2f},{t['errors']}")
