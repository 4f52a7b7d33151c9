"""Replay on several partitions (issue 13): `replay --partitions N` splits the
input by case id over N lanes on N worker threads. The alerts standing at the
end are the same for every N, each partition's own output is the same run
after run, a durable replay killed twice resumes to the same result, and a
state is never resumed with another partition count. Also the replay clock of
contract section 4 (amended 2026-12-06): input in event-time order never
yields a retraction, even when cases share a millisecond.

usage: partitions.py SLAWATCH RULES_DIR
"""
import json
import os
import subprocess
from datetime import timedelta

from crash_restart import run_and_kill, split_torn
from e2e_common import (TempDir, check, event_times, main, parse_json_lines, run, run_ok,
                        standing_alert_ids)


def fnv1a(text):
    h = 14695981039346656037
    for byte in text.encode():
        h = ((h ^ byte) * 1099511628211) % (1 << 64)
    return h


def replay(slawatch, rules, events, until, alerts, partitions, state=None):
    args = [slawatch, "replay", "--rules", rules, "--events", events, "--until", until, "--alerts", alerts,
            "--quiet", "--partitions", str(partitions)]
    if state:
        args += ["--state", state]
    return run_ok(args, f"replay --partitions {partitions}")


def alerts_of(path):
    return [obj for _, obj in parse_json_lines(path)]


def by_partition(alerts, partitions):
    out = {p: [] for p in range(partitions)}
    for obj in alerts:
        out[fnv1a(obj["data"]["case_id"]) % partitions].append(json.dumps(obj, sort_keys=True))
    return out


def same_millisecond_history(path):
    """c2's dispatch moves the clock to c1's warning due time; c1's acknowledgement
    of the same millisecond meets it (ids ordered so the acknowledgement comes last)."""
    def event(eid, case, etype, time, data):
        return {"specversion": "1.0", "id": eid, "source": "/haikou/12345/test", "type": f"hotline.case.{etype}",
                "subject": case, "time": time, "data": data}
    created = {"category": "noise", "priority": "normal", "channel": "phone"}
    lines = [
        event("e1", "C-1", "created", "2026-03-02T08:00:00.000+08:00", created),
        event("e2", "C-1", "dispatched", "2026-03-02T08:00:00.000+08:00", {"department": "dept-a"}),
        event("e3", "C-2", "created", "2026-03-02T08:24:00.000+08:00", created),
        event("e4", "C-2", "dispatched", "2026-03-02T08:24:00.000+08:00", {"department": "dept-b"}),
        event("e5", "C-1", "acknowledged", "2026-03-02T08:24:00.000+08:00", {"department": "dept-a"}),
        event("e6", "C-2", "acknowledged", "2026-03-02T08:30:00.000+08:00", {"department": "dept-b"}),
    ]
    with open(path, "w") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")


