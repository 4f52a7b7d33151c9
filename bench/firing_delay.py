"""Firing delay of breach alerts read back from Kafka (`kcat -C -J` output):
delay = the alert record's Kafka timestamp - due_at - grace. Prints
"N breaches, p50 .. ms, p99 .. ms, max .. ms"; exits non-zero without any.

usage: firing_delay.py ALERTS_JSON GRACE_MS
"""
import json
import sys
from datetime import datetime


def main():
    path, grace_ms = sys.argv[1], int(sys.argv[2])
    delays = []
    for line in open(path):
        record = json.loads(line)
        alert = json.loads(record["payload"])
        if alert["type"] != "slawatch.alert.fired" or alert["data"]["stage"] != "breach":
            continue
        due = datetime.fromisoformat(alert["data"]["due_at"].replace("Z", "+00:00")).timestamp() * 1000
        delays.append(record["ts"] - due - grace_ms)
    delays.sort()
    if not delays:
        sys.exit("no breach alerts arrived")

    def pick(q):
        return delays[min(len(delays) - 1, int(q * len(delays)))]

    print(f"{len(delays)} breaches, p50 {pick(0.50):.0f} ms, p99 {pick(0.99):.0f} ms, max {delays[-1]:.0f} ms")


if __name__ == "__main__":
    main()
