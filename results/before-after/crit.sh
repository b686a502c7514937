#!/usr/bin/env bash
# Paired criterion run: before (934d605, pre-issue-22) then after (main), same cwd so baselines share.
set -euo pipefail
cd /work/main
F='^(end_to_end|session_check|revocation)/'
A=target/release/deps/micro-8ee03c734bcb80e8
B=/tmp/micro-934d605
$B --bench --save-baseline before "$F" > /tmp/crit_before.txt 2>&1
$A --bench --baseline before "$F" > /tmp/crit_after.txt 2>&1
