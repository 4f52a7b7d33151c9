"""State handover through the changelog topic (issue 14) on a real broker.

Three `slawatch run` instances (A, B, E) share one consumer group (distinct
state directories) on a 6-partition input with simulated traffic (malformed,
duplicated and reordered records). Instance B is SIGKILLed mid-run and a
replacement C starts with an EMPTY state directory; later the survivors stop
and D starts from a copy of B's state directory taken at the kill (stale).

Checked:
  - the changelog topic `<group>.state-changelog` exists with 6 partitions;
  - C says it restored partitions from the changelog (local state was missing)
    and resumes them at their checkpointed offsets, not at the earliest one;
  - after each phase the standing alert ids on the alerts topic equal those of
    an uninterrupted `slawatch replay` of the same records;
  - an alert event delivered again (same CloudEvent id twice in a row for its
    alert id) keeps its meaning (type, alert id, rule, cycle, stage, due time),
    and redeliveries are bounded by one batch (batch_records) per moved
    partition, whatever the outboxes handed over held undelivered (logged by
    the new owners): output leaves only once the changelog holds its commit,
    and at most one batch is out before a commit records its delivery;
    dead letters likewise;
  - D logs that it restored (local state was behind, or missing) and converges
    to the same result once the rest of the stream arrives.

usage: changelog_handover.py SLAWATCH RULES_DIR KAFKA_SCRIPT
"""
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time

from e2e_common import TempDir, check, main, parse_json_lines, run, run_ok, standing_alert_ids
from kafka_live import FAR_FUTURE, Kafka, Scenario, raise_failure

PARTITIONS = 6
BATCH_RECORDS = 500
WAIT_SECONDS = 90


class Instance:
    """One `slawatch run` of the scenario's group with a state directory of its own."""

    def __init__(self, scenario, name, state_dir):
        self.name, self.work = name, scenario.work
        self.state_dir = os.path.join(scenario.work, state_dir)
        with open(scenario.config, encoding="utf-8") as f:
            text = f.read()
        self.config = os.path.join(scenario.work, f"slawatch-{name}.yaml")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(text.replace("state_dir: state\n", f"state_dir: {self.state_dir}\n"))
        self.log_path = os.path.join(scenario.work, f"monitor-{name}.log")
        self.slawatch = scenario.slawatch
        self.process = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([self.slawatch, "run", "--config", self.config], cwd=self.work,
                                            stdout=subprocess.DEVNULL, stderr=log)

    def stop(self, sig=signal.SIGTERM):
        self.process.send_signal(sig)
        code = self.process.wait(timeout=60)
        expected = 0 if sig == signal.SIGTERM else -sig
        check(code == expected, f"{self.name} exited {code} after signal {sig}:\n{self.log()[-3000:]}")
        self.process = None

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def assigned(self):
        """Partitions assigned and not revoked since, from the log."""
        owned = set()
        for line in self.log().splitlines():
            if m := re.search(r"partition (\d+) assigned", line):
                owned.add(int(m.group(1)))
            elif m := re.search(r"partition (\d+) revoked", line):
                owned.discard(int(m.group(1)))
        return owned

    def alive(self):
        return self.process is not None and self.process.poll() is None


def wait_until(condition, what, instances):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        for instance in instances:
            check(instance.alive(), f"{what}: {instance.name} exited early:\n{instance.log()[-3000:]}")
        if condition():
            return
        time.sleep(0.3)
    raise_failure(f"{what}: not reached in {WAIT_SECONDS}s\n" +
                  "\n".join(f"--- {i.name}:\n{i.log()[-2000:]}" for i in instances))


def expected_standing(s, count):
    """Standing alert ids of a replay of the first `count` simulated records."""
    with open(s.events_file, "rb") as f:
        lines = f.read().splitlines()[:count]
    events = os.path.join(s.work, f"prefix-{count}.jsonl")
    with open(events, "wb") as f:
        f.write(b"".join(line + b"\n" for line in lines))
    alerts = os.path.join(s.work, f"prefix-{count}-alerts.jsonl")
    run_ok([s.slawatch, "replay", "--rules", s.rules, "--events", events, "--until", FAR_FUTURE, "--alerts", alerts,
            "--dead-letter", os.path.join(s.work, f"prefix-{count}-dead.jsonl")], "reference replay")
    return standing_alert_ids([obj for _, obj in parse_json_lines(alerts)]) if os.path.getsize(alerts) else set()


