"""Live mode: `slawatch run --config` on a small file whose case was dispatched
two hours ago (wall clock) and never acknowledged fires the first-response
stages within seconds, then stops cleanly on SIGTERM with exit code 0. The
config's `audit:` log records the rule set and the delivered alerts and verifies.

This test necessarily uses the wall clock: times in the input are computed
from now, and the alerts file is polled with a short timeout.

usage: live_run.py SLAWATCH RULES_DIR
"""
import json
import os
import signal
import subprocess
import time
from datetime import datetime, timedelta, timezone

from e2e_common import TempDir, check, check_alert_cloudevent, main, parse_json_lines, parse_rfc3339, run

HAIKOU = timezone(timedelta(hours=8))
POLL_SECONDS = 10
EXPECTED = {"LIVE-1/first-response/1/warning", "LIVE-1/first-response/1/breach",
            "LIVE-1/first-response/1/escalated"}


def event(event_id, kind, at, data):
    return json.dumps({"specversion": "1.0", "id": event_id, "source": "/e2e/live",
                       "type": f"hotline.case.{kind}", "subject": "LIVE-1",
                       "time": at.astimezone(HAIKOU).isoformat(timespec="milliseconds"), "data": data})


def fired_ids(path):
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return set()
    with open(path, "rb") as f:
        if not f.read().endswith(b"\n"):
            return set()  # a line is being written; look again
    return {obj["data"]["alert_id"] for _, obj in parse_json_lines(path) if obj["type"] == "slawatch.alert.fired"}


def test(argv):
    check(len(argv) == 2, "usage: live_run.py SLAWATCH RULES_DIR")
    slawatch, rules = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    with TempDir("live") as work:
        now = datetime.now(timezone.utc)
        events = os.path.join(work, "events.jsonl")
        with open(events, "w", encoding="utf-8") as f:
            f.write(event("live-1", "created", now - timedelta(hours=2, minutes=5),
                          {"category": "noise", "priority": "normal", "channel": "phone"}) + "\n")
            f.write(event("live-2", "dispatched", now - timedelta(hours=2), {"department": "noise"}) + "\n")
        alerts = os.path.join(work, "alerts.jsonl")
        config = os.path.join(work, "slawatch.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(f"rules: {rules}\nstate_dir: state\ngrace: 1s\ninput: events.jsonl\n"
                    f"alerts_output: alerts.jsonl\ndead_letter_output: dead.jsonl\naudit: {{path: audit.jsonl}}\n")

        stderr_path = os.path.join(work, "stderr.txt")
        with open(stderr_path, "wb") as stderr_file:
            process = subprocess.Popen([slawatch, "run", "--config", config], stdout=subprocess.DEVNULL,
                                       stderr=stderr_file)
        try:
            deadline = time.monotonic() + POLL_SECONDS
            fired = set()
            while time.monotonic() < deadline and process.poll() is None and not EXPECTED <= fired:
                time.sleep(0.05)
                fired = fired_ids(alerts)
            exited_early = process.poll()
            if exited_early is None:
                process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        with open(stderr_path, encoding="utf-8", errors="replace") as f:
            stderr = f.read()
        check(exited_early is None, f"run exited by itself with code {exited_early} before SIGTERM:\n{stderr}")
        check(EXPECTED <= fired, f"within {POLL_SECONDS}s only these alerts fired: {sorted(fired)}; "
                                 f"expected {sorted(EXPECTED)}\n{stderr}")
        check(code == 0, f"run exited with {code} after SIGTERM, expected 0:\n{stderr}")
        for number, (_, obj) in enumerate(parse_json_lines(alerts), start=1):
            check_alert_cloudevent(obj, f"live alerts line {number}")
            check(obj["data"]["department"] == "noise",
                  f"alert {obj['data']['alert_id']} names department {obj['data']['department']!r}, not 'noise'")
        audit_log = os.path.join(work, "audit.jsonl")
        verified = run([slawatch, "audit", "verify", "--log", audit_log, "--head-file", audit_log + ".head"])
        check(verified.returncode == 0, f"audit verify: {verified.stdout_text}{verified.stderr_text}")
        audited = [entry for _, entry in parse_json_lines(audit_log)]
        check(audited[0]["kind"] == "rules.loaded" and parse_rfc3339(audited[0]["time"]) is not None,
              f"the audit log does not start with a timed rules.loaded: {audited[0]}")
        audited_fired = {e["payload"]["alert_id"] for e in audited if e["kind"] == "alert.fired"}
        check(EXPECTED <= audited_fired, f"audit log has fired {sorted(audited_fired)}")
        print(f"live: fired {sorted(fired)}; SIGTERM gave exit 0; {verified.stdout_text.strip()}")


if __name__ == "__main__":
    main(test)
