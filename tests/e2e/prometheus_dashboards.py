"""Dashboards verified by a real Prometheus: `slawatch run --config` with an
http section reads a simulated scenario with breaches (times three days in
the past, so every stage falls due at once) from stdin in chunks while a real
Prometheus on loopback scrapes it every second. Then: a live scrape passes
`promtool check metrics` with no warnings, /readyz says ready, and every
panel query of every dashboard returns data through Prometheus's HTTP API,
with $department set to a real department, $job to the scrape job,
$instance to any instance, $__rate_interval to 1m and $__range to 1h.

This test uses the wall clock: live mode fires on it, and Prometheus scrapes
on it. Waits are polls with a bounded timeout.

usage: prometheus_dashboards.py SLAWATCH DASHBOARDS_DIR
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

from dashboards_lint import load_dashboards, panel_queries
from e2e_common import TempDir, check, main, run_ok

CHUNKS = 12
POLL_SECONDS = 30


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode("utf-8")


def poll(what, condition, seconds=POLL_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    check(False, f"timed out after {seconds}s waiting for {what}")


def query(prometheus, expr):
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        _, body = http_get(url)
    except urllib.error.HTTPError as e:
        return {"status": "error", "error": e.read().decode("utf-8", "replace")}
    return json.loads(body)


def last_scrape(prometheus):
    """Timestamp of slawatch's latest successful scrape, or None before the first."""
    # timestamp() gives the sample's own time only for a bare selector.
    up = query(prometheus, 'up{job="slawatch"}').get("data", {}).get("result", [])
    if not up or up[0]["value"][1] != "1":
        return None
    result = query(prometheus, 'timestamp(up{job="slawatch"})').get("data", {}).get("result", [])
    return float(result[0]["value"][1]) if result else None


def wait_for_scrapes(prometheus, count):
    seen = last_scrape(prometheus)
    for _ in range(count):
        seen = poll("a new scrape of slawatch",
                    lambda before=seen: (lambda t: t if t is not None and t != before else None)(
                        last_scrape(prometheus)))


def substitute(expr, department):
    # $job and $instance as Grafana sends a single pick: the scrape job's name and any instance of it.
    return (expr.replace("$__rate_interval", "1m").replace("$__range", "1h")
            .replace("${department}", department).replace("$department", department)
            .replace("$job", "slawatch").replace("$instance", ".+"))


def failing_queries(prometheus, dashboard, department):
    failures = []
    for panel, expr in panel_queries(dashboard):
        answer = query(prometheus, substitute(expr, department))
        if answer.get("status") != "success":
            failures.append(f"{panel['title']}: {expr}: error {answer.get('error')}")
        elif not answer["data"]["result"]:
            failures.append(f"{panel['title']}: {expr}: no data")
    return failures


def start_slawatch(slawatch, work, events_config):
    stderr_path = os.path.join(work, "slawatch.stderr")
    stderr_file = open(stderr_path, "wb")
    process = subprocess.Popen([slawatch, "run", "--config", events_config], stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, stderr=stderr_file)
    stderr_file.close()

    def url():
        with open(stderr_path, encoding="utf-8", errors="replace") as f:
            found = re.search(r"serving (http://127\.0\.0\.1:\d+)/metrics", f.read())
        check(process.poll() is None, f"slawatch exited with {process.returncode}: {open(stderr_path).read()}")
        return found.group(1) if found else None

    return process, poll("slawatch to report its HTTP address", url), stderr_path


