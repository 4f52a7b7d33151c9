#!/usr/bin/env bash
# The live monitor on a real broker (scripts/kafka, same 2-core machine):
#  1. sustained throughput: CASES simulated cases pre-loaded into a 3-partition
#     topic, consumed by `slawatch run` from a fresh state until idle, next to a
#     durable replay of the same records in the same run (ratio = Kafka / replay).
#     The traffic is dated 30 days ahead: on the live clock a history from the
#     past would be a backfill in which every stage is already due when its case
#     opens (fire, then retract when the acknowledgement arrives, ~7x the alerts
#     replay produces). Firing is measured by part 2.
#  2. firing delay: a steady timer-heavy load at RATE records/s for SECONDS, every
#     breach due a few seconds after its record is sent; delay = the alert
#     record's Kafka timestamp - due_at - grace, p50/p99/max.
#
# Usage: bench/kafka_bench.sh [CASES] [RATE] [SECONDS]   (defaults 100000 10000 60; CASES=0: only part 2)
# Needs: scripts/build done, kcat, python3. Starts (and stops) the broker itself
# unless one is already running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/src/app/slawatch"
cases=${1:-100000}
rate=${2:-10000}
seconds=${3:-60}
work=${BENCH_DIR:-$root/var/bench}/kafka
grace_ms=1000
mkdir -p "$work"
. "$root/bench/kafka_common.sh"
config() { slawatch_kafka_config "$1" "$root/rules" 3; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); broker on the same machine; $(date -u +%FT%TZ)"

# 1. Throughput (CASES=0 skips it).
if [ "$cases" -gt 0 ]; then
tag="tp-$(date +%s)"
config "$tag"
start=$(date -u -d '+30 days' +%Y-%m-%dT00:00:00Z)
span="$(( (cases + 10999) / 11000 * 24 ))h"
"$bin" simulate --seed 7 --cases "$cases" --span "$span" --start "$start" \
  --kafka "$brokers" --topic "$tag.events" 2> "$work/$tag.sim.log"
/usr/bin/time -f "TIME %e %M" "$bin" run --config "$work/$tag.yaml" --exit-when-idle 5s 2> "$work/$tag.run.log" || {
  tail -20 "$work/$tag.run.log"; exit 1; }
kafka_line=$(grep "records consumed" "$work/$tag.run.log" | tail -1)
kafka_records=$(echo "$kafka_line" | grep -o '[0-9]* records consumed' | awk '{print $1}')
kafka_rate=$(echo "$kafka_line" | grep -o '([0-9]* records/s' | tr -d '(' | awk '{print $1}')
kafka_alerts=$(echo "$kafka_line" | grep -o '[0-9]* alerts fired' | awk '{print $1}')
kafka_rss=$(awk '/^TIME/ {print int($3/1024)}' "$work/$tag.run.log")
rm -rf "$work/replay.state"
"$bin" simulate --seed 7 --cases "$cases" --span "$span" --start "$start" --out "$work/replay.jsonl" 2>/dev/null
/usr/bin/time -f "TIME %e %M" "$bin" replay --rules "$root/rules" --events "$work/replay.jsonl" \
  --state "$work/replay.state" --alerts /dev/null 2> "$work/replay.log"
replay_secs=$(awk '/^TIME/ {print $2}' "$work/replay.log")
replay_records=$(grep -o 'replayed [0-9]* records' "$work/replay.log" | awk '{print $2}')
replay_alerts=$(grep -o '[0-9]* fired' "$work/replay.log" | awk '{print $1}')
replay_rate=$(awk -v e="$replay_records" -v s="$replay_secs" 'BEGIN {printf "%.0f", e/s}')
echo "throughput: $cases cases, $kafka_records records from Kafka at $kafka_rate records/s, $kafka_alerts alerts fired (peak RSS ${kafka_rss} MiB);" \
     "replay of the same $replay_records records: $replay_rate records/s, $replay_alerts alerts fired; ratio $(awk -v a="$kafka_rate" -v b="$replay_rate" 'BEGIN {printf "%.2f", a/b}')"
fi

# 2. Firing delay under a steady timer-heavy load.
tag="fd-$(date +%s)"
config "$tag"
"$bin" run --config "$work/$tag.yaml" 2> "$work/$tag.run.log" &
monitor=$!
python3 "$root/bench/kafka_timer_load.py" "$rate" "$seconds" 3 2> "$work/$tag.load.log" \
  | kcat -b "$brokers" -P -t "$tag.events" -K '\t'
sleep 8  # the last breaches fall due 3 s after their records; let them fire
kill -TERM $monitor; wait $monitor || true
kcat -b "$brokers" -C -t "$tag.alerts" -o beginning -e -q -J > "$work/$tag.alerts.json"
echo "firing delay at $rate records/s for ${seconds}s: $(python3 "$root/bench/firing_delay.py" "$work/$tag.alerts.json" "$grace_ms")"
