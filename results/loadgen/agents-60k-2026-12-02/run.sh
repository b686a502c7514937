#!/bin/bash
# 4 agents, each against its own server process: 60,000 users on this machine.
B=/work/wt/i14/target/release/authbench
cd B
for i in 1 2 3 4; do
  $B serve jwt --fast-login --users 60000 --idle-timeout 30s --addr 127.0.0.1:0 > serve$i.out 2> serve$i.err &
  echo $! > serve$i.pid
done
for i in 1 2 3 4; do for t in $(seq 100); do grep -q listening serve$i.out && break; sleep 0.2; done; done
START=$(date -u -d '+15 seconds' +%Y-%m-%dT%H:%M:%SZ)
for i in 1 2 3 4; do
  URL=$(sed -n 's/^listening on //p' serve$i.out)
  CMD="$B load $URL --scheme jwt --stages 40s:60000,25s:60000 --think 8s --mix me=100 --agent $i/4 --start-at $START --server-pid $(cat serve1.pid) --out agent$i --no-progress"
  echo "$CMD" > agent$i.cmd
  /usr/bin/time -f "gen maxrss_kb=%M user=%U sys=%S wall=%e" $CMD > agent$i.out 2> agent$i.err &
done
wait $(jobs -p | tail -4) 2>/dev/null
sleep 1
for i in 1 2 3 4; do grep VmRSS /proc/$(cat serve$i.pid)/status >> serve$i.err; done
$B merge merged agent1 agent2 agent3 agent4 > merge.out 2> merge.err; echo "merge exit $?" >> merge.out
for i in 1 2 3 4; do kill $(cat serve$i.pid); done
