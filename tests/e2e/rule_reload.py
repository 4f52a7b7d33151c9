"""Hot rule reload on the live monitor (`slawatch run --config`, wall clock).

A case was dispatched 40 minutes ago and never acknowledged, so under the
shipped 30-minute first-response rule its warning (24 min) and breach (30 min)
have fired. Then:
  1. POST /-/reload refuses a missing (401) or wrong (403) token; with the
     token, a 45-minute target is accepted and the open case is repaired: the
     breach (now due in 5 minutes) is retracted, the warning moves to 36 min.
  2. An invalid rule file is rejected on SIGHUP and on POST (422, naming
     file:line:column); the 45-minute set stays in force.
  3. A restart under the 30-minute file (the state says 45) repairs at start:
     the breach fires again. Editing the file to 45 minutes while it runs is
     picked up by the file watch and retracts it again.

usage: rule_reload.py SLAWATCH RULES_DIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

from e2e_common import TempDir, check, main, parse_json_lines

TOKEN = "e2e-reload-token-0123456789"
BREACH = "R-1/first-response/1/breach"
WARNING = "R-1/first-response/1/warning"


def event(event_id, kind, at, data):
    return json.dumps({"specversion": "1.0", "id": event_id, "source": "/e2e/reload",
                       "type": f"hotline.case.{kind}", "subject": "R-1",
                       "time": at.isoformat(timespec="milliseconds"), "data": data})


def history(path):
    """[(kind, alert_id, due_at)] in file order, complete lines only."""
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = f.read()
    data = data[:data.rfind(b"\n") + 1]
    out = []
    for line in data.decode("utf-8").splitlines():
        obj = json.loads(line)
        out.append((obj["type"].rsplit(".", 1)[-1], obj["data"]["alert_id"], obj["data"]["due_at"]))
    return out


class Monitor:
    def __init__(self, slawatch, config, work):
        self.stderr_path = os.path.join(work, f"stderr-{time.monotonic_ns()}.txt")
        with open(self.stderr_path, "wb") as stderr_file:
            self.process = subprocess.Popen([slawatch, "run", "--config", config], stdout=subprocess.DEVNULL,
                                            stderr=stderr_file)
        self.url = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and self.url is None:
            check(self.process.poll() is None, f"monitor exited early:\n{self.stderr()}")
            found = re.search(r"serving (http://127\.0\.0\.1:\d+)/metrics", self.stderr())
            self.url = found.group(1) if found else None
            time.sleep(0.05)
        check(self.url is not None, f"no HTTP address in the log:\n{self.stderr()}")

    def stderr(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def reload(self, authorization=None):
        request = urllib.request.Request(self.url + "/-/reload", data=b"", method="POST")
        if authorization:
            request.add_header("Authorization", authorization)
        try:
            with urllib.request.urlopen(request, timeout=40) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def metric(self, name, labels):
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as response:
            text = response.read().decode()
        for line in text.splitlines():
            if (line.startswith(name + "{") or line.startswith(name + " ")) and all(f'{k}="{v}"' in line for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=20)
        check(code == 0, f"monitor exited with {code}:\n{self.stderr()}")


def wait_for(condition, what, monitor, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        check(monitor.process.poll() is None, f"monitor exited while waiting for {what}:\n{monitor.stderr()}")
        time.sleep(0.05)
    check(False, f"timed out waiting for {what}:\n{monitor.stderr()[-3000:]}")


def kinds(alerts, alert_id):
    return [kind for kind, aid, _ in history(alerts) if aid == alert_id]


def set_target(rules, target):
    path = os.path.join(rules, "first-response.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(re.sub(r"(?m)^target: \S+", f"target: {target}", text))
    # The watch compares modification times: make the change visible even within one clock tick.
    stamp = time.time() + 1
    os.utime(path, (stamp, stamp))


def test(argv):
    check(len(argv) == 2, "usage: rule_reload.py SLAWATCH RULES_DIR")
    slawatch, shipped_rules = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    with TempDir("reload") as work:
        rules = os.path.join(work, "rules")
        shutil.copytree(shipped_rules, rules)
        now = datetime.now(timezone.utc)
        with open(os.path.join(work, "events.jsonl"), "w", encoding="utf-8") as f:
            f.write(event("r-1", "created", now - timedelta(minutes=41),
                          {"category": "noise", "priority": "normal", "channel": "phone"}) + "\n")
            f.write(event("r-2", "dispatched", now - timedelta(minutes=40), {"department": "noise"}) + "\n")
        alerts = os.path.join(work, "alerts.jsonl")

        def config(watch):
            path = os.path.join(work, "slawatch.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(f"rules: rules\nstate_dir: state\ngrace: 0s\ninput: events.jsonl\n"
                        f"alerts_output: alerts.jsonl\nhttp: {{listen: '127.0.0.1:0'}}\n"
                        f"reload: {{watch: {watch}, token: {TOKEN}}}\n")
            return path

        # 1. Reload over HTTP (file watch off, so nothing else reloads).
        monitor = Monitor(slawatch, config("0s"), work)
        try:
            wait_for(lambda: kinds(alerts, BREACH) == ["fired"], "the breach under 30 minutes", monitor)
            set_target(rules, "45m")
            status, body = monitor.reload()
            check(status == 401, f"reload without a token answered {status} {body}")
            status, body = monitor.reload("Bearer not-the-token")
            check(status == 403, f"reload with a wrong token answered {status} {body}")
            status, body = monitor.reload("Bearer " + TOKEN)
            check(status == 200 and body["result"] == "accepted", f"reload answered {status} {body}")
            check(body["repair"]["changed"] >= 1 and body["repair"]["retracted"] >= 2,
                  f"repair report {body['repair']}")
            wait_for(lambda: kinds(alerts, BREACH) == ["fired", "retracted"], "the breach retracted", monitor)
            warning = [(k, due) for k, aid, due in history(alerts) if aid == WARNING]
            check(len(warning) == 3 and warning[1][0] == "retracted" and warning[2][0] == "fired"
                  and warning[2][1] != warning[0][1], f"the warning did not move: {warning}")
            version_45 = body["version"]

            # 2. An invalid set is rejected; the 45-minute set stays.
            with open(os.path.join(rules, "first-response.yaml"), "a", encoding="utf-8") as f:
                f.write("stages: [oops\n")
            monitor.process.send_signal(signal.SIGHUP)
            wait_for(lambda: monitor.metric("slawatch_rules_reloads_total", {"result": "rejected"}) == 1,
                     "the SIGHUP reload rejected", monitor)
            status, body = monitor.reload("Bearer " + TOKEN)
            check(status == 422 and body["result"] == "rejected" and body["version"] == version_45,
                  f"reload of invalid rules answered {status} {body}")
            check(any(re.search(r"first-response\.yaml:\d+:\d+: ", e) for e in body["errors"]),
                  f"errors do not name file:line:column: {body['errors']}")
            check("rejected" in monitor.stderr(), "the rejection is not logged")
            check(monitor.metric("slawatch_rules_reloads_total", {"result": "accepted"}) == 1, "accepted count")
            check(monitor.metric("slawatch_build_info", {"rules_version": version_45}) == 1,
                  "build_info does not name the rules in force")
            check(kinds(alerts, BREACH) == ["fired", "retracted"], "a rejected reload changed alerts")
        finally:
            if monitor.process.poll() is None:
                monitor.stop()

        # 3. Restart under the 30-minute file (the state was computed under 45): repaired at start.
        shutil.rmtree(rules)
        shutil.copytree(shipped_rules, rules)
        monitor = Monitor(slawatch, config("200ms"), work)
        try:
            wait_for(lambda: kinds(alerts, BREACH) == ["fired", "retracted", "fired"],
                     "the breach fired again after the restart", monitor)
            check("rules changed since the last run" in monitor.stderr(), "the start-up repair is not logged")
            set_target(rules, "45m")
            wait_for(lambda: kinds(alerts, BREACH) == ["fired", "retracted", "fired", "retracted"],
                     "the file watch reloading 45 minutes", monitor)
            check(monitor.metric("slawatch_rules_reloads_total", {"result": "accepted"}) == 1, "accepted count")
            check(monitor.metric("slawatch_rules_repair_changed_cases", {}) == 1, "the repair gauge")
        finally:
            if monitor.process.poll() is None:
                monitor.stop()
        print("reload: HTTP (401/403/200), rejected on SIGHUP and POST (422), start-up repair, file watch")


if __name__ == "__main__":
    main(test)
