#!/bin/bash
# One generator against one server, asking for 20,500 users (more than a 20,000-fd process holds).
B=/work/wt/i14/target/release/authbench
$B serve jwt --fast-login --users 25000 --addr 127.0.0.1:0 > A.serve.out 2> A.serve.err &
SP=$!
for i in $(seq 50); do grep -q listening A.serve.out && break; sleep 0.2; done
URL=$(sed -n 's/^listening on //p' A.serve.out)
/usr/bin/time -f "gen maxrss_kb=%M user=%U sys=%S wall=%e" $B load $URL --scheme jwt --stages 40s:20500,25s:20500 --think 8s --mix me=100 --server-pid $SP --out A --no-progress > A.load.out 2> A.load.err
echo "exit $?" >> A.load.out
grep VmRSS /proc/$SP/status >> A.serve.err
kill $SP; wait $SP
