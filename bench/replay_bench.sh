#!/usr/bin/env bash
# Replay throughput, peak RSS and restart-to-ready with durable RocksDB state
# (WAL on), next to a raw RocksDB baseline (db_bench fillrandom, same key
# count and batch size) run on the same machine in the same session.
#
# Usage: bench/replay_bench.sh [CASES_FULL] [CASES_OPEN]
#   CASES_FULL  cases with a full lifecycle (default 1000000)
#   CASES_OPEN  cases left open after their first response (default 10000000)
# Needs: scripts/build done; rocksdb-tools (db_bench), GNU time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/src/app/slawatch"
cases_full=${1:-1000000}
cases_open=${2:-10000000}
work=${BENCH_DIR:-$root/var/bench}
batch=2000
mkdir -p "$work"
command -v db_bench >/dev/null || { echo "db_bench missing: run scripts/setup" >&2; exit 1; }

# Haikou takes ~11,000 cases a day: spread creations accordingly.
span_for() { echo "$(( ($1 + 10999) / 11000 * 24 ))h"; }

# replay_run NAME CASES [simulate flags...]: prints "events seconds rss_kb"
replay_run() {
  local name=$1 cases=$2; shift 2
  rm -rf "$work/$name"
  local log="$work/$name.log"
  /usr/bin/time -f "TIME %e %M" bash -c \
    "\"$bin\" simulate --seed 42 --cases $cases --span $(span_for "$cases") $* 2>/dev/null \
     | \"$bin\" replay --rules \"$root/rules\" --events - --state \"$work/$name\" --batch $batch \
         --alerts /dev/null" 2> "$log"
  local events secs rss
  events=$(grep -o 'replayed [0-9]* records' "$log" | awk '{print $2}')
  secs=$(awk '/^TIME/ {print $2}' "$log")
  rss=$(awk '/^TIME/ {print $3}' "$log")
  echo "$events $secs $rss"
}

baseline() {  # baseline NUM_KEYS: prints ops/s
  local num=$1
  rm -rf "$work/dbbench"
  db_bench --benchmarks=fillrandom --db="$work/dbbench" --num="$num" --batch_size=$batch \
    --key_size=24 --value_size=100 --disable_wal=false --sync=false --threads=1 \
    --compression_type=lz4 2>/dev/null | awk '/^fillrandom/ {print $5}'
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(date -u +%FT%TZ)"
echo

read -r ev1 s1 rss1 < <(replay_run full "$cases_full")
rate1=$(awk -v e="$ev1" -v s="$s1" 'BEGIN {printf "%.0f", e/s}')
base1=$(baseline "$ev1")
echo "full lifecycle: $cases_full cases, $ev1 events, ${s1}s, $rate1 events/s, peak RSS $((rss1/1024)) MiB"
echo "baseline db_bench fillrandom $ev1 keys, batch $batch: $base1 ops/s; ratio $(awk -v a="$rate1" -v b="$base1" 'BEGIN {printf "%.2f", a/b}')"

read -r ev2 s2 rss2 < <(replay_run open "$cases_open" --leave-open)
rate2=$(awk -v e="$ev2" -v s="$s2" 'BEGIN {printf "%.0f", e/s}')
echo "open cases: $cases_open cases, $ev2 events, ${s2}s, $rate2 events/s, peak RSS $((rss2/1024)) MiB"

# Restart-to-ready: a new process opens the open-case state, recovers, reports ready.
/usr/bin/time -f "TIME %e %M" "$bin" replay --rules "$root/rules" --events /dev/null \
  --state "$work/open" --alerts /dev/null --exit-when-ready > "$work/restart.out" 2> "$work/restart.log"
echo "restart-to-ready with $cases_open cases in state: $(cat "$work/restart.out"); process total $(awk '/^TIME/ {print $2}' "$work/restart.log")s, RSS $(( $(awk '/^TIME/ {print $3}' "$work/restart.log") / 1024 )) MiB"
echo "state size: $(du -sh "$work/open" | cut -f1)"
