"""Standby replicas on a real Kafka broker (issue 14): a failover replays only
the changelog's tail.

  standby     two instances A and B with `kafka.standby_replicas: 1` on a
              4-partition input with simulated traffic (malformed, duplicated
              and reordered records). Each keeps a warm copy of the other's
              partitions (its log says so, its /metrics counts them with a lag
              series each, all reaching 0). A's case API answers 421 for a case
              of B's partition naming B's instance id (A's copy holds the case,
              the latest changelog marker names B). B is SIGKILLed while the
              rest of the stream arrives; A takes B's partitions after the
              6 s session timeout and says, for each, that it caught up from
              the changelog's tail (or that its copy was current), never that
              it restored the whole partition; the records it read are far
              fewer than a full restore reads. The standing alert ids equal an
              uninterrupted replay's; A's standby series are gone. B restarts:
              the copies it kept of A's partitions resume from their recorded
              changelog offsets (not from the log start) and reach lag 0.
  no_standby  the same without standby replicas: A restores B's partitions in
              full (the baseline for docs/benchmarks.md).

Measured records and times are printed. Waits are bounded polls, never fixed sleeps.

usage: standby_failover.py SLAWATCH RULES_DIR KAFKA_SCRIPT [SCENARIO...]
(SLAWATCH_STANDBY_CASES sets the simulated cases, default 3000.)
"""
import json
import os
import re
import signal
import threading
import time
import urllib.parse

from changelog_handover import expected_standing
from e2e_common import check, main, run
from failover import Instance as FailoverInstance, get, standing_now, wait_until
from kafka_live import Scenario, run_scenarios

PARTITIONS = {0, 1, 2, 3}
SESSION_TIMEOUT_SECONDS = 6
CASES = 3000


class Instance(FailoverInstance):
    """A failover.py instance with a 6 s session and, when asked, standby replicas."""

    def __init__(self, scenario, name, replicas):
        super().__init__(scenario, name)
        with open(self.config, encoding="utf-8") as f:
            text = f.read()
        text = re.sub(r"session_timeout: \d+s", f"session_timeout: {SESSION_TIMEOUT_SECONDS}s", text)
        if replicas:
            text = text.replace("kafka:\n", f"kafka:\n  standby_replicas: {replicas}\n", 1)
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(text)

    def member_id(self):
        return re.search(r"group member (\S+)", self.log()).group(1)

    def metrics(self):
        return get(self.url() + "/metrics")[1]


def metric(text, name, labels=""):
    found = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else None


def changelog_records(s, partition):
    """Records a full restore of the partition reads: everything in its changelog partition now."""
    topic = s.events_topic.rsplit(".", 1)[0] + ".state-changelog"
    completed = run(["kcat", "-b", s.kafka.brokers, "-C", "-t", topic, "-p", str(partition), "-o", "beginning",
                     "-e", "-q", "-f", "%o\n"], timeout=120)
    check(completed.returncode == 0, f"kcat could not read {topic}: {completed.stderr_text[-500:]}")
    return len(completed.stdout_text.split())


def takeover_lines(instance, partitions, since):
    """What the instance said when it prepared each of `partitions` after `since` (a log position)."""
    lines = {}
    for line in instance.log(since).splitlines():
        m = re.search(r"partition (\d+): (caught up|local state is current|restored|no local state|changelog empty)",
                      line)
        if m and int(m.group(1)) in partitions:
            lines[int(m.group(1))] = line
    return lines


def records_read(line):
    m = re.search(r"(?:caught up|restored) (\d+) records", line)
    return int(m.group(1)) if m else 0


