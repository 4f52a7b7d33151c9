#!/usr/bin/env python3
"""Cost of shadow rules on the live monitor (`slawatch run`, file input).

CASES simulated cases dated 30 days ahead (so nothing falls due and both runs
do the same work per record, as in bench/kafka_bench.sh) are read by the live
monitor twice, side by side: without a shadow (the baseline) and with a shadow
running a 45-minute first-response candidate. Each run is timed from start to
the moment /metrics counts every record applied (slawatch_events_total), and
its peak RSS is read from /proc before it is stopped.

usage: bench/shadow_bench.py [CASES]   (default 200000; needs scripts/build)
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLAWATCH = os.path.join(ROOT, "build", "src", "app", "slawatch")


def events_applied(url):
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("slawatch_events_total{"))


def run(work, name, records, shadow):
    state = os.path.join(work, f"state-{name}")
    config = os.path.join(work, f"{name}.yaml")
    with open(config, "w", encoding="utf-8") as f:
        f.write(f"rules: {ROOT}/rules\nstate_dir: {state}\ninput: events.jsonl\nalerts_output: alerts-{name}.jsonl\n"
                f"http: {{listen: '127.0.0.1:0'}}\nreload: {{watch: 0s}}\n")
        if shadow:
            f.write(f"shadow: {{rules: candidate, alerts_output: shadow-alerts-{name}.jsonl}}\n")
    log_path = os.path.join(work, f"{name}.log")
    with open(log_path, "wb") as log:
        started = time.monotonic()
        process = subprocess.Popen([SLAWATCH, "run", "--config", config], cwd=work, stdout=subprocess.DEVNULL,
                                   stderr=log)
    url = None
    while url is None:
        time.sleep(0.05)
        found = re.search(r"serving (http://127\.0\.0\.1:\d+)/metrics", open(log_path).read())
        url = found.group(1) if found else None
    while events_applied(url) < records:
        if process.poll() is not None:
            sys.exit(f"{name}: the monitor exited:\n{open(log_path).read()[-2000:]}")
        time.sleep(0.1)
    seconds = time.monotonic() - started
    with open(f"/proc/{process.pid}/status") as status:
        rss_mib = int(re.search(r"VmHWM:\s+(\d+)", status.read()).group(1)) // 1024
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=120)
    return seconds, rss_mib


def main():
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    work = os.path.join(os.environ.get("BENCH_DIR", os.path.join(ROOT, "var", "bench")), "shadow")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    print(f"machine: {os.cpu_count()} cores; {datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ}")
    start = (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    span = f"{max(1, cases // 11000) * 24}h"
    subprocess.run([SLAWATCH, "simulate", "--seed", "11", "--cases", str(cases), "--span", span, "--start", start,
                    "--out", os.path.join(work, "events.jsonl")], check=True, stderr=subprocess.DEVNULL)
    shutil.copytree(os.path.join(ROOT, "rules"), os.path.join(work, "candidate"))
    path = os.path.join(work, "candidate", "first-response.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(re.sub(r"(?m)^target: \S+", "target: 45m", text))
    with open(os.path.join(work, "events.jsonl"), "rb") as f:
        records = sum(1 for _ in f)
    base_s, base_rss = run(work, "baseline", records, shadow=False)
    shadow_s, shadow_rss = run(work, "shadow", records, shadow=True)
    print(f"{cases} cases, {records} records")
    print(f"without shadow: {base_s:.1f} s = {records / base_s:,.0f} records/s, peak RSS {base_rss} MiB")
    print(f"with shadow:    {shadow_s:.1f} s = {records / shadow_s:,.0f} records/s, peak RSS {shadow_rss} MiB")
    print(f"throughput ratio (with / without): {base_s / shadow_s:.2f}; RSS ratio {shadow_rss / base_rss:.2f}")


if __name__ == "__main__":
    main()
