"""Exact metrics: simulated traffic with late, reordered and duplicated
records goes through `slawatch run` on a file. At rest, and again after a
restart with no new input, /metrics says exactly what the input and the
alerts say:
- the overdue gauge (summed) equals the number of alert ids whose last alert
  event is `fired`;
- the first-response histogram (slawatch_cycle_elapsed_seconds,
  rule="first-response") counts the closed first-response cycles of the input
  and sums their elapsed time, both computed here from the events;
- met plus breached equals that count, and nothing is left open.

usage: exact_metrics.py SLAWATCH RULES_DIR [CASES]
"""
import collections
import json
import os
import re
import signal
import subprocess
import time
import urllib.request

from e2e_common import TempDir, check, main, parse_json_lines, parse_rfc3339, run_ok

START_TYPES = {"hotline.case.dispatched"}
STOP_TYPES = {"hotline.case.acknowledged", "hotline.case.returned", "hotline.case.resolved",
              "hotline.case.closed"}
SETTLE_SECONDS = 120


def first_response_cycles(events_path):
    """(closed cycles, total elapsed ms) of rule first-response: events of a case
    in (time, id) order, duplicates (same id) applied once; a dispatch opens a
    cycle (closing an open one at that instant), a stop closes the open one;
    calendar `always`, no pauses."""
    by_case = collections.defaultdict(dict)
    for _, obj in parse_json_lines(events_path):
        by_case[obj["subject"]].setdefault(obj["id"], obj)
    closed, total_ms = 0, 0
    for events in by_case.values():
        timed = sorted(((round(parse_rfc3339(e["time"]).timestamp() * 1000), e["id"], e["type"])
                        for e in events.values()))
        opened_at = None
        for at, _, kind in timed:
            if kind in START_TYPES:
                if opened_at is not None:
                    closed, total_ms = closed + 1, total_ms + (at - opened_at)
                opened_at = at
            elif kind in STOP_TYPES and opened_at is not None:
                closed, total_ms = closed + 1, total_ms + (at - opened_at)
                opened_at = None
    return closed, total_ms


def last_fired(alerts_path):
    last = {}
    for _, obj in parse_json_lines(alerts_path):
        last[obj["data"]["alert_id"]] = obj["type"]
    return sum(1 for kind in last.values() if kind == "slawatch.alert.fired")


SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? (\S+)$')


