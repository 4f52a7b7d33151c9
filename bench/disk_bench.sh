#!/usr/bin/env bash
# Disk footprint of the durable state after `replay --state`:
#  1. CASES simulated cases (seed 1, most of them closed by the end): the state
#     directory split into write-ahead logs and SST files; bytes per retained
#     closed case.
#  2. the same number of cases left open after their first response
#     (--leave-open): bytes per open case.
# With BASE_BIN=path/to/another/slawatch, part 1 runs that binary too, side by
# side (e.g. the commit before WAL files were released).
#
# Usage: bench/disk_bench.sh [CASES]   (default 200000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/src/app/slawatch"
cases=${1:-200000}
work=${BENCH_DIR:-$root/var/bench}/disk
mkdir -p "$work"

footprint() {  # footprint STATE_DIR: "total wal sst" in bytes
  local wal sst total
  wal=$(find "$1" -name '*.log' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  sst=$(find "$1" -name '*.sst' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  total=$(du -sb "$1" | awk '{print $1}')
  echo "$total $wal $sst"
}

replay() {  # replay BIN EVENTS STATE: durable replay, prints "seconds summary"
  rm -rf "$3"
  /usr/bin/time -f "TIME %e %M" "$1" replay --rules "$root/rules" --events "$2" --state "$3" --alerts /dev/null \
    2> "$3.log"
  echo "$(awk '/^TIME/ {print $2 "s, peak RSS " int($3 / 1024) " MiB"}' "$3.log"); $(grep -o 'replayed.*' "$3.log")"
}

mib() { awk -v b="$1" 'BEGIN {printf "%.0f MiB", b / 1048576}'; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ); $cases cases"
"$bin" simulate --cases "$cases" --seed 1 --out "$work/closed.jsonl" 2>/dev/null
for who in ${BASE_BIN:+base} slawatch; do
  b=$bin
  [ "$who" = base ] && b=$BASE_BIN
  run=$(replay "$b" "$work/closed.jsonl" "$work/$who.closed.state")
  read -r total wal sst <<< "$(footprint "$work/$who.closed.state")"
  echo "$who, mostly closed cases: $run"
  echo "  state $(mib "$total") (WAL $(mib "$wal"), SST $(mib "$sst")): $((total / cases)) bytes per case"
done

"$bin" simulate --cases "$cases" --seed 1 --leave-open --out "$work/open.jsonl" 2>/dev/null
run=$(replay "$bin" "$work/open.jsonl" "$work/open.state")
read -r total wal sst <<< "$(footprint "$work/open.state")"
echo "slawatch, open cases: $run"
echo "  state $(mib "$total") (WAL $(mib "$wal"), SST $(mib "$sst")): $((total / cases)) bytes per open case"