def test(argv):
    check(len(argv) == 2, "usage: prometheus_dashboards.py SLAWATCH DASHBOARDS_DIR")
    slawatch, dashboards_dir = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    rules = os.path.join(os.path.dirname(dashboards_dir), "rules")
    dashboards = load_dashboards(dashboards_dir)
    check(len(dashboards) >= 4, f"no dashboards in {dashboards_dir}")
    with TempDir("prometheus") as work:
        start = (datetime.now(timezone.utc) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        events_path = os.path.join(work, "events.jsonl")
        run_ok([slawatch, "simulate", "--seed", "4", "--cases", "900", "--span", "24h", "--start", start,
                "--late", "0.05", "--reorder", "0.05", "--duplicates", "0.02", "--malformed", "0.02",
                "--out", events_path], "simulate")
        with open(events_path, "rb") as f:
            lines = f.readlines()
        # A real Alertmanager, so the delivery panels show what a configured monitor reports.
        am_binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
        check(am_binary, "Alertmanager is not installed (Debian prometheus-alertmanager; scripts/setup)")
        am_port = free_port()
        with open(os.path.join(work, "alertmanager.yml"), "w", encoding="utf-8") as f:
            f.write("route: {receiver: nobody, group_wait: 1s, group_interval: 1s}\nreceivers:\n  - name: nobody\n")
        am_log = open(os.path.join(work, "alertmanager.log"), "wb")
        am_process = subprocess.Popen(
            [am_binary, f"--config.file={os.path.join(work, 'alertmanager.yml')}",
             f"--storage.path={os.path.join(work, 'am-data')}", f"--web.listen-address=127.0.0.1:{am_port}",
             "--cluster.listen-address="], stdout=am_log, stderr=am_log)
        am_log.close()
        config = os.path.join(work, "slawatch.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(f'rules: {rules}\nstate_dir: state\ngrace: 1s\ninput: "-"\nalerts_output: alerts.jsonl\n'
                    f'dead_letter_output: dead.jsonl\nhttp: {{listen: "127.0.0.1:0"}}\n'
                    f'alertmanager: {{url: "http://127.0.0.1:{am_port}"}}\n')

        slawatch_process, slawatch_url, slawatch_stderr = start_slawatch(slawatch, work, config)
        prometheus_port = free_port()
        prometheus = f"http://127.0.0.1:{prometheus_port}"
        with open(os.path.join(work, "prometheus.yml"), "w", encoding="utf-8") as f:
            f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                    "scrape_configs:\n  - job_name: slawatch\n    static_configs:\n"
                    f"      - targets: ['{slawatch_url.removeprefix('http://')}']\n")
        prometheus_log = open(os.path.join(work, "prometheus.log"), "wb")
        prometheus_process = subprocess.Popen(
            ["prometheus", f"--config.file={os.path.join(work, 'prometheus.yml')}",
             f"--storage.tsdb.path={os.path.join(work, 'tsdb')}", f"--web.listen-address=127.0.0.1:{prometheus_port}"],
            stdout=prometheus_log, stderr=prometheus_log)
        prometheus_log.close()
        try:
            poll("Prometheus to scrape slawatch", lambda: _safe(lambda: last_scrape(prometheus)), 60)
            # Counters must grow between scrapes for rate() and increase() to see them.
            for chunk in range(CHUNKS):
                part = lines[chunk * len(lines) // CHUNKS:(chunk + 1) * len(lines) // CHUNKS]
                slawatch_process.stdin.write(b"".join(part))
                slawatch_process.stdin.flush()
                wait_for_scrapes(prometheus, 1)
            poll("/readyz to report ready", lambda: _safe(lambda: http_get(f"{slawatch_url}/readyz")[0] == 200))
            wait_for_scrapes(prometheus, 2)

            _, scrape = http_get(f"{slawatch_url}/metrics")
            lint = subprocess.run(["promtool", "check", "metrics"], input=scrape.encode(), capture_output=True)
            check(lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(),
                  f"promtool check metrics: exit {lint.returncode}\n{lint.stdout.decode()}{lint.stderr.decode()}")

            checked = 0
            for name, dashboard in sorted(dashboards.items()):
                uses_department = any("$department" in expr for _, expr in panel_queries(dashboard))
                candidates = [""]
                if uses_department:
                    answer = query(prometheus, "group by (department) (slawatch_cycles_opened_total)")
                    candidates = sorted(r["metric"]["department"] for r in answer["data"]["result"])
                    check(candidates, "the department variable's query has no values")
                best = None
                for department in candidates:
                    failures = failing_queries(prometheus, dashboard, department)
                    if best is None or len(failures) < len(best[1]):
                        best = (department, failures)
                    if not failures:
                        break
                check(not best[1], f"{name}: panels without data (department {best[0]!r}):\n  " +
                      "\n  ".join(best[1]))
                checked += sum(1 for _ in panel_queries(dashboard))
            print(f"{checked} panel queries of {len(dashboards)} dashboards returned data")
            # The state directory is RocksDB: its commits wrote bytes, and timers among their keys.
            for expr in ("sum(slawatch_state_bytes_written_total)",
                         'sum(slawatch_state_keys_written_total{family="timers"})'):
                written = query(prometheus, expr)["data"]["result"]
                check(written and float(written[0]["value"][1]) > 0, f"{expr}: {written}")
            posted = query(prometheus, "sum(slawatch_alertmanager_alerts_sent_total)")["data"]["result"]
            check(posted and float(posted[0]["value"][1]) > 0,
                  f"no alert reached the real Alertmanager: {posted}")
        finally:
            if am_process.poll() is None:
                am_process.send_signal(signal.SIGTERM)
                am_process.wait(timeout=30)
            for process in (prometheus_process, slawatch_process):
                if process.poll() is None:
                    if process is slawatch_process:
                        process.stdin.close()
                    process.send_signal(signal.SIGTERM)
            prometheus_process.wait(timeout=30)
            code = slawatch_process.wait(timeout=30)
        with open(slawatch_stderr, encoding="utf-8", errors="replace") as f:
            check(code == 0, f"slawatch exited with {code} after SIGTERM:\n{f.read()[-3000:]}")


def _safe(probe):
    try:
        return probe()
    except OSError:
        return None


if __name__ == "__main__":
    main(test)
