#!/usr/bin/env bash
# slawatch and a Kafka Streams peer (bench/peers/kafka-streams: the same
# first-response, emergency-handling and count rules, RocksDB stores,
# punctuators as timers) side by side: same broker, same records, same
# machine, one after the other.
#  1. backlog: CASES simulated cases (a past month, so both clocks follow event
#     time while they catch up) in a 3-partition topic, consumed by each from
#     the start until idle: records/s, CPU seconds per million records, peak
#     RSS; then both alert topics are read back and their standing alerts
#     (last state of each alert id: firing or resolved; retracted ones gone)
#     compared, for stages due before the peer's final stream time (a stream-
#     time punctuator cannot fire what falls due after the last record, while
#     slawatch's clock moves on to the wall clock once it has caught up).
#  2. firing delay: kafka_timer_load.py at RATE records/s for SECONDS into a
#     fresh topic for each in turn, every breach due 3 s after its record;
#     delay = alert record timestamp - due_at - grace (grace 1 s for both).
#
# Usage: bench/peer_bench.sh [CASES] [RATE] [SECONDS]   (defaults 100000 2000 30)
# Needs: scripts/build done, `mvn -q package` in bench/peers/kafka-streams
# (done here when the jar is missing), java 17, kcat, python3. Uses the broker
# of scripts/kafka (SLAWATCH_KAFKA_PORT...), starting and stopping it if needed.
# PEER_JAVA_OPTS (default -Xmx1g) goes to the peer's JVM; PEER_FLAGS to the peer
# in the backlog run (e.g. "--punctuate-ms 3600000" or "--no-changelog").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/src/app/slawatch"
peer_dir="$root/bench/peers/kafka-streams"
jar="$peer_dir/target/slawatch-streams-peer.jar"
cases=${1:-100000}
rate=${2:-2000}
seconds=${3:-30}
work=${BENCH_DIR:-$root/var/bench}/peer
grace_ms=1000
java_opts=${PEER_JAVA_OPTS:--Xmx1g}
peer_flags=${PEER_FLAGS:-}
mkdir -p "$work"
[ -f "$jar" ] || (cd "$peer_dir" && mvn -q package)
. "$root/bench/kafka_common.sh"

# The rules both enforce: rules/ without normal-handling (a working-hours
# calendar the peer does not model).
rules="$work/rules"
rm -rf "$rules" && mkdir -p "$rules"
for r in first-response emergency-handling repeated-return repeated-transfer; do cp "$root/rules/$r.yaml" "$rules/"; done

slawatch_config() { slawatch_kafka_config "$1" "$rules" 3; }  # $work/TAG.yaml reading TAG.events

peer_command() {  # peer_command TAG INPUT CLOCK: sets PEER to the peer reading INPUT, alerts to TAG.alerts
  local tag=$1 input=$2 clock=$3
  "$kafka" topic "$tag.alerts" 3 >/dev/null
  rm -rf "$work/$tag.state"
  # shellcheck disable=SC2206
  PEER=(java $java_opts -jar "$jar" --brokers "$brokers" --input "$input" --output "$tag.alerts" --app-id "$tag"
        --state-dir "$work/$tag.state" --clock "$clock" --grace-ms "$grace_ms")
}

usage() {  # usage LOG RECORDS: "records/s cpu_s cpu_s_per_million rss_mib"
  awk -v n="$2" -v rate="$3" '/^TIME/ {cpu = $4 + $5; printf "%s %.1f %.1f %d", rate, cpu, cpu * 1e6 / n, $3 / 1024}' "$1"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg); broker on the same machine; $(date -u +%FT%TZ)"

# 1. Backlog throughput and agreement.
stamp=$(date +%s)
input="pb-$stamp.events"
"$kafka" topic "$input" 3 >/dev/null
span="$(( (cases + 10999) / 11000 * 24 ))h"
"$bin" simulate --seed 7 --cases "$cases" --span "$span" --start 2026-01-05T00:00:00Z \
  --kafka "$brokers" --topic "$input" 2> "$work/sim.log"

sw="pb-$stamp-sw"
slawatch_config "$sw"
sed -i "s/events: $sw.events/events: $input/" "$work/$sw.yaml"
/usr/bin/time -f "TIME %e %M %U %S" "$bin" run --config "$work/$sw.yaml" --exit-when-idle 5s 2> "$work/$sw.log" || {
  tail -20 "$work/$sw.log"; exit 1; }
sw_line=$(grep "records consumed" "$work/$sw.log" | tail -1)
sw_records=$(echo "$sw_line" | grep -o '[0-9]* records consumed' | awk '{print $1}')
sw_rate=$(echo "$sw_line" | grep -o '([0-9]* records/s' | tr -d '(' | awk '{print $1}')

