"""Crash and restart: a durable replay (--state) killed with SIGKILL at several
points and restarted with the same state folder ends with the same alerts and
dead letters as an uninterrupted run: nothing lost, nothing invented, and the
restarts resume from a checkpoint instead of starting over.

usage: crash_restart.py SLAWATCH RULES_DIR [CASES]
"""
import collections
import json
import os
import random
import signal
import subprocess
import time

from e2e_common import (TempDir, check, main, read_lines, replay_summary, run_ok,
                        standing_alert_ids)

UNTIL = "2026-04-15T00:00:00.000+08:00"  # well after the last simulated event
BATCH = "200"
KILL_SEED = 20260302


def replay_args(slawatch, rules, events, state, alerts, dead):
    return [slawatch, "replay", "--rules", rules, "--events", events, "--until", UNTIL, "--alerts", alerts,
            "--dead-letter", dead, "--state", state, "--batch", BATCH]


def file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def run_and_kill(args, alerts, kill_when_size, kill_after_seconds, timeout=300):
    """Starts a replay and SIGKILLs it once the alerts file reaches kill_when_size
    bytes or kill_after_seconds passed, whichever comes first. Returns
    (exit code, stderr text, alerts size at the kill or exit)."""
    # stderr goes to a file: a pipe nobody reads while polling could fill up and stall the replay.
    stderr_path = alerts + ".stderr"
    with open(stderr_path, "wb") as stderr_file:
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=stderr_file)
    started = time.monotonic()
    try:
        while process.poll() is None:
            elapsed = time.monotonic() - started
            check(elapsed < timeout, f"replay did not finish within {timeout}s")
            if file_size(alerts) >= kill_when_size or elapsed >= kill_after_seconds:
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    with open(stderr_path, "rb") as f:
        stderr = f.read().decode("utf-8", "replace")
    return process.returncode, stderr, file_size(alerts)


def split_torn(path):
    """(whole lines, torn lines): a torn line is a partial line that a killed run
    left behind, glued to the first line the next run appended."""
    whole, torn = [], []
    for line in read_lines(path):
        try:
            json.loads(line)
            whole.append(line)
        except ValueError:
            torn.append(line)
    return whole, torn


def alert_lines(path):
    """(Counter of line bytes, set of (alert_id, type), standing alert ids, torn lines)."""
    whole, torn = split_torn(path)
    objs = [json.loads(line) for line in whole]
    keys = {(obj["data"]["alert_id"], obj["type"]) for obj in objs}
    return collections.Counter(whole), keys, standing_alert_ids(objs), torn


def describe_torn(torn, reference_lines):
    """Where each torn line was cut, and whether the line glued after it survives elsewhere."""
    out = []
    for line in torn[:5]:
        glued_at = line.find(b'{"specversion"', 1)
        glued = line[glued_at:] if glued_at > 0 else b""
        out.append(f"    {len(line)} bytes, cut after {glued_at} bytes of a line, glued line "
                   f"{'is' if glued in reference_lines else 'is NOT'} a reference line: {line[:160]!r}...")
    return "\n".join(out)


