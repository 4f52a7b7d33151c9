"""Damaged state, full disks and another input (issue 16, findings 2, 4 and 6):
slawatch never continues from a silently shortened history.

- A durable replay is killed, a middle WAL (.log) file of its state
  directory deleted: the rerun refuses (exit 1, "is damaged"); an untouched
  copy of the state resumes and ends like an uninterrupted run.
- Resuming with a shorter or a different events file is refused (exit 1,
  naming --restart-input); with --restart-input the new file is read.
- On an 8 MB tmpfs the replay fails with "No space left on device" and exit
  1, every time; moved to a roomy folder, it resumes and ends like an
  uninterrupted run. Skipped (with a message) where no tmpfs can be mounted.

usage: damaged_state.py SLAWATCH RULES_DIR
"""
import glob
import os
import shutil
import signal
import subprocess
import time

from e2e_common import TempDir, check, main, parse_json_lines, run, run_ok, standing_alert_ids

UNTIL = "2026-04-15T00:00:00.000+08:00"


def standing(path):
    """Standing alert ids of an alerts file."""
    return standing_alert_ids(obj for _, obj in parse_json_lines(path))


def replay_args(slawatch, rules, events, state, alerts, extra=()):
    return [slawatch, "replay", "--rules", rules, "--events", events, "--until", UNTIL, "--alerts", alerts,
            "--state", state, "--batch", "200", "--quiet", *extra]


def wal_files(state):
    return sorted(glob.glob(os.path.join(state, "*.log")))


def kill_when(args, condition, timeout=240):
    """Runs a replay and SIGKILLs it once condition() holds; fails if it ends first."""
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = time.monotonic()
    try:
        while not condition():
            check(process.poll() is None, "the replay ended before it could be killed; use more events")
            check(time.monotonic() - started < timeout, "the replay never reached the kill point")
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_deleted_middle_wal(slawatch, rules, folder, events, reference):
    state = os.path.join(folder, "wal.state")
    alerts = os.path.join(folder, "wal.alerts")
    args = replay_args(slawatch, rules, events, state, alerts)
    kill_when(args, lambda: len(wal_files(state)) >= 4)
    intact = state + ".intact"
    shutil.copytree(state, intact)
    logs = wal_files(state)
    # A middle one: WALs before and after it. (The newest closed WAL is put on
    # record at the first commit after the switch, which a kill can beat.)
    os.remove(logs[1])
    completed = run(args)
    check(completed.returncode == 1, f"deleted WAL: expected exit 1, got {completed.returncode}")
    check("is damaged" in completed.stderr_text and "refusing to continue" in completed.stderr_text,
          f"deleted WAL: unclear message: {completed.stderr_text[-1500:]}")
    intact_alerts = os.path.join(folder, "intact.alerts")
    shutil.copy(alerts, intact_alerts)
    run_ok(replay_args(slawatch, rules, events, intact, intact_alerts), "resume of the intact state")
    check(standing(intact_alerts) == reference, "the intact state did not end like an uninterrupted run")


def test_other_input(slawatch, rules, folder, events):
    state = os.path.join(folder, "input.state")
    alerts = os.path.join(folder, "input.alerts")
    run_ok(replay_args(slawatch, rules, events, state, alerts), "first replay")
    with open(events, "rb") as f:
        lines = f.readlines()
    shorter = os.path.join(folder, "shorter.jsonl")
    with open(shorter, "wb") as f:
        f.writelines(lines[: len(lines) // 2])
    completed = run(replay_args(slawatch, rules, shorter, state, alerts))
    check(completed.returncode == 1 and "is shorter" in completed.stderr_text
          and "--restart-input" in completed.stderr_text, f"shorter input: {completed.stderr_text[-1000:]}")
    other = os.path.join(folder, "other.jsonl")
    with open(other, "wb") as f:
        f.writelines(reversed(lines))  # same size, other bytes
    completed = run(replay_args(slawatch, rules, other, state, alerts))
    check(completed.returncode == 1 and "is not the input the state was built from" in completed.stderr_text,
          f"other input: {completed.stderr_text[-1000:]}")
    completed = run([arg for arg in replay_args(slawatch, rules, other, state, alerts, ["--restart-input"])
                     if arg != "--quiet"])
    check(completed.returncode == 0, f"--restart-input: exit {completed.returncode}: {completed.stderr_text[-1000:]}")
    summary = [line for line in completed.stderr_text.splitlines() if "replayed" in line]
    check(summary and f"replayed {len(lines)} records: 0 applied, {len(lines)} duplicates" in summary[-1],
          f"--restart-input: the other file was not read from its beginning: {summary}")


def test_disk_full(slawatch, rules, folder, events, reference):
    mount_point = os.path.join(folder, "small")
    os.makedirs(mount_point)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mount_point], capture_output=True)
    if mounted.returncode != 0:
        print(f"SKIP disk full: cannot mount a tmpfs here ({mounted.stderr.decode().strip()})")
        return
    try:
        state = os.path.join(mount_point, "state")
        alerts = os.path.join(folder, "full.alerts")
        for attempt in range(3):
            completed = run(replay_args(slawatch, rules, events, state, alerts))
            check(completed.returncode == 1, f"disk full, attempt {attempt + 1}: expected exit 1, got "
                                             f"{completed.returncode}: {completed.stderr_text[-1500:]}")
            check("No space left on device" in completed.stderr_text,
                  f"disk full, attempt {attempt + 1}: unclear message: {completed.stderr_text[-1500:]}")
        roomy = os.path.join(folder, "roomy.state")
        shutil.copytree(state, roomy)
    finally:
        subprocess.run(["umount", mount_point], check=False)
    run_ok(replay_args(slawatch, rules, events, roomy, alerts), "resume once there is space")
    check(standing(alerts) == reference, "the resumed replay did not end like an uninterrupted run")


def test(argv):
    slawatch, rules = argv[0], argv[1]
    with TempDir("damaged") as folder:
        events = os.path.join(folder, "events.jsonl")
        run_ok([slawatch, "simulate", "--seed", "1616", "--cases", "20000", "--span", "72h", "--out", events],
               "simulate")
        reference = os.path.join(folder, "reference.alerts")
        run_ok([slawatch, "replay", "--rules", rules, "--events", events, "--until", UNTIL, "--alerts", reference,
                "--quiet"], "uninterrupted replay")
        reference_ids = standing(reference)
        test_other_input(slawatch, rules, folder, events)
        test_deleted_middle_wal(slawatch, rules, folder, events, reference_ids)
        test_disk_full(slawatch, rules, folder, events, reference_ids)


if __name__ == "__main__":
    main(test)
