"""The live monitor (`slawatch run --config`) as the end-to-end tests drive
it: start it and find its HTTP address in the log, POST /-/reload, read a
metric, stop it with SIGTERM; read its alert file; edit a rule's target so
the file watch sees it.
"""
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

from e2e_common import check

TOKEN = "e2e-reload-token-0123456789"


def case_event(event_id, kind, case_id, at, data, source="/e2e/live"):
    """One CloudEvent line of the events topic or file."""
    return json.dumps({"specversion": "1.0", "id": event_id, "source": source,
                       "type": f"hotline.case.{kind}", "subject": case_id,
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

    def reload(self, authorization=None, path="/-/reload"):
        request = urllib.request.Request(self.url + path, data=b"", method="POST")
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


def kinds(path, alert_id):
    """The kinds (fired, resolved, retracted) of one alert id, in file order."""
    return [kind for kind, aid, _ in history(path) if aid == alert_id]


def set_target(rules, target):
    path = os.path.join(rules, "first-response.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(re.sub(r"(?m)^target: \S+", f"target: {target}", text))
    # The watch compares modification times: make the change visible even within one clock tick.
    stamp = time.time() + 1
    os.utime(path, (stamp, stamp))
