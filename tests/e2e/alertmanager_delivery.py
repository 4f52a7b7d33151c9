"""Alertmanager delivery against a real Alertmanager: `slawatch run --events -`
on the wall clock posts its alerts to Alertmanager (shipped routing,
config/alertmanager.yml, with short group timings), and a webhook receiver
stands in for the notification channels. Checked:

- slawatch starts before Alertmanager: its posts fail (counted) and are
  retried with backoff until Alertmanager is up;
- every fired stage arrives as one Alertmanager alert per notified role, with
  the identifying labels, annotations, startsAt = due time, a future endsAt
  that moves ahead as slawatch re-sends, and generatorURL to the case API;
- the shipped routing: discipline inspection grouped by department in
  /api/v2/alerts/groups and in its own webhook, the hotline office's urgent
  and normal routes, departments grouped by department and role; the
  inhibition of a warning by its breach;
- a resolved case and a retracted stage (a late acknowledgement) end: gone
  from /api/v2/alerts, and their routes are notified with status resolved,
  endsAt at the close time (retracted: at startsAt);
- slawatch's own metrics count what it sent, with no failures or drops;
- a restart while alerts fire: slawatch re-posts them from its state, so
  after waiting past their lease (4 x resend) they are still active;
- `replay --config` with the same section posts its alerts too.

Skips (exit 77) only when no alertmanager binary is installed; CI installs
it with scripts/setup. Ports: Alertmanager 127.0.0.1:19093, webhook
receiver 19094, slawatch HTTP 19095.

usage: alertmanager_delivery.py SLAWATCH RULES_DIR ALERTMANAGER_YML
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from e2e_common import TempDir, check, main, parse_rfc3339

# SLAWATCH_E2E_AM_PORT moves the three ports (it, +1, +2) when 19093-19095 are taken.
AM_PORT = int(os.environ.get("SLAWATCH_E2E_AM_PORT", "19093"))
WEBHOOK_PORT, SLAWATCH_PORT = AM_PORT + 1, AM_PORT + 2
AM = f"http://127.0.0.1:{AM_PORT}"
POLL_SECONDS = 20
HAIKOU = timezone(timedelta(hours=8))


def http_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8"))


def http_text(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode("utf-8")


def poll(what, condition, seconds=POLL_SECONDS, details=lambda: ""):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            result = condition()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(0.1)
    check(False, f"timed out after {seconds}s waiting for {what}\n{details()}")


class Webhooks:
    """Records every notification Alertmanager posts, by path (= receiver)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.received = []  # (path, payload)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    outer.received.append((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", WEBHOOK_PORT), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def on(self, path):
        with self.lock:
            return [payload for p, payload in self.received if p == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def event(event_id, case, kind, at, data):
    return json.dumps({"specversion": "1.0", "id": event_id, "source": "/e2e/alertmanager",
                       "type": f"hotline.case.{kind}", "subject": case,
                       "time": at.astimezone(HAIKOU).isoformat(timespec="milliseconds"), "data": data}) + "\n"


def opening_events(now):
    """W-1, W-2 (water) and E-1 (electricity): dispatched 2 h ago, never acknowledged: first-response
    warning, breach and escalated fire. R-1 (roads): dispatched three times, the last 40 min ago:
    warning and breach of cycle 3, and repeated-transfer. P-1 (parks): dispatched 40 min ago."""
    created = {"category": "water", "priority": "normal", "channel": "phone"}
    lines = []
    for case, department in (("W-1", "water"), ("W-2", "water"), ("E-1", "electricity")):
        lines.append(event(f"{case}-c", case, "created", now - timedelta(hours=2, minutes=5), created))
        lines.append(event(f"{case}-d", case, "dispatched", now - timedelta(hours=2), {"department": department}))
    lines.append(event("R-1-c", "R-1", "created", now - timedelta(minutes=45), created))
    for i, minutes in enumerate((44, 42, 40)):
        lines.append(event(f"R-1-d{i}", "R-1", "dispatched", now - timedelta(minutes=minutes), {"department": "roads"}))
    lines.append(event("P-1-c", "P-1", "created", now - timedelta(minutes=45), created))
    lines.append(event("P-1-d", "P-1", "dispatched", now - timedelta(minutes=40), {"department": "parks"}))
    return "".join(lines)


def closing_events(now):
    """R-1 acknowledged now (its stages resolve); P-1's acknowledgement from 38 min ago arrives late
    (before any due time: its stages are retracted)."""
    return (event("R-1-a", "R-1", "acknowledged", now, {"department": "roads"}) +
            event("P-1-a", "P-1", "acknowledged", now - timedelta(minutes=38), {"department": "parks"}))


def am_alerts():
    return http_json(f"{AM}/api/v2/alerts?filter=" + urllib.request.quote('source="slawatch"'))


def by_key(alerts):
    """(case_id, alertname, stage, role) -> Alertmanager alert."""
    return {(a["labels"]["case_id"], a["labels"]["alertname"], a["labels"]["stage"], a["labels"].get("role")): a
            for a in alerts}


FIRST_RESPONSE_ROLES = {
    "warning": ["department.duty_officer"],
    "breach": ["department.duty_officer", "department.head"],
    "escalated": ["city.hotline_office", "city.discipline_inspection"],
}


def expected_opening():
    keys = set()
    for case in ("W-1", "W-2", "E-1"):
        for stage, roles in FIRST_RESPONSE_ROLES.items():
            keys |= {(case, "first-response", stage, role) for role in roles}
    for case in ("R-1", "P-1"):
        for stage in ("warning", "breach"):
            keys |= {(case, "first-response", stage, role) for role in FIRST_RESPONSE_ROLES[stage]}
    keys.add(("R-1", "repeated-transfer", "threshold", "city.hotline_office"))
    return keys


def alertmanager_config(shipped_path):
    with open(shipped_path, encoding="utf-8") as f:
        text = f.read()
    check("http://127.0.0.1:5001/" in text, "config/alertmanager.yml no longer uses the example webhook base URL")
    text = text.replace("http://127.0.0.1:5001/", f"http://127.0.0.1:{WEBHOOK_PORT}/")
    # Short timings so the test takes seconds; the routing stays as shipped.
    text = re.sub(r"group_wait: \S+", "group_wait: 1s", text)
    text = re.sub(r"group_interval: \S+", "group_interval: 1s", text)
    return text


def summary_of(process_stderr_path, am_log_path):
    parts = []
    for name, path in (("slawatch", process_stderr_path), ("alertmanager", am_log_path)):
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                parts.append(f"--- {name} log (tail) ---\n" + f.read()[-3000:])
    return "\n".join(parts)


def metric_value(text, name, labels=""):
    for line in text.splitlines():
        if line.startswith(name + labels + " ") or (not labels and line.startswith(name + " ")):
            return float(line.rsplit(" ", 1)[1])
    return None


def test(argv):
    check(len(argv) == 3, "usage: alertmanager_delivery.py SLAWATCH RULES_DIR ALERTMANAGER_YML")
    slawatch, rules, shipped = (os.path.abspath(a) for a in argv)
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        print("SKIP: no alertmanager binary on PATH (Debian package prometheus-alertmanager; scripts/setup "
              "installs it)")
        sys.exit(77)

    with TempDir("alertmanager") as work:
        am_config = os.path.join(work, "alertmanager.yml")
        with open(am_config, "w", encoding="utf-8") as f:
            f.write(alertmanager_config(shipped))
        am_log_path = os.path.join(work, "alertmanager.log")
        stderr_path = os.path.join(work, "slawatch.stderr")
        details = lambda: summary_of(stderr_path, am_log_path)
        webhooks = Webhooks()
        process = am = None
        try:
            config = os.path.join(work, "slawatch.yaml")
            with open(config, "w", encoding="utf-8") as f:
                f.write(f"rules: {rules}\nstate_dir: state\ngrace: 1s\nalerts_output: alerts.jsonl\n"
                        f"dead_letter_output: dead.jsonl\nhttp: {{listen: \"127.0.0.1:{SLAWATCH_PORT}\"}}\n"
                        f"alertmanager:\n  url: {AM}\n  resend: 2s\n  resolved_resend_for: 20s\n"
                        f"  timeout: 2s\n  retry_initial: 200ms\n  retry_max: 1s\n"
                        f"  generator_base_url: http://127.0.0.1:{SLAWATCH_PORT}\n")
            # slawatch starts first: Alertmanager is down, so its first posts fail and are retried.
            with open(stderr_path, "wb") as stderr_file:
                process = subprocess.Popen([slawatch, "run", "--config", config, "--events", "-"],
                                           stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr_file)
            now = datetime.now(timezone.utc)
            fed = opening_events(now)  # everything written to stdin, for the restart below
            process.stdin.write(fed.encode())
            process.stdin.flush()
            failures_metric = lambda: metric_value(http_text(f"http://127.0.0.1:{SLAWATCH_PORT}/metrics"),
                                                   "slawatch_alertmanager_post_failures_total", '{reason="connect"}')
            poll("failed posts while Alertmanager is down", lambda: (failures_metric() or 0) >= 2, details=details)

            with open(am_log_path, "wb") as am_log:
                am = subprocess.Popen([binary, f"--config.file={am_config}", f"--storage.path={work}/am-data",
                                       f"--web.listen-address=127.0.0.1:{AM_PORT}", "--cluster.listen-address="],
                                      stdout=am_log, stderr=am_log)
            poll("Alertmanager to be ready", lambda: http_text(f"{AM}/-/ready") is not None, details=details)

            # 1. Every fired stage, once per role, with its labels and annotations.
            expected = expected_opening()
            alerts = poll("the fired alerts in Alertmanager",
                          lambda: (lambda got: got if expected <= set(got) else None)(by_key(am_alerts())),
                          details=lambda: f"have {sorted(by_key(am_alerts()))}\n{details()}")
            check(set(alerts) == expected, f"unexpected alerts: {sorted(set(alerts) - expected)}")
            escalated = alerts[("W-1", "first-response", "escalated", "city.discipline_inspection")]
            check(escalated["labels"] == {"alertname": "first-response", "stage": "escalated", "severity": "critical",
                                          "department": "water", "case_id": "W-1", "cycle": "1",
                                          "role": "city.discipline_inspection", "source": "slawatch"},
                  f"labels: {escalated['labels']}")
            annotations = escalated["annotations"]
            check(annotations["alert_id"] == "W-1/first-response/1/escalated", f"annotations: {annotations}")
            due = now - timedelta(hours=2) + timedelta(minutes=60)
            check(abs(parse_rfc3339(annotations["due_at"]) - due) < timedelta(seconds=1), f"due_at: {annotations}")
            check(abs(parse_rfc3339(escalated["startsAt"]) - due) < timedelta(seconds=1),
                  f"startsAt {escalated['startsAt']} is not the due time {due}")
            check(annotations["summary"].startswith("Case W-1 at water: first-response stage escalated (critical) due "),
                  f"summary: {annotations['summary']}")
            check(re.fullmatch(r"(59m\d+s|1h(\d+s)?)", annotations["overdue_by"]) is not None,
                  f"overdue_by: {annotations['overdue_by']}")
            check("on_duty" not in annotations, "no roster here, so no on_duty annotation")
            check(escalated["generatorURL"] == f"http://127.0.0.1:{SLAWATCH_PORT}/api/v1/cases/W-1",
                  f"generatorURL: {escalated['generatorURL']}")
            first_ends = parse_rfc3339(escalated["endsAt"])
            check(first_ends > datetime.now(timezone.utc), f"a firing alert's endsAt is in the future: {first_ends}")
            check(escalated["status"]["state"] == "active", f"status: {escalated['status']}")
            # The shipped inhibition: W-1's breach silences its warning for the duty officer.
            warning = alerts[("W-1", "first-response", "warning", "department.duty_officer")]
            check(warning["status"]["state"] == "suppressed" and warning["status"]["inhibitedBy"],
                  f"W-1's warning is not inhibited by its breach: {warning['status']}")

            # 2. Resends move endsAt ahead (resend 2s: endsAt = last post + 8s).
            poll("a resend to move endsAt ahead",
                 lambda: parse_rfc3339(by_key(am_alerts())[("W-1", "first-response", "escalated",
                                                             "city.discipline_inspection")]["endsAt"]) > first_ends,
                 seconds=10, details=details)

            # 3. Groups: discipline inspection by department.
            groups = http_json(f"{AM}/api/v2/alerts/groups?filter=" + urllib.request.quote('source="slawatch"'))
            discipline = {g["labels"].get("department"): sorted(a["labels"]["case_id"] for a in g["alerts"])
                          for g in groups if g["receiver"]["name"] == "discipline-inspection"}
            check(discipline == {"water": ["W-1", "W-2"], "electricity": ["E-1"]},
                  f"discipline-inspection groups by department: {discipline}")
            for g in groups:
                if g["receiver"]["name"] == "discipline-inspection":
                    check(set(g["labels"]) == {"department"}, f"grouped by department only: {g['labels']}")
                if g["receiver"]["name"] == "departments":
                    check(set(g["labels"]) == {"department", "role"}, f"departments grouping: {g['labels']}")

            # 4. Notifications per route.
            def notified(path, wanted):
                seen = {(a["labels"]["case_id"], a["labels"]["stage"], a["labels"].get("role"))
                        for payload in webhooks.on(path) for a in payload["alerts"] if a["status"] == "firing"}
                return seen if wanted <= seen else None

            webhook_details = lambda: f"webhooks: {[(p, x['groupLabels']) for p, x in webhooks.received]}"
            discipline_seen = poll("discipline-inspection notifications", lambda: notified(
                "/discipline-inspection", {(c, "escalated", "city.discipline_inspection") for c in ("W-1", "W-2", "E-1")}),
                details=webhook_details)
            check(all(role == "city.discipline_inspection" for _, _, role in discipline_seen),
                  f"other roles reached discipline inspection: {discipline_seen}")
            for payload in webhooks.on("/discipline-inspection"):
                check(set(payload["groupLabels"]) == {"department"}, f"groupLabels: {payload['groupLabels']}")
                departments = {a["labels"]["department"] for a in payload["alerts"]}
                check(departments == {payload["groupLabels"]["department"]}, f"mixed departments: {departments}")
            poll("hotline-office-urgent notifications (critical)", lambda: notified(
                "/hotline-office-urgent", {(c, "escalated", "city.hotline_office") for c in ("W-1", "W-2", "E-1")}),
                details=webhook_details)
            poll("hotline-office notifications (repeated transfer)", lambda: notified(
                "/hotline-office", {("R-1", "threshold", "city.hotline_office")}), details=webhook_details)
            poll("departments notifications", lambda: notified(
                "/departments", {("R-1", "breach", "department.head"), ("P-1", "breach", "department.duty_officer"),
                                 ("W-1", "breach", "department.head")}), details=webhook_details)
            # Alertmanager flushes a group at once for alerts that started long ago, and its inhibitor
            # learns of alerts on its own: slawatch posts each case's latest stage first (W-1's
            # escalation, then its breach, then its warning), so the warning is silenced on arrival.
            def notices():
                with webhooks.lock:
                    return "\n".join(f"{p} {x['groupLabels']} " + str(sorted(
                        (a["labels"]["case_id"], a["labels"]["stage"], a["status"]) for a in x["alerts"]))
                        for p, x in webhooks.received)
            check(not any(a["labels"]["stage"] == "warning" and a["labels"]["case_id"] == "W-1"
                          for payload in webhooks.on("/departments") for a in payload["alerts"]),
                  f"W-1's inhibited warning was notified:\n{notices()}")

            # 5. R-1 resolves, P-1's stages are retracted: they end in Alertmanager.
            closed_at = datetime.now(timezone.utc)
            fed += closing_events(closed_at)
            process.stdin.write(closing_events(closed_at).encode())
            process.stdin.flush()
            ended = {k for k in expected if k[0] in ("R-1", "P-1") and k[1] == "first-response"}
            poll("resolved and retracted alerts to leave /api/v2/alerts",
                 lambda: not (ended & set(by_key(am_alerts()))), details=details)
            remaining = set(by_key(am_alerts()))
            check(remaining == expected - ended, f"still listed: {sorted(remaining)}")

            def resolved_notice(case, role, cycle):
                # The cycle matters: when the monitor reads R-1's first dispatch in a batch of its own, cycle
                # 1's stages fire, then are retracted (ending at their due time) once the re-dispatch is read.
                for payload in webhooks.on("/departments"):
                    for a in payload["alerts"]:
                        if (a["labels"]["case_id"], a["labels"]["stage"], a["labels"].get("role"),
                                a["labels"].get("cycle")) == (case, "breach", role, cycle) and \
                                a["status"] == "resolved":
                            return a
                return None

            r1 = poll("R-1's resolved notification", lambda: resolved_notice("R-1", "department.head", "3"),
                      details=webhook_details)
            check(abs(parse_rfc3339(r1["endsAt"]) - closed_at) < timedelta(seconds=1),
                  f"R-1 ends at its close time {closed_at}: {r1['endsAt']}")
            # Cycle 3's breach was due 10 min before the acknowledgement.
            check("closed_at" in r1["annotations"] and re.fullmatch(r"10m(\d+s)?", r1["annotations"]["overdue_by"]),
                  f"R-1 annotations: {r1['annotations']}")
            p1 = poll("P-1's retraction notification", lambda: resolved_notice("P-1", "department.head", "1"),
                      details=webhook_details)
            check(p1["endsAt"] == p1["startsAt"], f"a retracted alert ends at its start: {p1}")
            check(p1["annotations"]["retracted"] != "", f"P-1 annotations: {p1['annotations']}")

            # 6. slawatch's own account of it.
            metrics = http_text(f"http://127.0.0.1:{SLAWATCH_PORT}/metrics")
            sent = metric_value(metrics, "slawatch_alertmanager_alerts_sent_total")
            check(sent is not None and sent >= len(expected) + len(ended), f"alerts sent: {sent}")
            check(metric_value(metrics, "slawatch_alertmanager_post_failures_total", '{reason="connect"}') >= 2,
                  "the posts made while Alertmanager was down are counted")
            for reason in ("timeout", "transport", "http_4xx", "http_5xx"):
                check(metric_value(metrics, "slawatch_alertmanager_post_failures_total",
                                   f'{{reason="{reason}"}}') == 0, f"post failures ({reason}) in:\n{metrics}")
            for reason in ("queue_full", "active_full", "rejected", "undecodable"):
                check(metric_value(metrics, "slawatch_alertmanager_dropped_total", f'{{reason="{reason}"}}') == 0,
                      f"drops ({reason})")
            check(metric_value(metrics, "slawatch_alertmanager_active_alerts", '{state="firing"}') == 10,
                  "firing alerts held: W-1, W-2, E-1 x 3 stages + R-1 repeated-transfer")

            process.send_signal(signal.SIGTERM)
            process.stdin.close()
            code = process.wait(timeout=15)
            check(code == 0, f"slawatch exited with {code} after SIGTERM\n{details()}")
            with open(stderr_path, encoding="utf-8", errors="replace") as f:
                log = f.read()
            check("retrying with backoff" in log and "delivering again after" in log,
                  f"the outage and the recovery are logged once each:\n{log[-3000:]}")

            # 7. Restart while alerts fire: the new process knows them only from its state, re-posts them,
            # and they outlive the lease of the last post before the restart (resend 2s: 8s).
            # The same input as a file: the restart resumes at the stored position, its end.
            stopped_at = time.monotonic()
            firing_before = set(by_key(am_alerts()))
            fed_path = os.path.join(work, "fed.jsonl")
            with open(fed_path, "w", encoding="utf-8") as f:
                f.write(fed)
            with open(stderr_path, "ab") as stderr_file:
                process = subprocess.Popen([slawatch, "run", "--config", config, "--events", fed_path],
                                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr_file)
            time.sleep(max(0.0, stopped_at + 12 - time.monotonic()))
            after_lease = by_key(am_alerts())
            check(set(after_lease) == firing_before,
                  f"after a restart and the lease, Alertmanager lists {sorted(after_lease)}, "
                  f"not the {sorted(firing_before)} that fire\n{details()}")
            check(all(a["status"]["state"] in ("active", "suppressed") for a in after_lease.values()),
                  f"states after the restart: {[a['status'] for a in after_lease.values()]}")
            check(parse_rfc3339(after_lease[("W-1", "first-response", "escalated", "city.discipline_inspection")]
                                ["endsAt"]) > datetime.now(timezone.utc), "the lease is not extended")
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=15)
            check(code == 0, f"restarted slawatch exited with {code} after SIGTERM\n{details()}")

            # 8. `replay --config` posts too: historical startsAt, a lease on the wall clock.
            history = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
            replay_events = os.path.join(work, "replay.jsonl")
            with open(replay_events, "w", encoding="utf-8") as f:
                f.write(event("X-1-c", "X-1", "created", history, {"category": "roads", "priority": "normal",
                                                                     "channel": "app"}))
                f.write(event("X-1-d", "X-1", "dispatched", history, {"department": "roads"}))
            replay = subprocess.run([slawatch, "replay", "--rules", rules, "--events", replay_events, "--until",
                                     "2026-03-02T03:00:00Z", "--config", config, "--alerts",
                                     os.path.join(work, "replay-alerts.jsonl")], capture_output=True, timeout=60)
            check(replay.returncode == 0, f"replay failed: {replay.stderr.decode(errors='replace')}")
            replayed = by_key(am_alerts())
            key = ("X-1", "first-response", "escalated", "city.discipline_inspection")
            check(key in replayed, f"replay's alerts did not reach Alertmanager: {sorted(replayed)}")
            check(replayed[key]["startsAt"] == "2026-03-02T02:00:00.000Z", f"startsAt: {replayed[key]}")
            check(parse_rfc3339(replayed[key]["endsAt"]) > datetime.now(timezone.utc),
                  f"endsAt is a lease on the wall clock: {replayed[key]['endsAt']}")
        finally:
            for p in (process, am):
                if p is not None and p.poll() is None:
                    p.kill()
                    p.wait()
            webhooks.close()


if __name__ == "__main__":
    main(test)