def test(argv):
    check(len(argv) in (2, 3), "usage: crash_restart.py SLAWATCH RULES_DIR [CASES]")
    slawatch, rules = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    cases = argv[2] if len(argv) == 3 else "20000"
    with TempDir("crash") as work:
        events = os.path.join(work, "events.jsonl")
        run_ok([slawatch, "simulate", "--seed", "4242", "--cases", cases, "--span", "24h", "--out", events,
                "--late", "0.05", "--reorder", "0.02", "--duplicates", "0.02", "--malformed", "0.005"],
               "simulate")
        total_records = len(read_lines(events))

        # Reference: one uninterrupted durable run.
        ref_alerts, ref_dead = os.path.join(work, "ref-alerts.jsonl"), os.path.join(work, "ref-dead.jsonl")
        started = time.monotonic()
        reference = run_ok(replay_args(slawatch, rules, events, os.path.join(work, "ref-state"), ref_alerts,
                                       ref_dead), "reference replay")
        reference_seconds = time.monotonic() - started
        summary = replay_summary(reference.stderr_text)
        check(summary is not None and summary[0] == total_records,
              f"reference replay summary {summary} does not cover the {total_records} input records")
        # A (alert_id, type) pair may legitimately appear twice in one run: a late
        # start event renumbers the cycles, so cycle 1 can be retracted and fire again.
        ref_lines, ref_keys, ref_standing, ref_torn = alert_lines(ref_alerts)
        check(not ref_torn, f"the uninterrupted run wrote {len(ref_torn)} lines that are not JSON")
        check(max(ref_lines.values()) == 1, "the uninterrupted run wrote the same alert line twice")
        ref_count = sum(ref_lines.values())
        ref_dead_lines = read_lines(ref_dead)
        check(ref_dead_lines, "the simulated input has malformed records but nothing was dead-lettered")
        ref_size = os.path.getsize(ref_alerts)
        print(f"reference: {total_records} records, {ref_count} alert lines ({ref_size} bytes), "
              f"{len(ref_dead_lines)} dead letters in {reference_seconds:.1f}s")

        # Interrupted runs: kill at growing alert-file sizes, the first one very early.
        alerts, dead = os.path.join(work, "alerts.jsonl"), os.path.join(work, "dead.jsonl")
        args = replay_args(slawatch, rules, events, os.path.join(work, "state"), alerts, dead)
        rng = random.Random(KILL_SEED)
        kill_points = [(0, rng.uniform(0.05, 0.15))]  # size 0: kill on time, likely before any commit
        for fraction in (0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 0.97):
            kill_points.append((int(ref_size * rng.uniform(fraction - 0.04, fraction + 0.02)), 1e9))
        kills = 0
        final_stderr = None
        for size, seconds in kill_points:
            target = max(size, file_size(alerts) + 1) if size else 1 << 62
            code, stderr, at = run_and_kill(args, alerts, target, seconds)
            if code == 0:
                final_stderr = stderr
                print(f"run exited 0 before the kill at {target} bytes")
                break
            check(code == -signal.SIGKILL, f"replay failed with exit code {code} instead of being killed:\n{stderr}")
            kills += 1
            print(f"kill {kills}: SIGKILL with alerts file at {at} bytes")
        restarts = 0
        while final_stderr is None:
            restarts += 1
            check(restarts <= 3, "the restarted replay did not finish")
            completed = run_ok(args, "restarted replay")
            final_stderr = completed.stderr_text
        check(kills >= 5, f"only {kills} kills landed before the replay finished (reference took "
                          f"{reference_seconds:.2f}s); make the input larger")

        resumed = replay_summary(final_stderr)
        check(resumed is not None, f"no 'replayed N records' summary from the final run:\n{final_stderr}")
        check(resumed[0] < total_records,
              f"the final restarted run replayed {resumed[0]} of {total_records} records: it started over "
              f"instead of resuming from its checkpoint")
        print(f"final run resumed from a checkpoint: replayed {resumed[0]} of {total_records} records")

        lines, keys, standing, torn = alert_lines(alerts)
        missing = sorted(ref_keys - keys)
        invented = sorted(keys - ref_keys)
        check(not missing and not invented,
              f"after {kills} kills the alerts differ from the uninterrupted run: {len(missing)} missing "
              f"(alert_id, type) {missing[:10]}, {len(invented)} new {invented[:10]}")
        lost = [line for line in ref_lines if line not in lines]
        changed = [line for line in lines if line not in ref_lines]
        check(not lost and not changed,
              f"{len(lost)} alert lines of the uninterrupted run are missing and {len(changed)} lines are "
              f"not in it (re-delivered with different bytes?), e.g. {(lost + changed)[:2]}")
        check(standing == ref_standing,
              f"standing alerts differ: {len(ref_standing - standing)} missing, {len(standing - ref_standing)} new")
        duplicates = sum(lines.values()) - ref_count
        print(f"alerts complete after {kills} kills: {len(keys)} distinct (alert_id, type), "
              f"{len(standing)} standing, {duplicates} re-delivered duplicate lines (byte-identical)")

        dead_lines, dead_torn = split_torn(dead)
        dead_missing = set(ref_dead_lines) - set(dead_lines)
        dead_invented = set(dead_lines) - set(ref_dead_lines)
        check(not dead_missing and not dead_invented,
              f"dead letters differ from the uninterrupted run: {len(dead_missing)} missing, "
              f"{len(dead_invented)} new, e.g. {sorted(dead_missing | dead_invented)[:2]}")
        print(f"dead letters complete: {len(set(dead_lines))} distinct, "
              f"{len(dead_lines) - len(set(dead_lines))} re-delivered duplicates")

        # Checked last so that the messages above say whether anything was also lost.
        check(not torn and not dead_torn,
              f"the restarted runs appended after a partial line left by a killed run: {len(torn)} alert "
              f"lines and {len(dead_torn)} dead-letter lines are not valid JSON\n"
              f"{describe_torn(torn + dead_torn, set(ref_lines) | set(ref_dead_lines))}")

if __name__ == "__main__":
    main(test)
