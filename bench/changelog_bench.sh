#!/usr/bin/env bash
# State handover through the changelog (issue 14), on a real broker (scripts/kafka,
# same machine), one input partition so every number is one partition's:
#  1. the cost of mirroring: CASES simulated cases consumed from a fresh state
#     until idle, with `kafka.changelog: false` and then `true` (two groups on
#     the same topic, run one after the other); ratio = with / without.
#  2. restore: a third instance of the changelog group starts with an EMPTY state
#     directory and restores the partition from the changelog; its log line
#     "restored K records (C case records) from the changelog in X ms" gives
#     case records per second. Baseline: rebuilding the same state from input
#     offset 0 (run 1 without the changelog); ratio = rebuild time / restore time.
# The traffic is dated 30 days ahead (cases stay open: the state is as large as it gets).
#
# Usage: bench/changelog_bench.sh [CASES]   (default 50000)
# Needs: scripts/build done, kcat. Starts (and stops) the broker itself unless one is running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/src/app/slawatch"
cases=${1:-50000}
work=${BENCH_DIR:-$root/var/bench}/changelog
mkdir -p "$work"
. "$root/bench/kafka_common.sh"
tag="cl-$(date +%s)"
for t in events alerts dlq; do "$kafka" topic "$tag.$t" 1 >/dev/null; done

config() {  # config NAME GROUP CHANGELOG
  rm -rf "$work/$1.state"
  cat > "$work/$1.yaml" <<EOF
rules: $root/rules
state_dir: $work/$1.state
batch_records: 2000
kafka:
  brokers: $brokers
  group_id: $2
  changelog: $3
  topics: {events: $tag.events, alerts: $tag.alerts, dead_letter: $tag.dlq}
EOF
}

rate_of() { grep "records consumed" "$1" | tail -1 | grep -o '([0-9]* records/s' | tr -d '(' | awk '{print $1}'; }
records_of() { grep "records consumed" "$1" | tail -1 | grep -o '[0-9]* records consumed' | awk '{print $1}'; }

echo "machine: $(nproc) cores, broker on the same machine, load: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
start=$(date -u -d '+30 days' +%Y-%m-%dT00:00:00Z)
span="$(( (cases + 10999) / 11000 * 24 ))h"
"$bin" simulate --seed 7 --cases "$cases" --span "$span" --start "$start" \
  --kafka "$brokers" --topic "$tag.events" 2> "$work/sim.log"

config plain "$tag-plain" false
"$bin" run --config "$work/plain.yaml" --exit-when-idle 5s 2> "$work/plain.log" || { tail "$work/plain.log"; exit 1; }
config mirrored "$tag-mirrored" true
"$bin" run --config "$work/mirrored.yaml" --exit-when-idle 5s 2> "$work/mirrored.log" || { tail "$work/mirrored.log"; exit 1; }
records=$(records_of "$work/plain.log")
plain_rate=$(rate_of "$work/plain.log")
mirrored_rate=$(rate_of "$work/mirrored.log")
echo "mirroring: $records records from a fresh state: $plain_rate records/s without the changelog," \
     "$mirrored_rate records/s with it; ratio $(awk -v a="$mirrored_rate" -v b="$plain_rate" 'BEGIN {printf "%.2f", a/b}')"

# The restoring instance joins the changelog group with an empty disk; it is
# stopped once its log says the partition is restored.
config restorer "$tag-mirrored" true
"$bin" run --config "$work/restorer.yaml" 2> "$work/restorer.log" &
pid=$!
for _ in $(seq 1 600); do
  grep -q "from the changelog in" "$work/restorer.log" && break
  kill -0 $pid 2>/dev/null || { tail "$work/restorer.log"; exit 1; }
  sleep 0.2
done
kill -TERM $pid; wait $pid || true
line=$(grep "from the changelog in" "$work/restorer.log" | tail -1)
restored=$(echo "$line" | grep -o 'restored [0-9]* records' | awk '{print $2}')
case_records=$(echo "$line" | grep -o '([0-9]* case records' | tr -d '(' | awk '{print $1}')
restore_ms=$(echo "$line" | grep -o 'in [0-9]* ms' | awk '{print $2}')
rebuild_ms=$(awk -v r="$records" -v s="$plain_rate" 'BEGIN {printf "%.0f", 1000*r/s}')
echo "restore: $restored changelog records, $case_records case records in $restore_ms ms:" \
     "$(awk -v c="$case_records" -v ms="$restore_ms" 'BEGIN {printf "%.0f", 1000*c/ms}') case records/s," \
     "$(awk -v c="$restored" -v ms="$restore_ms" 'BEGIN {printf "%.0f", 1000*c/ms}') changelog records/s;" \
     "rebuilding from input offset 0 took ~$rebuild_ms ms ($records records at $plain_rate/s):" \
     "ratio $(awk -v a="$rebuild_ms" -v b="$restore_ms" 'BEGIN {printf "%.1f", a/b}')x faster"
echo "log: $line"
