#!/usr/bin/env bash
# The Kafka monitor with `workers: 2` against `workers: 1`, side by side in one
# run: CASES simulated cases preloaded into a 4-partition topic (dated 30 days
# ahead, so the live clock fires nothing and both runs do the same work: see
# kafka_bench.sh), consumed from a fresh state by `slawatch run` until idle,
# once per worker count (each its own consumer group and state), ROUNDS times
# alternating. Prints records/s and CPU seconds for each and the ratio
# 2 workers / 1 worker. The broker runs on the same machine: it and the
# monitor share the cores.
#
# Usage: bench/kafka_workers_bench.sh [CASES] [ROUNDS]   (defaults 100000 2)
# Needs: scripts/build done, python3. Starts (and stops) the broker itself
# unless one is already running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/src/app/slawatch"
cases=${1:-100000}
rounds=${2:-2}
work=${BENCH_DIR:-$root/var/bench}/kafka-workers
grace_ms=1000
mkdir -p "$work"
. "$root/bench/kafka_common.sh"

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg); broker on the same machine; $(date -u +%FT%TZ)"
stamp=$(date +%s)
input="kw-$stamp.input"
"$kafka" topic "$input" 4 >/dev/null
start=$(date -u -d '+30 days' +%Y-%m-%dT00:00:00Z)
span="$(( (cases + 10999) / 11000 * 24 ))h"
"$bin" simulate --seed 7 --cases "$cases" --span "$span" --start "$start" \
  --kafka "$brokers" --topic "$input" 2> "$work/sim.log"

run() {  # run WORKERS ROUND: prints "records records/s cpu_s"
  local tag="kw-$stamp-w$1-r$2"
  slawatch_kafka_config "$tag" "$root/rules" 4 "workers: $1"
  sed -i "s/events: $tag.events/events: $input/" "$work/$tag.yaml"
  /usr/bin/time -f "TIME %e %M %U %S" "$bin" run --config "$work/$tag.yaml" --exit-when-idle 3s \
    2> "$work/$tag.log" || { tail -20 "$work/$tag.log" >&2; exit 1; }
  local line
  line=$(grep "records consumed" "$work/$tag.log" | tail -1)
  echo "$(echo "$line" | grep -o '[0-9]* records consumed' | awk '{print $1}')" \
       "$(echo "$line" | grep -o '([0-9]* records/s' | tr -d '(' | awk '{print $1}')" \
       "$(awk '/^TIME/ {printf "%.1f", $4 + $5}' "$work/$tag.log")"
}

declare -a one two
for round in $(seq 1 "$rounds"); do
  read -r n r1 c1 <<< "$(run 1 "$round")"
  read -r n2 r2 c2 <<< "$(run 2 "$round")"
  [ "$n" = "$n2" ] || { echo "the runs read different record counts: $n vs $n2" >&2; exit 1; }
  echo "round $round: $n records; workers 1: $r1 records/s, $c1 CPU s; workers 2: $r2 records/s, $c2 CPU s;" \
       "ratio $(awk -v a="$r2" -v b="$r1" 'BEGIN {printf "%.2f", a/b}')"
  one+=("$r1"); two+=("$r2")
done
best() { printf '%s\n' "$@" | sort -n | tail -1; }
echo "best of $rounds: workers 1 $(best "${one[@]}") records/s, workers 2 $(best "${two[@]}") records/s," \
     "ratio $(awk -v a="$(best "${two[@]}")" -v b="$(best "${one[@]}")" 'BEGIN {printf "%.2f", a/b}')"
