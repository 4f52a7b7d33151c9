"""Steady, timer-heavy load for the firing-delay benchmark: writes `key<TAB>value`
lines (for `kcat -P -K '\\t'`) at RATE records per second for SECONDS seconds.

Every case gets `created` and `dispatched` with the dispatch back-dated so that
its 30-minute first-response breach falls due DUE_AHEAD seconds after the
record is sent: each breach is a real timer the monitor must fire on time.

usage: kafka_timer_load.py RATE SECONDS [DUE_AHEAD]
"""
import json
import sys
import time
from datetime import datetime, timedelta, timezone

HAIKOU = timezone(timedelta(hours=8))


def stamp(epoch_seconds):
    return datetime.fromtimestamp(epoch_seconds, HAIKOU).isoformat(timespec="milliseconds")


def main():
    rate, seconds = float(sys.argv[1]), float(sys.argv[2])
    due_ahead = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
    out = sys.stdout.buffer
    started = time.time()
    sent = 0
    total = int(rate * seconds)
    tick = 0.05
    while sent < total:
        now = time.time()
        target = min(total, int((now - started) * rate) + 1)
        lines = []
        while sent < target:
            case_id = f"T-{sent // 2:09d}"
            dispatched_at = now + due_ahead - 30 * 60
            if sent % 2 == 0:
                event = {"specversion": "1.0", "id": f"t{sent}", "source": "/bench/timers",
                         "type": "hotline.case.created", "subject": case_id, "time": stamp(dispatched_at - 1),
                         "data": {"category": "noise", "priority": "normal", "channel": "phone"}}
            else:
                event = {"specversion": "1.0", "id": f"t{sent}", "source": "/bench/timers",
                         "type": "hotline.case.dispatched", "subject": case_id, "time": stamp(dispatched_at),
                         "data": {"department": f"unit-{(sent // 2) % 91:02d}"}}
            lines.append(case_id.encode() + b"\t" + json.dumps(event, separators=(",", ":")).encode() + b"\n")
            sent += 1
        out.write(b"".join(lines))
        out.flush()
        time.sleep(max(0.0, tick - (time.time() - now)))
    print(f"sent {sent} records in {time.time() - started:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
