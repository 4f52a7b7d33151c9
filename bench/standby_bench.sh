#!/usr/bin/env bash
# Failover with and without standby replicas (issue 14), on a real broker
# (scripts/kafka, same machine): two instances on a 4-partition input with
# CASES simulated cases; the one owning partitions 2 and 3 is SIGKILLed while
# the last 20% of the stream arrives; the survivor takes its partitions.
#   standby     kafka.standby_replicas: 1: the survivor's warm copies.
#   no_standby  the baseline: the survivor restores both partitions in full.
# Printed per run: changelog records the survivor read on takeover, what a full
# restore reads (the changelog partitions' records), the time from the kill to
# owning the partitions (mostly the 6 s session timeout) and to the alerts topic
# standing where an uninterrupted replay stands, and the survivor's takeover lines.
#
# Usage: bench/standby_bench.sh [CASES]   (default 20000)
# Needs: scripts/build done, kcat. Starts (and stops) the broker itself unless one is running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-$root/var/bench}/standby
mkdir -p "$work"
. "$root/bench/kafka_common.sh"
echo "machine: $(nproc) cores, broker on the same machine, load: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
for scenario in no_standby standby; do
  SLAWATCH_STANDBY_CASES=${1:-20000} PYTHONDONTWRITEBYTECODE=1 python3 "$root/tests/e2e/standby_failover.py" \
    "$root/build/src/app/slawatch" "$root/rules" "$kafka" "$scenario" | grep -v '^PASS$'
done