def test(argv):
    check(len(argv) == 2, "usage: partitions.py SLAWATCH RULES_DIR")
    slawatch, rules = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    with TempDir("partitions") as work:
        events = os.path.join(work, "events.jsonl")
        run_ok([slawatch, "simulate", "--seed", "13", "--cases", "4000", "--span", "24h", "--out", events,
                "--late", "0.05", "--reorder", "0.05", "--duplicates", "0.02", "--malformed", "0.005"], "simulate")
        last = max(event_times(events))
        until = (last.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=2)).isoformat(
            timespec="milliseconds")

        # 1. The same standing alerts for every partition count.
        reference_path = os.path.join(work, "alerts-1.jsonl")
        replay(slawatch, rules, events, until, reference_path, 1)
        reference = standing_alert_ids(alerts_of(reference_path))
        check(len(reference) > 100, f"only {len(reference)} standing alerts: the history exercises too little")
        for partitions in (2, 3):
            path = os.path.join(work, f"alerts-{partitions}.jsonl")
            replay(slawatch, rules, events, until, path, partitions)
            standing = standing_alert_ids(alerts_of(path))
            missing, extra = sorted(reference - standing), sorted(standing - reference)
            check(not missing and not extra, f"--partitions {partitions}: {len(missing)} standing alerts missing "
                  f"{missing[:5]}, {len(extra)} extra {extra[:5]}")
            print(f"--partitions {partitions}: the same {len(standing)} standing alerts as --partitions 1")

        # 2. Each partition's output is deterministic.
        again = os.path.join(work, "alerts-3-again.jsonl")
        replay(slawatch, rules, events, until, again, 3)
        first, second = by_partition(alerts_of(os.path.join(work, "alerts-3.jsonl")), 3), by_partition(
            alerts_of(again), 3)
        for p in range(3):
            check(first[p] == second[p], f"partition {p}: two runs wrote different alert sequences")
        print("--partitions 3 twice: every partition's alerts identical, in the same order")

        # 3. Durable, killed twice, resumed: the same standing alerts. With
        # barriers every 500 records, and with the default batch, where a lane
        # commits between barriers once 2,000 alerts wait in its batch.
        for label, batch in (("--batch 500", ["--batch", "500"]), ("the default batch", [])):
            state = os.path.join(work, "state" if batch else "state-default-batch")
            durable = os.path.join(work, "alerts-durable.jsonl" if batch else "alerts-durable-default.jsonl")
            args = [slawatch, "replay", "--rules", rules, "--events", events, "--until", until, "--alerts",
                    durable, "--quiet", "--partitions", "2", "--state", state, *batch]
            kills = 0
            for kill_size in (20_000, 400_000):
                code, stderr, _ = run_and_kill(args, durable, kill_size, 30)
                check(code in (-9, 0), f"killed replay exited {code}: {stderr[-500:]}")
                kills += code == -9
            run_ok(args, "resumed durable replay")
            whole, torn = split_torn(durable)
            check(len(torn) <= kills, f"{len(torn)} torn lines after {kills} kills")
            standing = standing_alert_ids(json.loads(line) for line in whole)
            missing, extra = sorted(reference - standing), sorted(standing - reference)
            check(not missing and not extra, f"durable --partitions 2 ({label}) after {kills} kills: "
                  f"{len(missing)} missing {missing[:5]}, {len(extra)} extra {extra[:5]}")
            print(f"durable --partitions 2 ({label}), killed {kills} times and resumed: the same {len(standing)} "
                  "standing alerts")
        state = os.path.join(work, "state")

        # 4. Another partition count on that state is refused.
        refused = run([slawatch, "replay", "--rules", rules, "--events", events, "--alerts",
                       os.path.join(work, "x.jsonl"), "--quiet", "--partitions", "3", "--state", state])
        check(refused.returncode == 1 and "--partitions 2" in refused.stderr_text,
              f"resuming a --partitions 2 state with 3 partitions: exit {refused.returncode}, "
              f"stderr {refused.stderr_text[-300:]!r}")
        print("a --partitions 2 state resumed with --partitions 3: refused, naming --partitions 2")

        # 5. Event-time order, two cases sharing a millisecond: no retraction, no false alarm.
        tie = os.path.join(work, "same-ms.jsonl")
        same_millisecond_history(tie)
        for partitions in (1, 2):
            path = os.path.join(work, f"tie-{partitions}.jsonl")
            replay(slawatch, rules, tie, "2026-03-03T00:00:00.000+08:00", path, partitions)
            alerts = alerts_of(path)
            retracted = [a["data"]["alert_id"] for a in alerts if a["type"] == "slawatch.alert.retracted"]
            check(not retracted, f"--partitions {partitions}: in-order input retracted {retracted}")
            c1 = [a["data"]["alert_id"] for a in alerts if a["data"]["case_id"] == "C-1"
                  and "first-response" in a["data"]["rule"]]
            check(not c1, f"--partitions {partitions}: C-1 answered exactly at its due time, yet {c1}")
        print("in event-time order with a shared millisecond: no retraction and no false alarm")


if __name__ == "__main__":
    main(test)
