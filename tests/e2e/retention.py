"""Retention of closed cases through the real binary: `replay --state` with
`--retain-closed 2d` deletes a case closed more than 2 days (event time)
before the last event read, keeps one closed exactly 2 days before and an
open one however old, says so in its summary; the same input with `never`
keeps all three, and a late re-dispatch of the purged case starts a fresh
record (its first-response cycle is numbered 1 again).

usage: retention.py SLAWATCH RULES_DIR
"""
import json
import os
import re

from e2e_common import REPLAYED_RE, TempDir, check, main, parse_json_lines, run_ok

PURGED_RE = re.compile(r"(\d+) closed cases purged")


def event(event_id, case_id, kind, time, **data):
    return json.dumps({"specversion": "1.0", "id": event_id, "source": "/e2e/retention",
                       "type": f"hotline.case.{kind}", "subject": case_id, "time": time, "data": data})


def write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def replay(slawatch, rules, events, state, retain, alerts):
    completed = run_ok([slawatch, "replay", "--rules", rules, "--events", events, "--state", state,
                        "--retain-closed", retain, "--alerts", alerts], f"replay --retain-closed {retain}")
    check(REPLAYED_RE.search(completed.stderr_text), f"no summary: {completed.stderr_text}")
    purged = PURGED_RE.search(completed.stderr_text)
    return int(purged.group(1)) if purged else 0


def test(argv):
    slawatch, rules = argv[0], argv[1]
    with TempDir("retention") as tmp:
        history = os.path.join(tmp, "history.jsonl")
        write(history, [
            event("o1", "OLD", "dispatched", "2026-03-01T00:00:00Z", department="dept-a"),
            event("o2", "OLD", "acknowledged", "2026-03-01T00:10:00Z", department="dept-a"),
            event("e1", "EDGE", "dispatched", "2026-03-01T00:00:00Z", department="dept-a"),
            event("e2", "EDGE", "acknowledged", "2026-03-01T00:10:00.001Z", department="dept-a"),
            event("p1", "OPEN", "dispatched", "2026-03-01T00:00:00Z", department="dept-a"),
            event("n1", "NEW", "dispatched", "2026-03-03T00:10:00.001Z", department="dept-a"),
        ])
        kept = replay(slawatch, rules, history, os.path.join(tmp, "never.state"), "never",
                      os.path.join(tmp, "never.jsonl"))
        check(kept == 0, f"'never' purged {kept} cases")
        state = os.path.join(tmp, "purge.state")
        purged = replay(slawatch, rules, history, state, "2d", os.path.join(tmp, "purge.jsonl"))
        # OLD: last event 2d 1 ms before the clock, purged; EDGE: exactly 2d, kept; OPEN: open.
        check(purged == 1, f"expected 1 closed case purged, got {purged}")
        never = sorted(o["data"]["alert_id"] for _, o in parse_json_lines(os.path.join(tmp, "never.jsonl")))
        with_purge = sorted(o["data"]["alert_id"] for _, o in parse_json_lines(os.path.join(tmp, "purge.jsonl")))
        check(never == with_purge, f"a purge changed the alerts: {never} vs {with_purge}")

        # The same file with more lines: `replay --state` resumes after what it read.
        with open(history, "a") as f:
            f.write("\n".join([event("o3", "OLD", "dispatched", "2026-03-03T01:00:00Z", department="dept-b"),
                     event("n2", "NEW", "created", "2026-03-03T02:00:00Z", category="noise",
                           priority="urgent", channel="phone")]) + "\n")
        replay(slawatch, rules, history, state, "2d", os.path.join(tmp, "late-alerts.jsonl"))
        fired = [o["data"]["alert_id"] for _, o in parse_json_lines(os.path.join(tmp, "late-alerts.jsonl"))
                 if o["type"] == "slawatch.alert.fired" and o["data"]["case_id"] == "OLD"]
        check("OLD/first-response/1/warning" in fired,
              f"the purged case's late re-dispatch should start cycle 1 of a fresh record: {fired}")


if __name__ == "__main__":
    main(test)
