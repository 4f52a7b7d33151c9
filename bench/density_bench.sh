#!/usr/bin/env bash
# Does durable replay slow down as the history grows? Issue 17's dense
# history (2,000,000 cases created over 30 days, each left open after its first
# response: 6.4M events) is replayed into one state in segments of SEGMENT
# events, one process per segment (`--restart-input` on the same state, as a
# monitor restarted on the next part of its input). Per segment it prints the
# CPU seconds (user + system, RocksDB's background compactions included), the
# alert events the segment emitted, peak RSS, and the CPU per event and per
# unit of work (an event or an alert event): later segments fire far more
# alerts per event (weekend and night cohorts of open cases fall due together),
# so "events per CPU second" alone would blame the store for the rules' work.
#
# Usage: bench/density_bench.sh [CASES] [SEGMENT]   (defaults 2000000, 1000000)
# Environment: BIN=path replaces build/src/app/slawatch; BASE_BIN=path runs another slawatch binary on the same segments
# after this one (before/after a change), with ratios of its CPU to this one's.
# Needs: scripts/build done; GNU time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN:-$root/build/src/app/slawatch}
cases=${1:-2000000}
segment=${2:-1000000}
work=${BENCH_DIR:-$root/var/bench}/density
mkdir -p "$work"

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
input="$work/density-$cases.jsonl"
[ -s "$input" ] || "$bin" simulate --cases "$cases" --span 720h --seed 7 --leave-open > "$input" 2>/dev/null
rm -f "$work"/segment-*
split -l "$segment" -d -a 3 "$input" "$work/segment-"
echo "input: simulate --cases $cases --span 720h --seed 7 --leave-open, $(wc -l < "$input") events, segments of $segment"

# run BINARY NAME: one line per segment, "NAME SEGMENT EVENTS ALERTS CPU_S RSS_KB"
run() {
  local binary=$1 name=$2 state="$work/state-$2" alerts="$work/alerts-$2.jsonl" before=0 after
  rm -rf "$state" "$alerts"
  for part in "$work"/segment-*; do
    /usr/bin/time -f "TIME %U %S %M" "$binary" replay --rules "$root/rules" --events "$part" --state "$state" \
      --restart-input --alerts "$alerts" --quiet 2> "$work/time-$name.log"
    after=$(wc -l < "$alerts")
    awk -v name="$name" -v part="${part##*-}" -v events="$(wc -l < "$part")" -v alerts=$((after - before)) \
      '/^TIME/ {printf "%s %s %d %d %.1f %d\n", name, part, events, alerts, $2 + $3, $4}' "$work/time-$name.log"
    before=$after
  done
  echo "$name state: $(du -sb "$state" | cut -f1) bytes"
  rm -rf "$state" "$alerts"
}

{
  run "$bin" slawatch
  [ -z "${BASE_BIN:-}" ] || run "$BASE_BIN" base
} | tee "$work/runs.txt" | awk '
  $2 == "state:" { print; next }
  { key = $2; events[$1, key] = $3; alerts[$1, key] = $4; cpu[$1, key] = $5; rss[$1, key] = $6
    if (!(key in seen)) { seen[key] = 1; order[++n] = key }
    printf "%-8s segment %s: %7d events, %8d alert events, %6.1f CPU s, %6.1f us/event, %5.1f us per event or alert, peak RSS %d MiB\n",
      $1, key, $3, $4, $5, $5 * 1e6 / $3, $5 * 1e6 / ($3 + $4), $6 / 1024 }
  END {
    for (i = 1; i <= n; ++i) {
      k = order[i]
      if (cpu["base", k] > 0) printf "segment %s: base CPU / slawatch CPU = %.2f\n", k, cpu["base", k] / cpu["slawatch", k]
    }
  }'
