"""The live monitor on a real Kafka broker (started by ctest's kafka fixture
through scripts/kafka): `slawatch run --config` with a `kafka:` section.

Each scenario uses its own topics and consumer group, produces simulated
hotline traffic (with malformed, duplicated and reordered records) through
`slawatch simulate --kafka`, and compares what arrives on the alerts topic,
by alert_id, with a replay of the same records (the contract: the standing
alerts do not depend on arrival order or on the clock that drove them).

  end_to_end      standing alerts and dead letters (original bytes, reason and
                  source headers), a binary-mode record, clean SIGTERM stop
  graceful        stop with SIGTERM mid-stream, restart: each alert exactly once
  crash           SIGKILL the monitor at several points, restart each time:
                  nothing missing, duplicates only with the same alert_id
  broker_restart  stop the broker mid-run (data kept), start it again: no loss
  backlog         past-dated traffic produced before the monitor starts, SIGKILL
                  twice while it catches up: the standing alerts equal a
                  replay's, and no more alerts fire and are retracted than in
                  that replay (the partition clocks follow event time while
                  behind: contract section 4, amended 2026-12-06)
  shadow          a candidate rule set (45-minute first response) beside the
                  active one: its topic stands where a replay under the
                  candidate stands, the alerts topic where the active replay
                  does; after SIGKILL and restart both still do

Kafka is read with kcat (Debian's, on the same librdkafka 2.0.2 as slawatch).
end_to_end also checks every record it produces and consumes against the
published JSON Schemas (schemas/, python3-jsonschema) and that structured-mode
alerts carry content-type application/cloudevents+json.
Wall-clock waits are bounded polls on the topics, never fixed sleeps.

usage: kafka_live.py SLAWATCH RULES_DIR KAFKA_SCRIPT [SCENARIO...]
"""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid

from e2e_common import TempDir, check, main, parse_json_lines, run, run_ok, standing_alert_ids
from schemas_common import Schemas

FAR_FUTURE = "2100-01-01T00:00:00.000Z"
WAIT_SECONDS = 90


