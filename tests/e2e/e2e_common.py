"""Helpers shared by the end-to-end tests: running the slawatch binary,
reading its JSON Lines output, and failing with a clear message.

Standard library only; every test script imports this module from its own
folder (Python puts the script's folder on sys.path).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import datetime

ALERT_TYPES = ("slawatch.alert.fired", "slawatch.alert.resolved", "slawatch.alert.retracted")
COMMON_DATA_FIELDS = ("alert_id", "case_id", "rule", "cycle", "stage", "severity", "department",
                      "due_at", "rule_version")
DATA_FIELDS_BY_TYPE = {
    "slawatch.alert.fired": ("fired_at", "started_at", "notify"),
    "slawatch.alert.resolved": ("closed_at", "overdue_seconds"),
    "slawatch.alert.retracted": ("closed_at", "reason", "event_id"),
}
REPLAYED_RE = re.compile(r"replayed (\d+) records: (\d+) applied, (\d+) duplicates, (\d+) dead-lettered")


class TestFailure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def kill_children():
    """SIGKILLs every process this one started and left running (a failed test's monitors would
    otherwise live on, holding ports and joining the next test's broker)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
            if parent == os.getpid():
                os.kill(int(entry), signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            pass


def main(test_function):
    """Runs test_function(argv) and turns a TestFailure into exit code 1; kills what it left running."""
    try:
        test_function(sys.argv[1:])
    except TestFailure as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        sys.exit(1)
    except subprocess.TimeoutExpired as timeout:
        print(f"FAIL: command timed out: {timeout.cmd}", file=sys.stderr)
        sys.exit(1)
    finally:
        kill_children()
    print("PASS")


class TempDir:
    """A scratch folder removed at the end unless SLAWATCH_E2E_KEEP is set."""

    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=f"slawatch-e2e-{prefix}-")

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        if os.environ.get("SLAWATCH_E2E_KEEP"):
            print(f"kept {self.path}")
        else:
            shutil.rmtree(self.path, ignore_errors=True)
        return False


def run(args, cwd=None, stdin_bytes=None, timeout=300):
    """Runs a command to completion; returns CompletedProcess with text stdout/stderr."""
    completed = subprocess.run(args, cwd=cwd, input=stdin_bytes, capture_output=True, timeout=timeout)
    completed.stdout_text = completed.stdout.decode("utf-8", "replace")
    completed.stderr_text = completed.stderr.decode("utf-8", "replace")
    return completed


def run_ok(args, what, **kwargs):
    completed = run(args, **kwargs)
    check(completed.returncode == 0,
          f"{what}: expected exit 0, got {completed.returncode}\n  command: {' '.join(args)}\n"
          f"  stderr: {completed.stderr_text[-2000:]}")
    return completed


def read_lines(path):
    """The file's lines as bytes, without their newline."""
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        return []
    check(data.endswith(b"\n"), f"{path}: last line is not terminated by a newline (torn write?)")
    return data[:-1].split(b"\n")


def parse_json_lines(path):
    """(line bytes, parsed object) for every line; fails on a line that is not a JSON object."""
    parsed = []
    for number, line in enumerate(read_lines(path), start=1):
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise TestFailure(f"{path}:{number}: not valid JSON ({e}): {line[:300]!r}")
        check(isinstance(obj, dict), f"{path}:{number}: not a JSON object: {line[:300]!r}")
        parsed.append((line, obj))
    return parsed


def standing_alert_ids(alerts):
    """Fired and not retracted, following the file's order (a retraction
    cancels the fired alert before it; a later fire would stand again)."""
    standing = set()
    for obj in alerts:
        alert_id = obj["data"]["alert_id"]
        if obj["type"] == "slawatch.alert.fired":
            standing.add(alert_id)
        elif obj["type"] == "slawatch.alert.retracted":
            standing.discard(alert_id)
    return standing


def parse_rfc3339(text):
    """datetime for an RFC 3339 string with offset or Z; None when it is not one."""
    if not isinstance(text, str) or not re.fullmatch(
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", text):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def check_alert_cloudevent(obj, where):
    """Checks one alert line against contract section 3; raises TestFailure."""
    for attribute in ("specversion", "id", "source", "type", "subject", "time", "data"):
        check(attribute in obj, f"{where}: CloudEvent attribute '{attribute}' missing: {obj}")
    check(obj["specversion"] == "1.0", f"{where}: specversion is {obj['specversion']!r}, not '1.0'")
    for attribute in ("id", "source", "subject"):
        check(isinstance(obj[attribute], str) and obj[attribute],
              f"{where}: '{attribute}' must be a non-empty string: {obj[attribute]!r}")
    check(obj["type"] in ALERT_TYPES, f"{where}: unknown alert type {obj['type']!r}")
    check(parse_rfc3339(obj["time"]) is not None, f"{where}: time {obj['time']!r} is not RFC 3339")
    data = obj["data"]
    check(isinstance(data, dict), f"{where}: data is not an object")
    for field in COMMON_DATA_FIELDS + DATA_FIELDS_BY_TYPE[obj["type"]]:
        check(field in data, f"{where}: {obj['type']} data lacks '{field}': {data}")
    check(isinstance(data["cycle"], int) and data["cycle"] >= 1, f"{where}: bad cycle {data['cycle']!r}")
    expected_id = f"{data['case_id']}/{data['rule']}/{data['cycle']}/{data['stage']}"
    check(data["alert_id"] == expected_id,
          f"{where}: alert_id {data['alert_id']!r} is not case/rule/cycle/stage {expected_id!r}")
    check(obj["subject"] == data["case_id"], f"{where}: subject {obj['subject']!r} != case_id")
    check(parse_rfc3339(data["due_at"]) is not None, f"{where}: due_at {data['due_at']!r} not RFC 3339")
    check(isinstance(data["department"], str) and data["department"], f"{where}: empty department")
    if obj["type"] == "slawatch.alert.fired":
        for field in ("fired_at", "started_at"):
            check(parse_rfc3339(data[field]) is not None, f"{where}: {field} {data[field]!r} not RFC 3339")
        check(parse_rfc3339(data["fired_at"]) >= parse_rfc3339(data["due_at"]),
              f"{where}: fired_at {data['fired_at']} is before due_at {data['due_at']}")
        check(parse_rfc3339(data["started_at"]) <= parse_rfc3339(data["due_at"]),
              f"{where}: started_at {data['started_at']} is after due_at {data['due_at']}")
        check(isinstance(data["notify"], list), f"{where}: notify is not a list")
        for target in data["notify"]:
            check(isinstance(target, dict) and "role" in target and "person" in target,
                  f"{where}: notify entry is not {{role, person}}: {target!r}")
    elif obj["type"] == "slawatch.alert.resolved":
        closed_at = parse_rfc3339(data["closed_at"])
        check(closed_at is not None, f"{where}: closed_at {data['closed_at']!r} not RFC 3339")
        overdue = (closed_at - parse_rfc3339(data["due_at"])).total_seconds()
        check(isinstance(data["overdue_seconds"], (int, float)) and abs(data["overdue_seconds"] - overdue) < 0.001,
              f"{where}: overdue_seconds {data['overdue_seconds']!r} != closed_at - due_at = {overdue}")
    else:
        if data["closed_at"] is not None:
            closed_at = parse_rfc3339(data["closed_at"])
            check(closed_at is not None, f"{where}: closed_at {data['closed_at']!r} not RFC 3339")
            check(closed_at <= parse_rfc3339(data["due_at"]),
                  f"{where}: retracted but closed_at {data['closed_at']} is after due_at {data['due_at']}")
        check(isinstance(data["reason"], str) and data["reason"], f"{where}: retraction without a reason")


def replay_summary(stderr_text):
    """(records, applied, duplicates, dead_lettered) from replay's summary line, or None."""
    found = REPLAYED_RE.search(stderr_text)
    return tuple(int(g) for g in found.groups()) if found else None


def event_times(events_path):
    """Event times of every line of a JSON Lines events file that parses."""
    times = []
    for line in read_lines(events_path):
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        t = parse_rfc3339(obj.get("time")) if isinstance(obj, dict) else None
        if t is not None:
            times.append(t)
    return times