def wait_for_standing(s, expected, what, instances):
    standing = set()

    def reached():
        nonlocal standing
        standing = standing_alert_ids(s.alert_records()[0])
        return standing == expected

    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        for instance in instances:
            check(instance.alive(), f"{what}: {instance.name} exited early:\n{instance.log()[-3000:]}")
        if reached():
            return
        time.sleep(0.5)
    missing, extra = expected - standing, standing - expected
    raise_failure(f"{what}: the alerts topic differs from the replay: {len(missing)} missing (e.g. "
                  f"{sorted(missing)[:3]}), {len(extra)} not expected (e.g. {sorted(extra)[:3]})\n" +
                  "\n".join(f"--- {i.name}:\n{i.log()[-2000:]}" for i in instances))


def meaning(alert):
    """What an alert event says: which stage of which cycle, fired or retracted or resolved, due when.
    The details (department, reason, closed_at, fired_at) are what was known when the event was made:
    a batch processed again after a crash may already hold later records of the case (a dispatch, a
    closure), on the live clock as on any restart."""
    data = alert["data"]
    return alert["type"], data["alert_id"], data["rule"], data["cycle"], data["stage"], data.get("due_at")


def left_to_deliver(instances, partitions):
    """Outbox entries the new owners found pending when they took `partitions` (from their logs)."""
    total = 0
    for instance in instances:
        for m in re.finditer(r"partition (\d+) assigned: resuming at .*?, (\d+) alert\(s\) left to deliver",
                             instance.log()):
            if int(m.group(1)) in partitions:
                total += int(m.group(2))
    return total


def check_redeliveries(s, moved, what):
    """A CloudEvent id repeated for an alert (the same event twice in a row: a stage may legitimately
    fire, be retracted and fire again with the same id) keeps its meaning, and such redeliveries are
    bounded by one batch per moved partition."""
    _, raw = s.alert_records()
    alerts = [json.loads(record["payload"]) for record in raw]
    last, repeats, reworded = {}, 0, 0
    by_partition = {}
    for alert, record in zip(alerts, raw):
        previous = last.get(alert["data"]["alert_id"])
        if previous is not None and previous["id"] == alert["id"]:
            repeats += 1
            by_partition[record.get("partition")] = by_partition.get(record.get("partition"), 0) + 1
            check(meaning(previous) == meaning(alert),
                  f"{what}: CloudEvent {alert['id']} delivered twice with different meanings")
            reworded += previous != alert
        last[alert["data"]["alert_id"]] = alert
    bound = max(1, moved) * BATCH_RECORDS
    print(f"{what}: alert events delivered again by partition of the alerts topic: {sorted(by_partition.items())}")
    check(repeats <= bound, f"{what}: {repeats} alert events delivered again, more than one batch ({BATCH_RECORDS}) "
                            f"for each of {moved} moved partition(s)")
    if reworded:
        print(f"{what}: {reworded} repeated alert event(s) differ only in details known at the time "
              f"(department, reason, closed_at, fired_at)")
    return repeats, len(raw)


def check_dead_letters(s, moved, what):
    """Dead letters repeated (same source partition and offset): bounded like alerts."""
    records = s.kafka.consume(s.dlq_topic)
    positions = [(r["headers"].get("slawatch.source.partition"), r["headers"].get("slawatch.source.offset"))
                 for r in records]
    repeats = len(positions) - len(set(positions))
    check(repeats <= max(1, moved) * BATCH_RECORDS,
          f"{what}: {repeats} dead letters repeated, more than one batch per moved partition")
    return repeats, len(set(positions))


def restore_lines(instance):
    """A full restore ("restored N records ... from the changelog in"), or a catch-up from the tail of a
    copy that stood at a known changelog offset ("caught up N records from offset X of the changelog in":
    a partition B had owned and handed over cleanly before the kill)."""
    return [line for line in instance.log().splitlines()
            if "from the changelog in" in line or "of the changelog in" in line]