def parse_metrics(text):
    """[(name, {label: value}, float)] of the exposition."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        check(match is not None, f"unparsable metrics line {line!r}")
        labels = dict(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        out.append((match.group(1), labels, float(match.group(3))))
    return out


def total(samples, name, **wanted):
    return sum(value for n, labels, value in samples
               if n == name and "ruleset" not in labels and all(labels.get(k) == v for k, v in wanted.items()))


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, ""
    except OSError:
        return None, ""


class Monitor:
    def __init__(self, slawatch, config, work, name):
        self.stderr_path = os.path.join(work, name + ".stderr")
        with open(self.stderr_path, "wb") as stderr_file:
            self.process = subprocess.Popen([slawatch, "run", "--config", config], stdout=subprocess.DEVNULL,
                                            stderr=stderr_file)
        self.url = None

    def stderr(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_at_rest(self):
        """Scrape once /readyz says caught up and two scrapes a second apart agree
        with nothing left to deliver."""
        deadline = time.monotonic() + SETTLE_SECONDS
        previous = None
        while True:
            check(time.monotonic() < deadline, f"not at rest within {SETTLE_SECONDS}s:\n{self.stderr()[-3000:]}")
            check(self.process.poll() is None, f"run exited with {self.process.returncode}:\n{self.stderr()}")
            if self.url is None:
                found = re.search(r"serving (http://\S+)/metrics", self.stderr())
                if found:
                    self.url = found.group(1)
            if self.url is not None and get(self.url + "/readyz")[0] == 200:
                status, text = get(self.url + "/metrics")
                samples = parse_metrics(text) if status == 200 else None
                if samples is not None and total(samples, "slawatch_outbox_depth") == 0:
                    state = [s for s in samples if s[0].startswith(("slawatch_overdue", "slawatch_cycle",
                                                                     "slawatch_open", "slawatch_alerts_total"))]
                    if state == previous:
                        return samples
                    previous = state
            time.sleep(1)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        check(code == 0, f"run exited with {code} after SIGTERM:\n{self.stderr()}")


def run_to_rest(slawatch, config, work, name):
    """Starts `slawatch run`, scrapes it at rest, stops it with SIGTERM."""
    monitor = Monitor(slawatch, config, work, name)
    try:
        return monitor.wait_at_rest()
    finally:
        if monitor.process.poll() is None:
            monitor.stop()


def check_numbers(samples, expected_overdue, cycles, total_ms, when):
    overdue = total(samples, "slawatch_overdue_alerts")
    check(overdue == expected_overdue,
          f"{when}: slawatch_overdue_alerts sums to {overdue}, but {expected_overdue} alert ids end with fired")
    count = total(samples, "slawatch_cycle_elapsed_seconds_count", rule="first-response")
    seconds = total(samples, "slawatch_cycle_elapsed_seconds_sum", rule="first-response")
    check(count == cycles, f"{when}: first-response histogram counts {count} cycles, the input closes {cycles}")
    check(abs(seconds - total_ms / 1000) <= 1e-6 * max(1.0, total_ms / 1000),
          f"{when}: first-response histogram sums {seconds} s, the input's cycles took {total_ms / 1000} s")
    outcomes = (total(samples, "slawatch_cycles_met_total", rule="first-response") +
                total(samples, "slawatch_cycles_breached_total", rule="first-response"))
    check(outcomes == cycles, f"{when}: met + breached = {outcomes}, expected {cycles}")
    check(total(samples, "slawatch_open_cycles", rule="first-response") == 0,
          f"{when}: first-response cycles still open at rest")
    check(total(samples, "slawatch_overdue_alerts", department="none") == 0 and
          not any(labels.get("department") == "none" for _, labels, _ in samples),
          f"{when}: a series says department none instead of unassigned")


def test(argv):
    check(len(argv) in (2, 3), "usage: exact_metrics.py SLAWATCH RULES_DIR [CASES]")
    slawatch, rules = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    cases = argv[2] if len(argv) == 3 else "1500"
    with TempDir("exact-metrics") as work:
        events = os.path.join(work, "events.jsonl")
        run_ok([slawatch, "simulate", "--seed", "1515", "--cases", cases, "--span", "48h", "--out", events,
                "--late", "0.08", "--reorder", "0.05", "--duplicates", "0.03"], "simulate")
        config = os.path.join(work, "slawatch.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(f"rules: {rules}\nstate_dir: state\ngrace: 0s\ninput: events.jsonl\n"
                    f"alerts_output: alerts.jsonl\ndead_letter_output: dead.jsonl\n"
                    f"http: {{listen: \"127.0.0.1:0\"}}\n")
        cycles, total_ms = first_response_cycles(events)
        check(cycles > 100, f"only {cycles} first-response cycles in the simulated input")

        at_rest = run_to_rest(slawatch, config, work, "first")
        alerts = os.path.join(work, "alerts.jsonl")
        overdue = last_fired(alerts)
        check(overdue > 0, "nothing is overdue at rest; the check would prove nothing")
        check_numbers(at_rest, overdue, cycles, total_ms, "at rest")

        restarted = run_to_rest(slawatch, config, work, "second")
        check(last_fired(alerts) == overdue, "the restart changed which alerts stand")
        check_numbers(restarted, overdue, cycles, total_ms, "after the restart")
        print(f"exact: {cycles} first-response cycles, {total_ms / 1000:.3f} s in all, {overdue} overdue; "
              f"the same after a restart")


if __name__ == "__main__":
    main(test)
