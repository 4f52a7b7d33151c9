#!/usr/bin/env bash
# Replay throughput on one core, plain (in memory) and durable (RocksDB state,
# WAL on), next to a raw RocksDB baseline run on the same machine in the same
# session: db_bench fillrandom with one key per replayed event (the command of
# issue 17). Prints events/s, the ratio to db_bench and the targets itself.
# Then peak RSS and restart-to-ready with many open cases (skip with 0).
#
# Usage: bench/replay_bench.sh [CASES_FULL] [CASES_OPEN]
#   CASES_FULL  cases with a full lifecycle (default 200000)
#   CASES_OPEN  cases left open after their first response (default 0: skipped;
#               10000000 is the figure in docs/benchmarks.md)
# Environment:
#   BASE_BIN=path  another slawatch binary run side by side on the same input
#                  (before/after a change); its ratios are printed too.
#   ROUNDS=n       alternate the binaries n times (default 1); every run printed.
# Needs: scripts/build done; rocksdb-tools (db_bench), GNU time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/src/app/slawatch"
cases_full=${1:-200000}
cases_open=${2:-0}
rounds=${ROUNDS:-1}
work=${BENCH_DIR:-$root/var/bench}
mkdir -p "$work"
command -v db_bench >/dev/null || { echo "db_bench missing: run scripts/setup" >&2; exit 1; }

# Haikou takes ~11,000 cases a day: spread creations accordingly.
span_for() { echo "$(( ($1 + 10999) / 11000 * 24 ))h"; }

# replay_run BIN EVENTS [--state DIR]: prints "seconds cpu_seconds rss_kb"
# (CPU = user + system: on a shared machine the wall time also counts waiting).
replay_run() {
  local binary=$1 events=$2; shift 2
  local log="$work/replay.log"
  /usr/bin/time -f "TIME %e %U %S %M" "$binary" replay --rules "$root/rules" --events "$events" \
    --alerts /dev/null --quiet "$@" 2> "$log"
  awk '/^TIME/ {printf "%s %.2f %s\n", $2, $3 + $4, $5}' "$log"
}

dbbench_run() {  # dbbench_run NUM_KEYS: prints ops/s (the issue's command)
  rm -rf "$work/dbbench"
  db_bench --benchmarks=fillrandom --db="$work/dbbench" --num="$1" --batch_size=1000 --value_size=400 \
    --key_size=24 --compression_type=none --threads=1 2>/dev/null | awk '/^fillrandom/ {print $5}'
}

rate() { awk -v e="$1" -v s="$2" 'BEGIN {printf "%.0f", e / s}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
input="$work/replay-$cases_full.jsonl"
[ -s "$input" ] || "$bin" simulate --seed 42 --cases "$cases_full" --span "$(span_for "$cases_full")" > "$input" 2>/dev/null
events=$(wc -l < "$input")
echo "input: $cases_full simulated cases (simulate --seed 42 --span $(span_for "$cases_full")), $events events"
echo

binaries=("$bin")
[ -n "${BASE_BIN:-}" ] && binaries+=("$BASE_BIN")
for round in $(seq "$rounds"); do
  for binary in "${binaries[@]}"; do
    name=$([ "$binary" = "$bin" ] && echo "slawatch" || echo "base")
    read -r s cpu rss < <(replay_run "$binary" "$input")
    echo "round $round $name plain replay:   ${s}s wall, ${cpu} CPU s, $(rate "$events" "$cpu") events per CPU second ($(rate "$events" "$s")/s wall), peak RSS $((rss / 1024)) MiB; target >= 300000"
    rm -rf "$work/state"
    read -r s cpu rss < <(replay_run "$binary" "$input" --state "$work/state")
    durable=$(rate "$events" "$s")
    base=$(dbbench_run "$events")
    echo "round $round $name durable replay: ${s}s wall, ${cpu} CPU s, $durable events/s, peak RSS $((rss / 1024)) MiB"
    echo "round $round $name db_bench fillrandom $events keys right after: $base ops/s; ratio $(ratio "$durable" "$base") (target >= 0.5)"
  done
done
rm -rf "$work/state" "$work/dbbench"

# Two ceilings for the durable ratio, from this sitting. If storage cost
# nothing, durable replay could be as fast as plain replay. If the engine cost
# nothing, it would still write what its commits write: db_bench writes as many
# keys and bytes in batches of the same size (the values' mean size, 24-byte
# keys). The durable ratio cannot exceed either.
echo
rm -rf "$work/state"
"$bin" replay --rules "$root/rules" --events "$input" --alerts /dev/null --state "$work/state" 2> "$work/replay.log"
state_line=$(grep '^slawatch: state:' "$work/replay.log")
echo "${state_line#slawatch: }"
read -r commits keys bytes < <(echo "$state_line" | awk '{print $3, $6, $(NF - 4)}')
rm -rf "$work/state" "$work/dbbench"
# A WriteBatch entry is its key and value, each with a length, a type byte and a column family id.
value_size=$(awk -v b="$bytes" -v k="$keys" 'BEGIN {v = b / k - 24 - 4; printf "%d", (v > 0 ? v : 0)}')
batch=$(( (keys + commits - 1) / commits ))
writes=$(db_bench --benchmarks=fillrandom --db="$work/dbbench" --num="$keys" --batch_size="$batch" \
  --value_size="$value_size" --key_size=24 --compression_type=none --threads=1 2>/dev/null | awk '/^fillrandom/ {print $5}')
base=$(dbbench_run "$events")
read -r s cpu rss < <(replay_run "$bin" "$input")
echo "db_bench fillrandom of the commits' writes ($keys keys, $value_size-byte values, batches of $batch): $writes ops/s, $(awk -v k="$keys" -v w="$writes" 'BEGIN {printf "%.2f", k / w}')s"
echo "db_bench fillrandom $events keys (issue 17's command): $base ops/s"
echo "ceiling if the engine cost nothing: $(ratio "$(awk -v e="$events" -v k="$keys" -v w="$writes" 'BEGIN {print e * w / k}')" "$base"); if storage cost nothing (plain replay, $(rate "$events" "$s") events/s wall): $(ratio "$(rate "$events" "$s")" "$base") (target >= 0.5)"
rm -rf "$work/dbbench"

[ "$cases_open" -gt 0 ] || exit 0
echo
open_input="$work/replay-open-$cases_open.jsonl"
[ -s "$open_input" ] || "$bin" simulate --seed 42 --cases "$cases_open" --span "$(span_for "$cases_open")" --leave-open \
  > "$open_input" 2>/dev/null
open_events=$(wc -l < "$open_input")
rm -rf "$work/open"
read -r s cpu rss < <(replay_run "$bin" "$open_input" --state "$work/open")
echo "open cases: $cases_open cases, $open_events events, ${s}s, $(rate "$open_events" "$s") events/s, peak RSS $((rss / 1024)) MiB"

# Restart-to-ready: a new process opens the open-case state, recovers, reports ready.
/usr/bin/time -f "TIME %e %M" "$bin" replay --rules "$root/rules" --events /dev/null \
  --state "$work/open" --alerts /dev/null --exit-when-ready > "$work/restart.out" 2> "$work/restart.log"
echo "restart-to-ready with $cases_open cases in state: $(cat "$work/restart.out"); process total $(awk '/^TIME/ {print $2}' "$work/restart.log")s, RSS $(( $(awk '/^TIME/ {print $3}' "$work/restart.log") / 1024 )) MiB"
echo "state size: $(du -sh "$work/open" | cut -f1)"
