# Sourced by the benchmarks that run slawatch on a real broker: starts the
# broker of scripts/kafka (SLAWATCH_KAFKA_PORT...) unless one runs, stops it
# on exit if it started it, and sets $kafka (the script) and $brokers.
# Needs $root and $work set by the caller.
kafka="$root/scripts/kafka"
started_broker=0
if ! "$kafka" status >/dev/null 2>&1; then "$kafka" start >/dev/null; started_broker=1; fi
trap '[ $started_broker = 1 ] && "$kafka" stop >/dev/null 2>&1 || true' EXIT
eval "$("$kafka" env)"
brokers=$SLAWATCH_KAFKA_BROKERS

# slawatch_kafka_config TAG RULES PARTITIONS [MORE_YAML]: writes $work/TAG.yaml,
# a monitor of TAG.events (alerts to TAG.alerts, dead letters to TAG.dlq) with
# a fresh state in $work/TAG.state, and creates the topics with PARTITIONS each.
# BENCH_CHANGELOG=false turns the state changelog off (on by default, as in production).
slawatch_kafka_config() {
  local tag=$1 rules=$2 partitions=$3 more=${4:-}
  rm -rf "$work/$tag.state"
  cat > "$work/$tag.yaml" <<YAML
rules: $rules
state_dir: $work/$tag.state
grace: ${grace_ms}ms
batch_records: 2000
$more
kafka:
  brokers: $brokers
  group_id: $tag
  topics: {events: $tag.events, alerts: $tag.alerts, dead_letter: $tag.dlq}
  changelog: ${BENCH_CHANGELOG:-true}
YAML
  for t in events alerts dlq; do "$kafka" topic "$tag.$t" "$partitions" >/dev/null; done
}
