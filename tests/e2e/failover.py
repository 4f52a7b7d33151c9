"""Fast failover on a real Kafka broker (issue 14): static group membership,
a clean stop that hands partitions over at once, and revoked partitions that
leave nothing behind. The session timeout is set to 45 s (the broker's
default), so any wait for an expired session shows as a failure.

  static_restart  one instance, SIGKILLed after catching up on two thirds of
                  the traffic; the rest is produced while it is down. Restarted
                  under the same instance id, it gets its three partitions back
                  and the alerts topic stands where a replay stands, within 20 s;
                  SIGKILLed again at once and restarted, it has them back within
                  20 s again.
  handover        instance A owns all three partitions; B joins (both on this
                  host, default instance ids from their state directories):
                  A's case API answers 421 for a case of a partition B took,
                  and A's /metrics has no series of it. A stops with SIGTERM:
                  B owns all three partitions within 10 s (not 45) and the
                  alerts topic stands where a replay stands.

  duplicate_id    A and B are started with the same kafka.instance_id (a
                  configuration mistake): each fences the other. A fenced
                  instance replaces its consumer once and rejoins (librdkafka
                  can fence a static member by itself after a broker restart);
                  fenced again within a minute, it stops with an error naming
                  the duplicate id. Exactly one exits that way, and the other
                  still owns every partition. (The alerts topic is reported,
                  not checked: while both ran, both wrote the changelog.)

Measured times are printed. Wall-clock waits are bounded polls, never fixed sleeps.

usage: failover.py SLAWATCH RULES_DIR KAFKA_SCRIPT [SCENARIO...]
"""
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from e2e_common import check, main, standing_alert_ids
from kafka_live import Scenario, run_scenarios

SESSION_TIMEOUT_SECONDS = 45
RESTART_LIMIT_SECONDS = 20
HANDOVER_LIMIT_SECONDS = 10
WAIT_SECONDS = 90
SETTLE_SECONDS = 10  # duplicate_id: how long the survivor may take to deliver before alerts are compared
PARTITIONS = {0, 1, 2}