def test(argv):
    slawatch, rules, kafka_script = argv[0], argv[1], argv[2]
    kafka = Kafka(kafka_script)
    with TempDir("changelog") as work:
        s = Scenario("handover", slawatch, rules, kafka, work, cases=3000, seed=21, partitions=PARTITIONS)
        with open(s.config, "a", encoding="utf-8") as f:
            # A dead member's partitions move after its session times out: 6 s (the broker's minimum).
            f.write(f"  properties: {{consumer.session.timeout.ms: '6000', consumer.heartbeat.interval.ms: '1000'}}\n")
        with open(s.config, encoding="utf-8") as f:
            text = f.read()
        with open(s.config, "w", encoding="utf-8") as f:
            f.write(text.replace("batch_records: 500", f"batch_records: {BATCH_RECORDS}"))
        total = s.line_count()
        first, second = int(total * 0.3), int(total * 0.9)
        expected_prefix = expected_standing(s, second)
        expected_all, _, _ = s.expected()

        a, b, e = Instance(s, "a", "state-a"), Instance(s, "b", "state-b"), Instance(s, "e", "state-e")
        for instance in (a, b, e):
            instance.start()
        wait_until(lambda: sum(len(i.assigned()) for i in (a, b, e)) == PARTITIONS and
                   all(i.assigned() for i in (a, b, e)), "all three instances own partitions", [a, b, e])
        s.produce(0, first)
        moved = b.assigned()
        wait_until(lambda: len(s.alert_records()[0]) > 0, "first alerts", [a, b, e])
        # Kill B mid-run: while the next part of the stream is arriving and being processed.
        producer = threading.Thread(target=s.produce, args=(first, second - first))
        producer.start()
        time.sleep(0.3)  # not a correctness wait: only puts the kill inside the burst
        b.stop(signal.SIGKILL)
        stale = os.path.join(work, "state-stale")
        shutil.copytree(b.state_dir, stale)  # crash-consistent: B is dead

        c = Instance(s, "c", "state-c")  # the replacement, with an empty disk
        c.start()
        producer.join()
        wait_for_standing(s, expected_prefix, "after the handover to an empty replacement", [a, e, c])
        topics = json.loads(run(["kcat", "-b", kafka.brokers, "-L", "-J"], timeout=60).stdout_text)["topics"]
        changelog = [t for t in topics if t["topic"] == f"{s.events_topic.rsplit('.', 1)[0]}.state-changelog"]
        check(changelog and len(changelog[0]["partitions"]) == PARTITIONS,
              f"changelog topic missing or not {PARTITIONS} partitions: {[t['topic'] for t in topics]}")
        restored = restore_lines(a) + restore_lines(e) + restore_lines(c)
        check(any("(local state was missing)" in line for line in restored),
              f"no partition was restored from the changelog into an empty state:\n{restored}\n{c.log()[-3000:]}")
        # Every partition had committed traffic before C came: none may start over from offset 0.
        for line in c.log().splitlines():
            m = re.search(r"partition (\d+) assigned: resuming at (.*?),", line)
            if m:
                check(m.group(2) != "the earliest offset",
                      f"partition {m.group(1)} was rebuilt from offset 0 although the changelog holds it: {line}")
        pending = left_to_deliver([a, e, c], moved)
        repeats, delivered = check_redeliveries(s, len(moved), "after the handover")
        dead_repeats, dead = check_dead_letters(s, len(moved), "after the handover")
        print(f"handover: B (partitions {sorted(moved)}) killed mid-run, C started empty; {len(expected_prefix)} "
              f"standing alerts as in replay; {repeats} of {delivered} alert events ({pending} handed over undelivered) and {dead_repeats} of {dead} dead "
              f"letters delivered again; restores: {restored}")

        for instance in (a, e, c):
            instance.stop()
        d = Instance(s, "d", "state-stale")  # a restart from a stale copy of B's state directory
        d.start()
        wait_until(lambda: len(d.assigned()) == PARTITIONS, "D owns every partition", [d])
        s.produce(second)
        wait_for_standing(s, expected_all, "after a restart from a stale state directory", [d])
        d_restores = restore_lines(d)
        check(any("(local state was behind)" in line or "caught up" in line for line in d_restores),
              f"D did not say it restored its stale partitions:\n{d.log()[-3000:]}")
        check(len(d_restores) == PARTITIONS, f"D restored {len(d_restores)} of {PARTITIONS} partitions:\n{d_restores}")
        pending += left_to_deliver([d], range(PARTITIONS))
        repeats, delivered = check_redeliveries(s, len(moved) + PARTITIONS, "after the stale restart")
        d.stop()
        print(f"stale restart: {len(expected_all)} standing alerts as in replay; {repeats} of {delivered} alert "
              f"events delivered again in all; D: {d_restores}")


if __name__ == "__main__":
    main(test)