def failover(slawatch, rules, kafka, work, replicas):
    cases = int(os.environ.get("SLAWATCH_STANDBY_CASES", CASES))
    s = Scenario("standby" if replicas else "no-standby", slawatch, rules, kafka, work, cases=cases, seed=31,
                 partitions=len(PARTITIONS))
    total = s.line_count()
    before_kill = int(total * 0.8)
    expected_prefix = expected_standing(s, before_kill)
    expected_all, _, _ = s.expected()
    a, b = Instance(s, "a", replicas), Instance(s, "b", replicas)
    a.start()
    b.start()
    wait_until(lambda: a.owned() and b.owned() and a.owned() | b.owned() == PARTITIONS and not a.owned() & b.owned(),
               "both instances own partitions", instances=[a, b])
    s.produce(0, before_kill)
    wait_until(lambda: standing_now(s) == expected_prefix, "alerts of the first 80% as in replay", instances=[a, b])
    moved = sorted(b.owned())
    b_id = b.member_id()

    if replicas:
        lag_series = [("slawatch_standby_lag_records", f'{{partition="{p}"}}') for p in moved]
        wait_until(lambda: all(re.search(rf"partition {p}: standby copy for instance {re.escape(b_id)}", a.log())
                               for p in moved), f"A keeps standby copies of B's partitions {moved}", instances=[a, b])
        scrapes = []
        wait_until(lambda: scrapes.append(a.metrics()) or (
                       metric(scrapes[-1], "slawatch_standby_partitions") == len(moved) and
                       all(metric(scrapes[-1], name, labels) == 0 for name, labels in lag_series)),
                   "A's standby copies caught up (lag 0 on /metrics)", seconds=60, instances=[a, b])
        check(metric(scrapes[-1], "slawatch_standby_records_applied_total") > 0,
              "A applied no changelog records to its standby copies")
        # A case of B's partition: A's copy holds it, and A names B as its owner.
        status, body = get(b.url() + "/api/v1/alerts?limit=1000")
        check(status == 200, f"B's alert list: {status} {body[:300]}")
        case_id = json.loads(body)["alerts"][0]["event"]["data"]["case_id"]
        answers = []
        wait_until(lambda: answers.append(get(a.url() + "/api/v1/cases/" + urllib.parse.quote(case_id))) or (
                       answers[-1][0] == 421 and json.loads(answers[-1][1]).get("owner") == b_id),
                   f"A's 421 for case {case_id} names B ({b_id})", seconds=30, instances=[a, b])
        answer = json.loads(answers[-1][1])
        check(f"owned by instance {b_id} as of its last commit" in answer["error"] and "events" not in answer,
              f"A's 421 answer: {answer}")

    kill_at_log_a = os.path.getsize(a.log_path)
    producer = threading.Thread(target=s.produce, args=(before_kill,))
    producer.start()
    time.sleep(0.2)  # not a correctness wait: only puts the kill inside the burst
    b.stop(signal.SIGKILL, -signal.SIGKILL)
    killed = time.monotonic()
    producer.join()
    wait_until(lambda: a.owned(since=kill_at_log_a) >= set(moved) or a.owned() == PARTITIONS,
               "A owns B's partitions after the kill", seconds=SESSION_TIMEOUT_SECONDS + 60, instances=[a])
    assigned_after = time.monotonic() - killed
    wait_until(lambda: standing_now(s) == expected_all, "alerts of the whole stream as in replay", instances=[a])
    caught_up_after = time.monotonic() - killed

    lines = takeover_lines(a, set(moved), kill_at_log_a)
    check(set(lines) == set(moved), f"A said nothing about preparing partitions {set(moved) - set(lines)}:\n"
                                    f"{a.log(kill_at_log_a)[-3000:]}")
    read = sum(records_read(line) for line in lines.values())
    full = sum(changelog_records(s, p) for p in moved)
    if replicas:
        for partition, line in lines.items():
            check("caught up" in line or "local state is current" in line,
                  f"partition {partition} was not taken from the standby copy: {line}")
        check(read * 4 < full, f"A read {read} changelog records taking over, not far fewer than a full restore's "
                               f"{full}")
        scrape = a.metrics()
        check(metric(scrape, "slawatch_standby_partitions") == 0, "A still counts standby copies after taking them")
        check("slawatch_standby_lag_records{" not in scrape,
              f"A still exports standby lag series: "
              f"{[line for line in scrape.splitlines() if 'slawatch_standby_lag_records{' in line]}")
    else:
        check(all("restored" in line for line in lines.values()), f"expected full restores: {lines}")
    resumed = []
    if replicas:
        # B comes back: the copies it kept of A's partitions resume from their recorded changelog
        # offsets (only what A committed since is read), and the alerts stay where the replay stands.
        kept = sorted(PARTITIONS - set(moved))
        b.start()
        pattern = r"partition (\d+): standby copy for instance \S+ \(1 replica\(s\)\), reading from offset (\d+) " \
                  r"\(the copy kept here\)"
        wait_until(lambda: {int(p) for p, _ in re.findall(pattern, b.log())} >= set(kept),
                   f"B resumes its copies of A's partitions {kept} from their offsets", instances=[a, b])
        resumed = [(int(p), int(offset)) for p, offset in re.findall(pattern, b.log()) if int(p) in kept]
        check(all(offset > 0 for _, offset in resumed), f"B's copies resumed at offset 0: {resumed}")
        scrapes = []
        wait_until(lambda: scrapes.append(b.metrics()) or all(
                       metric(scrapes[-1], "slawatch_standby_lag_records", f'{{partition="{p}"}}') == 0 for p in kept),
                   "B's resumed copies caught up (lag 0)", seconds=60, instances=[a, b])
        wait_until(lambda: b.owned(), "B owns partitions again", instances=[a, b])
        check(standing_now(s) == expected_all, "the alerts topic moved away from the replay after B's return")
        b.stop(signal.SIGTERM, 0)
    a.stop(signal.SIGTERM, 0)
    name = f"standby_replicas={replicas}"
    print(f"{name}: B (partitions {moved}) SIGKILLed; A owned them {assigned_after:.1f}s later (session timeout "
          f"{SESSION_TIMEOUT_SECONDS}s) and the alerts topic matched the replay ({len(expected_all)} standing) after "
          f"{caught_up_after:.1f}s; changelog records read on takeover: {read} (a full restore: {full}); "
          f"{cases} cases, {total} records")
    for partition in sorted(lines):
        print(f"  {lines[partition].split(' ', 2)[-1]}")
    for partition, offset in resumed:
        print(f"  B restarted: its copy of partition {partition} resumed at changelog offset {offset} "
              f"(a full read: {changelog_records(s, partition)} records)")


SCENARIOS = {"standby": lambda *args: failover(*args, replicas=1),
             "no_standby": lambda *args: failover(*args, replicas=0)}


def test(argv):
    run_scenarios(argv, SCENARIOS, "standby_failover.py", "standby")


if __name__ == "__main__":
    main(test)