class Instance:
    """One `slawatch run` of the scenario's group, with its own state directory and log."""

    def __init__(self, scenario, name):
        self.scenario, self.name = scenario, name
        with open(scenario.config, encoding="utf-8") as f:
            text = f.read()
        text = text.replace("state_dir: state\n", f"state_dir: state-{name}\n")
        text = text.replace("kafka:\n", f"kafka:\n  session_timeout: {SESSION_TIMEOUT_SECONDS}s\n", 1)
        text += "http: {listen: '127.0.0.1:0'}\n"
        self.config = os.path.join(scenario.work, f"slawatch-{name}.yaml")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(text)
        self.log_path = os.path.join(scenario.work, f"monitor-{name}.log")
        self.process = None
        self.log_start = 0  # where this run's lines begin in the log

    def start(self):
        self.log_start = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([self.scenario.slawatch, "run", "--config", self.config],
                                            cwd=self.scenario.work, stdout=subprocess.DEVNULL, stderr=log)

    def stop(self, sig, expect_code):
        self.process.send_signal(sig)
        code = self.process.wait(timeout=60)
        check(code == expect_code, f"{self.name} exited {code} after signal {sig}, expected {expect_code}:\n"
                                   f"{self.log_tail()}")
        self.process = None

    def log(self, since=None):
        with open(self.log_path, "rb") as f:
            f.seek(self.log_start if since is None else since)
            return f.read().decode("utf-8", "replace")

    def log_tail(self):
        return self.log()[-3000:]

    def owned(self, since=None):
        """The partitions this run owns as its log tells (assigned, not revoked since)."""
        owned = set()
        for partition, kind in re.findall(r"partition (\d+) (assigned|revoked)", self.log(since)):
            (owned.add if kind == "assigned" else owned.discard)(int(partition))
        return owned

    def url(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = re.search(r"serving (http://127\.0\.0\.1:\d+)/metrics", self.log())
            if found:
                return found.group(1)
            time.sleep(0.1)
        check(False, f"{self.name}: no HTTP address in the log:\n{self.log_tail()}")

    def alive(self, what):
        check(self.process is not None and self.process.poll() is None,
              f"{what}: {self.name} exited early:\n{self.log_tail()}")


def wait_until(condition, what, seconds=WAIT_SECONDS, instances=()):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for instance in instances:
            instance.alive(what)
        if condition():
            return
        time.sleep(0.1)
    check(False, f"{what}: not after {seconds}s\n" + "\n".join(f"--- {i.name}:\n{i.log_tail()}" for i in instances))


def standing_now(scenario):
    return standing_alert_ids(scenario.alert_records()[0])


def get(url):
    """(status, body) of a GET, errors included."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def static_restart(slawatch, rules, kafka, work):
    s = Scenario("static-restart", slawatch, rules, kafka, work, cases=600, seed=21)
    standing, _, _ = s.expected()
    total = s.line_count()
    a = Instance(s, "a")
    a.start()
    s.produce(0, total * 2 // 3)
    ready = a.url() + "/readyz"
    wait_until(lambda: a.owned() == PARTITIONS and get(ready)[0] == 200, "caught up before the kill", instances=[a])
    a.stop(signal.SIGKILL, -signal.SIGKILL)
    s.produce(total * 2 // 3)  # the rest arrives while it is down
    started = time.monotonic()
    a.start()
    wait_until(lambda: a.owned() == PARTITIONS, "partitions back after the restart", instances=[a])
    assigned_after = time.monotonic() - started
    wait_until(lambda: standing_now(s) == standing, "alerts topic caught up after the restart", instances=[a])
    caught_up_after = time.monotonic() - started
    check("revoked" not in a.log(), f"the restart went through a rebalance:\n{a.log_tail()}")
    # Killed again as soon as it has its partitions (the issue measured 90 s after two kills).
    a.stop(signal.SIGKILL, -signal.SIGKILL)
    again = time.monotonic()
    a.start()
    wait_until(lambda: a.owned() == PARTITIONS, "partitions back after the second restart", instances=[a])
    second_assigned_after = time.monotonic() - again
    a.stop(signal.SIGTERM, 0)
    print(f"static_restart: after SIGKILL and restart, partitions back in {assigned_after:.1f}s, alerts topic "
          f"caught up ({len(standing)} standing, {total - total * 2 // 3} records produced while down) in "
          f"{caught_up_after:.1f}s (limit {RESTART_LIMIT_SECONDS}s; session timeout {SESSION_TIMEOUT_SECONDS}s); "
          f"after a second SIGKILL, partitions back in {second_assigned_after:.1f}s")
    check(caught_up_after < RESTART_LIMIT_SECONDS,
          f"caught up only {caught_up_after:.1f}s after the restart (limit {RESTART_LIMIT_SECONDS}s)")
    check(second_assigned_after < RESTART_LIMIT_SECONDS,
          f"partitions back only {second_assigned_after:.1f}s after the second restart")


def handover(slawatch, rules, kafka, work):
    s = Scenario("handover", slawatch, rules, kafka, work, cases=300, seed=22)
    standing, _, _ = s.expected()
    a, b = Instance(s, "a"), Instance(s, "b")
    a.start()
    s.produce()
    wait_until(lambda: standing_now(s) == standing, "A alone caught up", instances=[a])
    api_a = a.url()
    # A case on each partition, found through A while it owns all three.
    status, body = get(api_a + "/api/v1/alerts?limit=1000")
    check(status == 200, f"A's alert list: {status} {body[:300]}")
    case_of = {}
    for alert in json.loads(body)["alerts"]:
        case_id = alert["event"]["data"]["case_id"]
        status, body = get(api_a + "/api/v1/cases/" + urllib.parse.quote(case_id))
        check(status == 200, f"A, owning every partition, answers {status} for {case_id}: {body[:300]}")
        case_of.setdefault(json.loads(body)["partition"], case_id)
    check(set(case_of) == PARTITIONS, f"cases found on partitions {sorted(case_of)}")

    b.start()
    wait_until(lambda: b.owned() and a.owned() == PARTITIONS - b.owned(), "B joined and took partitions",
               instances=[a, b])
    taken = sorted(b.owned())
    member_ids = [re.search(r"group member (\S+)", i.log(0)).group(1) for i in (a, b)]
    check(member_ids[0] != member_ids[1], f"two instances on one host share the instance id {member_ids[0]}")
    for partition in taken:
        status, body = get(api_a + "/api/v1/cases/" + urllib.parse.quote(case_of[partition]))
        check(status == 421, f"A answers {status} for case {case_of[partition]} of partition {partition}, which B "
                             f"owns now (expected 421): {body[:300]}")
        answer = json.loads(body)
        # The owner is named once A has read B's first commit on the changelog.
        check(answer["partition"] == partition and answer["owner"] in ("not owned here", member_ids[1]) and
              "events" not in answer, f"A's 421 answer: {answer}")
    kept = sorted(a.owned())
    status, body = get(api_a + "/api/v1/cases/" + urllib.parse.quote(case_of[kept[0]]))
    check(status == 200, f"A answers {status} for a case of partition {kept[0]}, which it still owns")
    # A kept partition's series come back at the monitor's next loop after the rebalance.
    scrapes = []
    wait_until(lambda: scrapes.append(get(api_a + "/metrics")[1]) or f'partition="{kept[0]}"' in scrapes[-1],
               f"A exports series of partition {kept[0]}, which it owns", seconds=10, instances=[a])
    metrics = scrapes[-1]
    for partition in taken:
        label = f'partition="{partition}"'
        check(label not in metrics, f"A still exports series of partition {partition}, revoked: "
                                    f"{[line for line in metrics.splitlines() if label in line][:3]}")

    stop_at_log_b = os.path.getsize(b.log_path)
    stopped = time.monotonic()
    a.stop(signal.SIGTERM, 0)
    wait_until(lambda: b.owned(since=stop_at_log_b) == PARTITIONS, "B owns every partition after A's clean stop",
               seconds=SESSION_TIMEOUT_SECONDS + 15, instances=[b])
    handed_over = time.monotonic() - stopped
    wait_until(lambda: standing_now(s) == standing, "alerts topic after the handover", instances=[b])
    b.stop(signal.SIGTERM, 0)
    print(f"handover: B took partitions {taken}; A answered 421 for their cases and exported none of their "
          f"series; after A's SIGTERM, B owned all three in {handed_over:.1f}s (session timeout "
          f"{SESSION_TIMEOUT_SECONDS}s); instance ids {member_ids}; {len(standing)} standing alerts")
    check(handed_over < HANDOVER_LIMIT_SECONDS,
          f"B got A's partitions {handed_over:.1f}s after A's clean stop (limit {HANDOVER_LIMIT_SECONDS}s)")


def duplicate_id(slawatch, rules, kafka, work):
    s = Scenario("duplicate", slawatch, rules, kafka, work, cases=200, seed=23)
    standing, _, _ = s.expected()
    a, b = Instance(s, "a"), Instance(s, "b")
    for instance in (a, b):
        with open(instance.config, encoding="utf-8") as f:
            text = f.read()
        with open(instance.config, "w", encoding="utf-8") as f:
            f.write(text.replace("kafka:\n", "kafka:\n  instance_id: same-id\n", 1))
    a.start()
    s.produce()
    wait_until(lambda: a.owned() == PARTITIONS, "A owns every partition", instances=[a])
    b.start()
    started = time.monotonic()
    deadline = started + WAIT_SECONDS
    while time.monotonic() < deadline and a.process.poll() is None and b.process.poll() is None:
        time.sleep(0.1)
    stopped = [i for i in (a, b) if i.process.poll() is not None]
    check(len(stopped) == 1, f"{len(stopped)} of the two instances sharing an instance id stopped within "
                             f"{WAIT_SECONDS}s (expected one):\n--- a:\n{a.log_tail()}\n--- b:\n{b.log_tail()}")
    loser = stopped[0]
    winner = b if loser is a else a
    took = time.monotonic() - started
    check(loser.process.returncode != 0, f"{loser.name} stopped with code 0 after being fenced twice")
    check("another instance runs with group.instance.id 'same-id'" in loser.log(),
          f"{loser.name}'s log does not name the duplicate id:\n{loser.log_tail()}")
    check("rejoining the group as 'same-id'" in a.log() + b.log(),
          f"no instance rejoined after its first fencing:\n--- a:\n{a.log_tail()}\n--- b:\n{b.log_tail()}")
    loser.process = None
    since = 0
    wait_until(lambda: winner.owned(since) == PARTITIONS, f"{winner.name} owns every partition", instances=[winner])
    # While both ran, both wrote the partitions' changelog (there is no transactional fencing), so the
    # survivor's state may mix the two: the standing alerts are reported, not required to match.
    # Reported, so not a verdict: read the alerts topic until it shows the replay's standing alerts
    # or the survivor has had SETTLE_SECONDS to deliver what it owes.
    settle_deadline = time.monotonic() + SETTLE_SECONDS
    now = standing_now(s)
    while now != standing and time.monotonic() < settle_deadline:
        time.sleep(0.2)
        now = standing_now(s)
    winner.alive("after the duplicate stopped")
    winner.stop(signal.SIGTERM, 0)
    print(f"duplicate_id: {loser.name} stopped {took:.1f}s after B started, naming the duplicate id; "
          f"{winner.name} kept every partition; standing alerts {'equal' if now == standing else 'differ from'} "
          f"the replay's ({len(standing - now)} missing, {len(now - standing)} not expected)")


SCENARIOS = {"static_restart": static_restart, "handover": handover, "duplicate_id": duplicate_id}


def test(argv):
    run_scenarios(argv, SCENARIOS, "failover.py", "failover")


if __name__ == "__main__":
    main(test)
