#!/usr/bin/env bash
# Disk footprint of the durable state after `replay --state`:
#  1. CASES simulated cases (seed 1, most of them closed by the end): the state
#     directory split into write-ahead logs and SST files; bytes per retained
#     closed case.
#  2. the same number of cases left open after their first response
#     (--leave-open): bytes per open case.
# Each state is measured right after the replay (WAL holding the memtables)
# and after a reopen (`--exit-when-ready`: recovery flushes the logs into SST
# files), the steady figure per case.
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

replay() {  # replay BIN STATE EVENTS: durable replay, prints "seconds summary"
  rm -rf "$2"
  /usr/bin/time -f "TIME %e %M" "$1" replay --rules "$root/rules" --events "$3" --state "$2" --alerts /dev/null \
    2> "$2.log"
  echo "$(awk '/^TIME/ {print $2 "s, peak RSS " int($3 / 1024) " MiB"}' "$2.log"); $(grep -o 'replayed.*' "$2.log")"
}

reopen() {  # reopen BIN STATE: open, recover, close; prints the time to ready
  "$1" replay --rules "$root/rules" --events /dev/null --state "$2" --exit-when-ready --alerts /dev/null 2>&1 \
    | grep -o 'ready in [0-9.]* ms'
}

report() {  # report STATE CASES UNIT WHEN
  local total wal sst
  read -r total wal sst <<< "$(footprint "$1")"
  echo "  $4: state $(mib "$total") (WAL $(mib "$wal"), SST $(mib "$sst")): $((total / $2)) bytes per $3"
}

mib() { awk -v b="$1" 'BEGIN {printf "%.0f MiB", b / 1048576}'; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ); $cases cases"
"$bin" simulate --cases "$cases" --seed 1 --out "$work/closed.jsonl" 2>/dev/null
for who in ${BASE_BIN:+base} slawatch; do
  b=$bin
  [ "$who" = base ] && b=$BASE_BIN
  run=$(replay "$b" "$work/$who.closed.state" "$work/closed.jsonl")
  echo "$who, mostly closed cases: $run"
  report "$work/$who.closed.state" "$cases" case "after the replay"
  ready=$(reopen "$b" "$work/$who.closed.state")
  report "$work/$who.closed.state" "$cases" case "reopened ($ready)"
done

"$bin" simulate --cases "$cases" --seed 1 --leave-open --out "$work/open.jsonl" 2>/dev/null
run=$(replay "$bin" "$work/open.state" "$work/open.jsonl")
echo "slawatch, open cases: $run"
report "$work/open.state" "$cases" "open case" "after the replay"
ready=$(reopen "$bin" "$work/open.state")
report "$work/open.state" "$cases" "open case" "reopened ($ready)"
