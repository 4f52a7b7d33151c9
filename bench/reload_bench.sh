#!/usr/bin/env bash
# Rule reload repair cost: CASES simulated cases (a share left open) replayed
# into a RocksDB state under the shipped rules (normal handling 35 working
# hours), then the same state resumed under a 30-hour target: every stored case
# is repaired (re-evaluated, stages retracted or fired, timers moved) before
# anything else. Baseline, side by side: the replay that built the state.
#
# Usage: bench/reload_bench.sh [CASES]   (default 1000000)
# Needs: scripts/build done.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/src/app/slawatch"
cases=${1:-1000000}
work=${BENCH_DIR:-$root/var/bench}/reload
rm -rf "$work" && mkdir -p "$work"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(date -u +%FT%TZ)"
"$bin" simulate --seed 11 --cases "$cases" --span "$(( (cases + 10999) / 11000 * 24 ))h" --leave-open \
  --out "$work/events.jsonl" 2>/dev/null
cp -rL "$root/rules" "$work/rules-30h"
sed -i "s/^target: 35h/target: 30h/" "$work/rules-30h/normal-handling.yaml"
/usr/bin/time -f "TIME %e %M" "$bin" replay --rules "$root/rules" --events "$work/events.jsonl" \
  --state "$work/state" --alerts /dev/null 2> "$work/replay.log"
/usr/bin/time -f "TIME %e %M" "$bin" replay --rules "$work/rules-30h" --events "$work/events.jsonl" \
  --state "$work/state" --alerts "$work/repair-alerts.jsonl" 2> "$work/repair.log"
records=$(grep -o 'replayed [0-9]* records' "$work/replay.log" | awk '{print $2}')
replay_secs=$(awk '/^TIME/ {print $2}' "$work/replay.log")
line=$(grep "repaired" "$work/repair.log")
repaired=$(echo "$line" | grep -o 'repaired [0-9]* cases' | awk '{print $2}')
repair_secs=$(echo "$line" | grep -o 'cases in [0-9.e+-]* s' | awk '{print $3}')
repair_rss=$(awk '/^TIME/ {print int($3/1024)}' "$work/repair.log")
echo "replay (baseline): $records records in ${replay_secs} s = $(awk -v r="$records" -v s="$replay_secs" 'BEGIN {printf "%.0f", r/s}') records/s"
echo "repair: $line"
echo "repair: $(awk -v c="$repaired" -v s="$repair_secs" 'BEGIN {printf "%.0f", c/s}') cases/s, peak RSS ${repair_rss} MiB," \
     "$(wc -l < "$work/repair-alerts.jsonl") alert events written"