class Kafka:
    def __init__(self, script):
        self.script = script
        env = run_ok([script, "env"], "scripts/kafka env").stdout_text
        self.brokers = dict(line.split("=", 1) for line in env.split() if "=" in line)["SLAWATCH_KAFKA_BROKERS"]

    def topic(self, name, partitions):
        run_ok([self.script, "topic", name, str(partitions)], f"create topic {name}", timeout=60)

    def consume(self, topic):
        """Every record on the topic now: dicts with key, payload (str), headers (dict), partition."""
        completed = run(["kcat", "-b", self.brokers, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-J"],
                        timeout=60)
        check(completed.returncode == 0, f"kcat could not read {topic}: {completed.stderr_text[-1000:]}")
        records = []
        for line in completed.stdout_text.splitlines():
            if not line.strip():
                continue
            obj = json.loads(line)
            flat = obj.get("headers") or []
            obj["headers"] = dict(zip(flat[0::2], flat[1::2]))
            records.append(obj)
        return records

    def produce_binary(self, topic, key, headers, value):
        args = ["kcat", "-b", self.brokers, "-P", "-t", topic, "-k", key]
        for name, header_value in headers.items():
            args += ["-H", f"{name}={header_value}"]
        run_ok(args, "kcat produce", stdin_bytes=value.encode())


class Scenario:
    """Topics, a config and the expected result for one scenario."""

    def __init__(self, name, slawatch, rules, kafka, work, cases, seed, shadow_rules=None, roster=None, partitions=3):
        self.slawatch, self.rules, self.kafka, self.work = slawatch, rules, kafka, work
        tag = f"{name}-{uuid.uuid4().hex[:8]}"
        self.events_topic, self.alerts_topic, self.dlq_topic = f"{tag}.events", f"{tag}.alerts", f"{tag}.dlq"
        self.shadow_topic = f"{tag}.alerts-shadow"
        for topic in (self.events_topic, self.alerts_topic, self.dlq_topic) + ((self.shadow_topic,) if shadow_rules else ()):
            kafka.topic(topic, partitions)
        self.sim_args = ["--seed", str(seed), "--cases", str(cases), "--span", "6h",
                         "--malformed", "0.02", "--duplicates", "0.02", "--reorder", "0.02"]
        self.events_file = os.path.join(work, "events.jsonl")
        run_ok([slawatch, "simulate", *self.sim_args, "--out", self.events_file], "simulate to file")
        self.config = os.path.join(work, "slawatch.yaml")
        with open(self.config, "w", encoding="utf-8") as f:
            # Two workers over three partitions whatever the machine: a worker drives two lanes.
            f.write(f"rules: {rules}\nstate_dir: state\ngrace: 0s\nbatch_records: 500\nworkers: 2\n"
                    f"alert_source: /e2e/kafka\nkafka:\n  brokers: {kafka.brokers}\n  group_id: {tag}\n"
                    f"  topics:\n    events: {self.events_topic}\n    alerts: {self.alerts_topic}\n"
                    f"    dead_letter: {self.dlq_topic}\n")
            if shadow_rules:
                f.write(f"shadow: {{rules: {shadow_rules}, alerts_topic: {self.shadow_topic}}}\n")
            if roster:  # and the HTTP server, for the case API and the workbench
                f.write(f"roster: {roster}\nhttp: {{listen: '127.0.0.1:0', time_zone: Asia/Shanghai}}\n")
        self.log_path = os.path.join(work, "monitor.log")
        self.process = None

    def expected(self, extra_lines=(), rules=None):
        """Replays the records (plus extra lines) under the rules (default: the active ones) to get the
        standing alerts, resolved ids and dead letters."""
        events = self.events_file
        if extra_lines:
            events = os.path.join(self.work, "events-all.jsonl")
            with open(events, "wb") as out, open(self.events_file, "rb") as src:
                out.write(src.read())
                for line in extra_lines:
                    out.write(line.encode() + b"\n")
        alerts, dead = os.path.join(self.work, "expected-alerts.jsonl"), os.path.join(self.work, "expected-dead.jsonl")
        run_ok([self.slawatch, "replay", "--rules", rules or self.rules, "--events", events, "--until", FAR_FUTURE,
                "--alerts", alerts, "--dead-letter", dead], "reference replay")
        objs = [obj for _, obj in parse_json_lines(alerts)]
        standing = standing_alert_ids(objs)
        resolved = {o["data"]["alert_id"] for o in objs if o["type"] == "slawatch.alert.resolved"} & standing
        dead_count = len(parse_json_lines(dead)) if os.path.getsize(dead) else 0
        return standing, resolved, dead_count

    def produce(self, first_record=0, count=None):
        """Produces the simulated records [first_record, first_record+count) keyed by case id."""
        with open(self.events_file, "rb") as f:
            lines = f.read().splitlines()
        end = len(lines) if count is None else min(len(lines), first_record + count)
        chunk = os.path.join(self.work, f"chunk-{first_record}.jsonl")
        with open(chunk, "wb") as f:
            for line in lines[first_record:end]:
                f.write(line + b"\n")
        # kcat keys each line by the text before the tab: the case id (subject), or the
        # line number for malformed records that have none.
        keyed = os.path.join(self.work, f"keyed-{first_record}.txt")
        with open(keyed, "wb") as f:
            for number, line in enumerate(lines[first_record:end]):
                try:
                    key = json.loads(line).get("subject") or f"line-{number}"
                except (ValueError, AttributeError):
                    key = f"malformed-{first_record + number}"
                f.write(str(key).encode() + b"\t" + line + b"\n")
        run_ok(["kcat", "-b", self.kafka.brokers, "-P", "-t", self.events_topic, "-K", "\t", "-l", keyed],
               "produce events", timeout=120)
        return end - first_record

    def line_count(self):
        with open(self.events_file, "rb") as f:
            return len(f.read().splitlines())

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([self.slawatch, "run", "--config", self.config], cwd=self.work,
                                        stdout=subprocess.DEVNULL, stderr=log)
        log.close()

    def stop(self, sig=signal.SIGTERM, expect_code=0):
        self.process.send_signal(sig)
        code = self.process.wait(timeout=60)
        check(code == expect_code, f"monitor exited {code} after signal {sig}, expected {expect_code}:\n"
                                   f"{self.log_tail()}")
        self.process = None

    def http_url(self):
        """The monitor's HTTP address, from its log."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                found = re.search(r"serving (http://127\.0\.0\.1:\d+)/metrics", f.read().decode("utf-8", "replace"))
            if found:
                return found.group(1)
            time.sleep(0.1)
        raise_failure(f"no HTTP address in the log:\n{self.log_tail()}")

    def log_tail(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-3000:]

    def alert_records(self, topic=None):
        records = self.kafka.consume(topic or self.alerts_topic)
        return [json.loads(r["payload"]) for r in records], records

    def wait_for(self, standing_expected, what, topic=None):
        """Polls the alerts topic (or another) until its standing set equals the expected one."""
        deadline = time.monotonic() + WAIT_SECONDS
        standing = set()
        while time.monotonic() < deadline:
            check(self.process is None or self.process.poll() is None,
                  f"{what}: the monitor exited early:\n{self.log_tail()}")
            alerts, _ = self.alert_records(topic)
            standing = standing_alert_ids(alerts)
            if standing == standing_expected:
                return alerts
            time.sleep(0.5)
        missing, extra = standing_expected - standing, standing - standing_expected
        raise_failure(f"{what}: alerts topic differs from the replay after {WAIT_SECONDS}s: "
                      f"{len(missing)} missing (e.g. {sorted(missing)[:3]}), {len(extra)} not expected "
                      f"(e.g. {sorted(extra)[:3]})\n{self.log_tail()}")


def redeliveries(alerts):
    """Alert events delivered again: the same CloudEvent id twice in a row for one
    alert_id. (A stage can legitimately fire, be retracted by a suspension and fire
    again at the same due time when the resumption arrives: that alternates kinds.)"""
    last, again = {}, []
    for alert in alerts:
        alert_id = alert["data"]["alert_id"]
        if last.get(alert_id) == alert["id"]:
            again.append(alert["id"])
        last[alert_id] = alert["id"]
    return again


def raise_failure(message):
    check(False, message)


def check_resolved(alerts, resolved_expected, what):
    resolved = {a["data"]["alert_id"] for a in alerts if a["type"] == "slawatch.alert.resolved"}
    missing = resolved_expected - resolved
    check(not missing, f"{what}: {len(missing)} resolved alerts missing, e.g. {sorted(missing)[:3]}")


def end_to_end(slawatch, rules, kafka, work):
    s = Scenario("e2e", slawatch, rules, kafka, work, cases=300, seed=11)
    # One case arrives in CloudEvents binary mode (ce_* headers, data as the value).
    binary_data = {"department": "water-supply"}
    created = json.dumps({"specversion": "1.0", "id": "bin-1", "source": "/e2e/binary",
                          "type": "hotline.case.created", "subject": "BIN-1",
                          "time": "2026-03-02T09:00:00.000+08:00",
                          "data": {"category": "water", "priority": "normal", "channel": "phone"}})
    dispatched_attributes = {"ce_specversion": "1.0", "ce_id": "bin-2", "ce_source": "/e2e/binary",
                             "ce_type": "hotline.case.dispatched", "ce_subject": "BIN-1",
                             "ce_time": "2026-03-02T09:05:00.000+08:00", "content-type": "application/json"}
    dispatched_structured = json.dumps({"specversion": "1.0", "id": "bin-2", "source": "/e2e/binary",
                                        "type": "hotline.case.dispatched", "subject": "BIN-1",
                                        "time": "2026-03-02T09:05:00.000+08:00", "data": binary_data})
    standing, resolved, dead_count = s.expected([created, dispatched_structured])
    check(any(a.startswith("BIN-1/") for a in standing), "scenario: the binary-mode case should breach")
    s.start()
    s.produce()
    kafka.produce_binary(s.events_topic, "BIN-1", {"content-type": "application/cloudevents+json"}, created)
    kafka.produce_binary(s.events_topic, "BIN-1", dispatched_attributes, json.dumps(binary_data))
    alerts = s.wait_for(standing, "end to end")
    check_resolved(alerts, resolved, "end to end")
    _, raw = s.alert_records()
    for record in raw[:50]:
        alert = json.loads(record["payload"])
        check(record["key"] == alert["data"]["case_id"],
              f"alert keyed {record['key']!r}, not by its case id {alert['data']['case_id']!r}")
    # CloudEvents Kafka binding, structured mode: the content-type header says so.
    for record in raw:
        check(record["headers"].get("content-type", "").startswith("application/cloudevents+json"),
              f"structured-mode alert without content-type application/cloudevents+json: {record['headers']}")

    # Dead letters: original bytes, reason and source headers; nothing else lost.
    with open(s.events_file, "rb") as f:
        originals = {line.decode("utf-8", "replace") for line in f.read().splitlines()}
    deadline = time.monotonic() + WAIT_SECONDS
    dead = []
    while time.monotonic() < deadline:
        dead = kafka.consume(s.dlq_topic)
        if len(dead) >= dead_count:
            break
        time.sleep(0.5)
    check(len(dead) == dead_count, f"dead-letter topic has {len(dead)} records, expected {dead_count}")
    for record in dead:
        headers = record["headers"]
        for name in ("slawatch.reason", "slawatch.source.topic", "slawatch.source.partition",
                     "slawatch.source.offset"):
            check(name in headers, f"dead letter without header {name}: {record}")
        check(headers["slawatch.source.topic"] == s.events_topic, f"wrong source topic: {headers}")
        check(record["payload"] in originals, f"dead letter is not an original record: {record['payload'][:200]!r}")
        check(headers["slawatch.reason"].strip() != "", "dead letter without a reason")
    # Every record consumed and produced matches the published schemas (schemas/).
    schemas = Schemas()
    rejected = {record["payload"] for record in dead}
    for line in originals - rejected:
        schemas.check("case-event", json.loads(line), f"event produced to {s.events_topic}")
    schemas.check("case-event", json.loads(created), "structured BIN-1 event")
    schemas.check("case-event-binary", {"key": "BIN-1", "headers": dispatched_attributes, "value": binary_data},
                  "binary-mode BIN-1 event")
    _, raw = s.alert_records()
    for record in raw:
        schemas.check("alert", json.loads(record["payload"]), f"alert consumed from {s.alerts_topic}")
    s.stop()
    check("stopped cleanly" in s.log_tail(), f"no clean stop in the log:\n{s.log_tail()}")
    print(f"end_to_end: {len(standing)} standing alerts, {len(resolved)} resolved, {dead_count} dead letters; "
          f"{len(raw)} alerts with content-type application/cloudevents+json, all matching the schemas")


def graceful(slawatch, rules, kafka, work):
    s = Scenario("graceful", slawatch, rules, kafka, work, cases=300, seed=12)
    standing, resolved, _ = s.expected()
    total = s.line_count()
    s.start()
    s.produce(0, total // 2)
    time.sleep(2)  # let it process part of the stream before the stop (not a correctness wait)
    s.stop(signal.SIGTERM, 0)
    s.start()
    s.produce(total // 2)
    alerts = s.wait_for(standing, "graceful restart")
    check_resolved(alerts, resolved, "graceful restart")
    s.stop()
    duplicates = redeliveries(s.alert_records()[0])
    check(not duplicates, f"graceful stop and restart delivered {len(duplicates)} alert events twice, "
                          f"e.g. {duplicates[:3]}")
    print(f"graceful: {len(standing)} standing alerts, each delivered exactly once")


def crash(slawatch, rules, kafka, work):
    s = Scenario("crash", slawatch, rules, kafka, work, cases=600, seed=13)
    standing, resolved, _ = s.expected()
    s.produce()
    rng = random.Random(13)
    for kill in range(4):
        s.start()
        time.sleep(rng.uniform(0.5, 2.0))
        s.stop(signal.SIGKILL, -signal.SIGKILL)
        print(f"crash: SIGKILL {kill + 1}, {len(s.alert_records()[0])} alert records on the topic")
    s.start()
    alerts = s.wait_for(standing, "after SIGKILLs")
    check_resolved(alerts, resolved, "after SIGKILLs")
    s.stop()
    print(f"crash: {len(standing)} standing alerts complete; {len(redeliveries(alerts))} redelivered (same ids)")


def broker_restart(slawatch, rules, kafka, work):
    s = Scenario("broker", slawatch, rules, kafka, work, cases=300, seed=14)
    standing, resolved, _ = s.expected()
    total = s.line_count()
    s.start()
    s.produce(0, total // 2)
    time.sleep(2)
    run_ok([kafka.script, "restart"], "restart the broker", timeout=180)
    s.produce(total // 2)
    alerts = s.wait_for(standing, "after a broker restart")
    check_resolved(alerts, resolved, "after a broker restart")
    s.stop()
    print(f"broker_restart: {len(standing)} standing alerts complete after the broker came back")


def retracted_stages(alerts):
    """(alert_id, due_at) of every stage that fired and was then retracted (counted once however
    often a retraction was delivered)."""
    return {(a["data"]["alert_id"], a["data"]["due_at"]) for a in alerts if a["type"] == "slawatch.alert.retracted"}


def backlog(slawatch, rules, kafka, work):
    s = Scenario("backlog", slawatch, rules, kafka, work, cases=3000, seed=16)
    standing, resolved, _ = s.expected()
    replay_alerts = [obj for _, obj in parse_json_lines(os.path.join(work, "expected-alerts.jsonl"))]
    replay_retracted = retracted_stages(replay_alerts)
    s.produce()  # the whole history waits in the topic, dated on the sample day
    rng = random.Random(16)
    for kill in range(2):  # SIGKILL while catching up
        s.start()
        time.sleep(rng.uniform(0.5, 1.5))
        s.stop(signal.SIGKILL, -signal.SIGKILL)
        print(f"backlog: SIGKILL {kill + 1} while catching up, {len(s.alert_records()[0])} alert records so far")
    s.start()
    alerts = s.wait_for(standing, "backlog after 2 SIGKILLs")
    check_resolved(alerts, resolved, "backlog after 2 SIGKILLs")
    s.stop()
    live_retracted = retracted_stages(s.alert_records()[0])
    check(len(live_retracted) <= len(replay_retracted),
          f"catching up fired and retracted {len(live_retracted)} stages, replay of the same records only "
          f"{len(replay_retracted)}: e.g. {sorted(live_retracted - replay_retracted)[:3]}")
    print(f"backlog: {len(standing)} standing alerts as in replay; fired then retracted: {len(live_retracted)} "
          f"(replay: {len(replay_retracted)}); {len(alerts)} alert records for {len(replay_alerts)} in replay")


def shadow(slawatch, rules, kafka, work):
    candidate = os.path.join(work, "candidate")
    shutil.copytree(rules, candidate)
    path = os.path.join(candidate, "first-response.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(re.sub(r"(?m)^target: \S+", "target: 45m", text))
    s = Scenario("shadow", slawatch, rules, kafka, work, cases=300, seed=15, shadow_rules=candidate)
    standing, _, _ = s.expected()
    shadow_standing, _, _ = s.expected(rules=candidate)
    check(standing != shadow_standing, "scenario: the candidate should change which alerts stand")
    s.produce()
    rng = random.Random(15)
    for _ in range(3):  # crashes mid-stream: between the lanes' commits the shadow is seeded again
        s.start()
        time.sleep(rng.uniform(0.5, 2.0))
        s.stop(signal.SIGKILL, -signal.SIGKILL)
    s.start()
    s.wait_for(standing, "active lane after SIGKILLs")
    shadow_alerts = s.wait_for(shadow_standing, "shadow lane after SIGKILLs", topic=s.shadow_topic)
    check(all(all(t["person"] is None for t in a["data"].get("notify", [])) for a in shadow_alerts),
          "the shadow named someone")
    versions = {a["data"]["rule_version"] for a in shadow_alerts}
    active_versions = {a["data"]["rule_version"] for a in s.alert_records()[0]}
    check(len(versions) == 1 and not versions & active_versions, f"shadow rule versions {versions}")
    s.stop()
    print(f"shadow: {len(standing)} standing alerts under the active rules, {len(shadow_standing)} under the "
          f"candidate, both after 3 SIGKILLs; the log says: "
          f"{[l for l in s.log_tail().splitlines() if 'shadow rules (version' in l][-1:]}")


def get_json(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def ledger_without_overdue(text):
    """The ledger CSV without the columns that depend on the clock (open breaches' overdue)."""
    rows = [line.split(",") for line in text.splitlines()]
    keep = [i for i, h in enumerate(rows[0]) if h not in ("overdue_total_seconds", "overdue_max_seconds")]
    return sorted(tuple(r[i] for i in keep) for r in rows)


def workbench(slawatch, rules, kafka, work):
    """The case API the workbench reads, on three partitions: every alert listed once, the fired and
    unretracted ones exactly those standing on the alerts topic, cases found on each partition, and
    the ledger summing all partitions as the report command does (all but the clock-bound overdue)."""
    roster = os.path.join(os.path.dirname(rules), "config", "roster.yaml")
    s = Scenario("workbench", slawatch, rules, kafka, work, cases=300, seed=18, roster=roster)
    standing, _, _ = s.expected()
    s.start()
    s.produce()
    s.wait_for(standing, "workbench")
    api = s.http_url() + "/api/v1"
    info = get_json(api + "/info")
    check(len(info["partitions"]) == 3, f"/api/v1/info lists partitions {info['partitions']}, expected 3")
    listed, cursor = [], None
    while True:  # every alert, 200 a page across the three partitions
        page = get_json(api + "/alerts?limit=200" + (f"&cursor={cursor}" if cursor else ""))
        listed += page["alerts"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    ids = [a["alert_id"] for a in listed]
    check(len(ids) == len(set(ids)), f"the API lists {len(ids) - len(set(ids))} alerts twice")
    # Standing (fired, not retracted): firing or resolved in the API.
    kept = {a["alert_id"] for a in listed if a["state"] != "retracted"}
    check(kept == standing, f"the API has {len(kept)} fired, unretracted alerts, the topic stands {len(standing)}: "
                            f"e.g. {sorted(kept ^ standing)[:3]}")
    firing = [a for a in listed if a["state"] == "firing"]
    check(firing, "no alert is firing")
    found_on = {}
    for alert in listed[::7]:
        case = get_json(api + "/cases/" + urllib.parse.quote(alert["event"]["data"]["case_id"]))
        check(alert["alert_id"] in {a["alert_id"] for a in case["alerts"]}, f"{alert['alert_id']} not in its case")
        found_on.setdefault(case["partition"], case["case_id"])
    check(len(found_on) == 3, f"cases found on partitions {sorted(found_on)}, expected all three")
    # The simulation's six hours (March 2026) and long after, all settled by now.
    period = {"from": "2026-01-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}
    with urllib.request.urlopen(api + "/ledger?" + urllib.parse.urlencode(dict(period, format="csv")),
                                timeout=60) as response:
        ledger = response.read().decode()
    with urllib.request.urlopen(api.replace("/api/v1", "/ui/"), timeout=30) as response:
        check(b'<script src="/ui/app.js">' in response.read(), "the Kafka monitor does not serve the workbench")
    s.stop()
    report = run_ok([slawatch, "report", "accountability", "--events", s.events_file, "--rules", rules,
                     "--roster", roster, "--from", period["from"], "--to", period["to"], "--format", "csv"],
                    "report accountability")
    check(ledger_without_overdue(ledger) == ledger_without_overdue(report.stdout_text),
          f"the ledger over three partitions differs from the report command:\n{ledger}\n---\n{report.stdout_text}")
    print(f"workbench: {len(ids)} alerts listed ({len(firing)} firing), cases on partitions {sorted(found_on)}")


SCENARIOS = {"end_to_end": end_to_end, "graceful": graceful, "crash": crash, "broker_restart": broker_restart,
             "backlog": backlog, "shadow": shadow, "workbench": workbench}


def run_scenarios(argv, scenarios, script_name, prefix):
    """argv: SLAWATCH RULES_DIR KAFKA_SCRIPT [SCENARIO...]; runs each named scenario (default: all) in
    its own temporary directory."""
    check(len(argv) >= 3, f"usage: {script_name} SLAWATCH RULES_DIR KAFKA_SCRIPT [SCENARIO...]")
    slawatch, rules, script = (os.path.abspath(a) for a in argv[:3])
    names = argv[3:] or list(scenarios)
    kafka = Kafka(script)
    for name in names:
        with TempDir(f"{prefix}-{name}") as work:
            started = time.monotonic()
            scenarios[name](slawatch, rules, kafka, work)
            print(f"{name}: passed in {time.monotonic() - started:.1f}s")
            sys.stdout.flush()


def test(argv):
    run_scenarios(argv, SCENARIOS, "kafka_live.py", "kafka")


if __name__ == "__main__":
    main(test)