pr="pb-$stamp-peer"
peer_command "$pr" "$input" stream
# shellcheck disable=SC2086
/usr/bin/time -f "TIME %e %M %U %S" "${PEER[@]}" --exit-when-idle-ms 5000 $peer_flags > /dev/null 2> "$work/$pr.log" || {
  tail -20 "$work/$pr.log"; exit 1; }
pr_line=$(grep "^peer: .* records consumed" "$work/$pr.log" | tail -1)
pr_records=$(echo "$pr_line" | awk '{print $2}')
pr_rate=$(echo "$pr_line" | grep -o '([0-9]* records/s' | tr -d '(' | awk '{print $1}')
cut_ms=$(grep -o 'stream time [0-9]*' "$work/$pr.log" | awk '{print $3}' | sort -n | head -1)

read -r a b c d <<< "$(usage "$work/$sw.log" "$sw_records" "$sw_rate")"
echo "slawatch  backlog: $sw_records records, $a records/s, CPU ${b}s = $c CPU s per million records, peak RSS $d MiB"
sw_cpu=$b
read -r a b c d <<< "$(usage "$work/$pr.log" "$pr_records" "$pr_rate")"
echo "peer      backlog: $pr_records records, $a records/s, CPU ${b}s = $c CPU s per million records, peak RSS $d MiB (JVM $java_opts; flags: ${peer_flags:-none})"
awk -v n1="$sw_records" -v c1="$sw_cpu" -v n2="$pr_records" -v c2="$b" \
  'BEGIN {printf "records per CPU second: slawatch %.0f, peer %.0f, ratio %.2f\n", n1 / c1, n2 / c2, (n1 / c1) / (n2 / c2)}'

for t in "$sw" "$pr"; do kcat -b "$brokers" -C -t "$t.alerts" -o beginning -e -q -f '%s\n' > "$work/$t.alerts.jsonl"; done
python3 - "$work/$sw.alerts.jsonl" "$work/$pr.alerts.jsonl" "$cut_ms" <<'EOF'
import json, sys
from datetime import datetime

def due_ms(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000

def standing(path, cut):
    state = {}
    for line in open(path):
        alert = json.loads(line)
        data = alert["data"]
        if due_ms(data["due_at"]) >= cut:
            continue
        kind = alert["type"].rsplit(".", 1)[1]
        if kind == "retracted":
            state.pop(data["alert_id"], None)
        else:
            state[data["alert_id"]] = "firing" if kind == "fired" else "resolved"
    return state

cut = int(sys.argv[3])
sw, peer = standing(sys.argv[1], cut), standing(sys.argv[2], cut)
only_sw = sorted(set(sw) - set(peer))
only_peer = sorted(set(peer) - set(sw))
differ = sorted(a for a in set(sw) & set(peer) if sw[a] != peer[a])
same = len(set(sw) & set(peer)) - len(differ)
print(f"standing alerts due before the peer's last stream time ({datetime.utcfromtimestamp(cut / 1000):%FT%TZ}): "
      f"slawatch {len(sw)}, peer {len(peer)}; same {same}, only slawatch {len(only_sw)}, only peer {len(only_peer)}, "
      f"state differs {len(differ)}")
for name, ids in (("only slawatch", only_sw), ("only peer", only_peer), ("state differs", differ)):
    for a in ids[:5]:
        print(f"  {name}: {a} slawatch={sw.get(a)} peer={peer.get(a)}")
EOF

# 2. Firing delay under a steady timer-heavy load, each on its own topic.
for who in slawatch peer; do
  tag="pd-$(date +%s)-$who"
  "$kafka" topic "$tag.events" 3 >/dev/null
  if [ "$who" = slawatch ]; then
    slawatch_config "$tag"
    /usr/bin/time -f "TIME %e %M %U %S" "$bin" run --config "$work/$tag.yaml" 2> "$work/$tag.log" &
  else
    peer_command "$tag" "$tag.events" wall
    /usr/bin/time -f "TIME %e %M %U %S" "${PEER[@]}" > /dev/null 2> "$work/$tag.log" &
  fi
  monitor=$!
  sleep 5  # let it join its group before the load starts
  python3 "$root/bench/kafka_timer_load.py" "$rate" "$seconds" 3 2> "$work/$tag.load.log" \
    | kcat -b "$brokers" -P -t "$tag.events" -K '\t'
  sleep 8  # the last breaches fall due 3 s after their records
  pkill -TERM -P "$monitor" 2>/dev/null || true  # /usr/bin/time's child: the monitor itself
  wait "$monitor" || true
  kcat -b "$brokers" -C -t "$tag.alerts" -o beginning -e -q -J > "$work/$tag.alerts.json"
  read -r _ b _ d <<< "$(usage "$work/$tag.log" 1 0)"
  echo "$who firing delay at $rate records/s for ${seconds}s: $(python3 "$root/bench/firing_delay.py" "$work/$tag.alerts.json" "$grace_ms"); CPU ${b}s, peak RSS $d MiB"
done
