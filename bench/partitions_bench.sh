#!/usr/bin/env bash
# replay --partitions 2 on 2 worker threads against --partitions 1, same input,
# same run, interleaved (farm-bench runs A and B in turn and takes the ratio
# pair by pair), without and with durable RocksDB state. Wall-time ratio A/B
# below 1 means --partitions 2 is faster; throughput ratio = 1 / (A/B).
# usage: bench/partitions_bench.sh [CASES] [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/src/app/slawatch"
cases="${1:-100000}"
runs="${2:-5}"
work=$(mktemp -d /tmp/slawatch-partitions-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$bin" simulate --seed 7 --cases "$cases" --span 72h --late 0.02 --reorder 0.02 --duplicates 0.01 \
  --out "$work/events.jsonl" 2>/dev/null
echo "input: $cases cases, $(wc -l < "$work/events.jsonl") records; $(nproc) cores"
common="$bin replay --rules $root/rules --events $work/events.jsonl --until 2100-01-01T00:00:00Z --alerts /dev/null --quiet"
echo "== in memory: A = --partitions 2, B = --partitions 1"
farm-bench -n "$runs" --timeout 3000 --vs "$common --partitions 1" -- $common --partitions 2
echo "== durable (--state, a fresh directory each run): A = --partitions 2, B = --partitions 1"
farm-bench -n "$runs" --timeout 3000 \
  --vs "sh -c 'rm -rf $work/s1; exec $common --partitions 1 --state $work/s1'" \
  -- sh -c "rm -rf $work/s2; exec $common --partitions 2 --state $work/s2"
