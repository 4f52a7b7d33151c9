"""Crash and restart: a durable replay (--state) killed with SIGKILL at several
points and restarted with the same state folder ends with the same alerts and
dead letters as an uninterrupted run: nothing lost, nothing invented, and the
restarts resume from a checkpoint instead of starting over.

usage: crash_restart.py SLAWATCH RULES_DIR [CASES]
"""
import collections
import os
import random
import signal
import subprocess
import time

from e2e_common import (TempDir, check, main, parse_json_lines, read_lines, replay_summary, run_ok)

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


def alert_lines_by_key(path):
    """{(alert_id, type): [line bytes, ...]} and the number of lines."""
    by_key = collections.defaultdict(list)
    lines = parse_json_lines(path)
    for line, obj in lines:
        by_key[(obj["data"]["alert_id"], obj["type"])].append(line)
    return by_key, len(lines)


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
        ref_by_key, ref_count = alert_lines_by_key(ref_alerts)
        check(ref_count == len(ref_by_key), f"the uninterrupted run wrote {ref_count - len(ref_by_key)} "
                                            f"duplicate (alert_id, type) lines")
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

        by_key, count = alert_lines_by_key(alerts)
        missing = sorted(set(ref_by_key) - set(by_key))
        invented = sorted(set(by_key) - set(ref_by_key))
        check(not missing and not invented,
              f"after {kills} kills the alerts differ from the uninterrupted run: {len(missing)} missing "
              f"{missing[:10]}, {len(invented)} new {invented[:10]}")
        changed = [key for key, lines in by_key.items() if any(line != ref_by_key[key][0] for line in lines)]
        check(not changed, f"{len(changed)} alerts were re-delivered with different bytes, e.g. "
                           f"{changed[:3]}: {by_key[changed[0]][0][:300] if changed else ''!r}")
        print(f"alerts complete after {kills} kills: {len(by_key)} distinct, {count - len(by_key)} "
              f"re-delivered duplicates (byte-identical)")

        dead_lines = read_lines(dead)
        dead_missing = set(ref_dead_lines) - set(dead_lines)
        dead_invented = set(dead_lines) - set(ref_dead_lines)
        check(not dead_missing and not dead_invented,
              f"dead letters differ from the uninterrupted run: {len(dead_missing)} missing, "
              f"{len(dead_invented)} new, e.g. {sorted(dead_missing | dead_invented)[:2]}")
        print(f"dead letters complete: {len(set(dead_lines))} distinct, "
              f"{len(dead_lines) - len(set(dead_lines))} re-delivered duplicates")


if __name__ == "__main__":
    main(test)
