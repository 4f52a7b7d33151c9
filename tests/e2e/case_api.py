"""The case API on the live monitor (`slawatch run --config`, RocksDB state, wall clock).

Cases dispatched 40 minutes ago and never acknowledged have their first-response
warning and breach firing; K-2 was acknowledged in time (any of its stages
fired before the monitor read the acknowledgement are retracted). Over HTTP (urllib):
  1. GET /api/v1/cases/{id} at the address Alertmanager's generatorURL names
     (base + /api/v1/cases/ + case id): events in time order, the open cycle
     with its breached stages, the firing alerts with their CloudEvents.
  2. An unknown case is a 404 with a JSON error.
  3. GET /api/v1/alerts: filters by state and department, pages with
     next_cursor without repeats, and answers 400 naming a bad parameter.
  4. After POST /-/reload of a 45-minute target, the case is evaluated under
     the new rules: the breach is due later and no longer breached.

usage: case_api.py SLAWATCH RULES_DIR
"""
import json
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

from e2e_common import TempDir, check, main
from live_monitor import TOKEN, Monitor, case_event, set_target, wait_for

OPEN_CASES = ["K-1", "K-3", "K-4"]


def get(url):
    """(status, content type, parsed JSON body) of a GET, errors included."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type"), json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), json.loads(e.read())


def generator_url(base, case_id):
    """What slawatch puts in an Alertmanager alert's generatorURL (src/alertmanager/mapping.cc)."""
    return base.rstrip("/") + "/api/v1/cases/" + case_id


def test(argv):
    check(len(argv) == 2, "usage: case_api.py SLAWATCH RULES_DIR")
    slawatch, shipped_rules = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    with TempDir("case-api") as work:
        rules = os.path.join(work, "rules")
        shutil.copytree(shipped_rules, rules)
        now = datetime.now(timezone.utc)
        lines = []
        for case_id, department in [("K-1", "noise"), ("K-3", "roads"), ("K-4", "roads")]:
            # The dispatch first in the file: the API lists events by time, not by arrival.
            lines.append(case_event(f"{case_id}-d", "dispatched", case_id, now - timedelta(minutes=40),
                               {"department": department}))
            lines.append(case_event(f"{case_id}-c", "created", case_id, now - timedelta(minutes=41),
                               {"category": "noise", "priority": "normal", "channel": "phone"}))
        lines.append(case_event("K-2-c", "created", "K-2", now - timedelta(minutes=60),
                           {"category": "roads", "priority": "normal", "channel": "app"}))
        lines.append(case_event("K-2-d", "dispatched", "K-2", now - timedelta(minutes=50), {"department": "roads"}))
        lines.append(case_event("K-2-a", "acknowledged", "K-2", now - timedelta(minutes=45), {"department": "roads"}))
        with open(os.path.join(work, "events.jsonl"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        config = os.path.join(work, "slawatch.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(f"rules: {rules}\nstate_dir: state\ngrace: 0s\ninput: events.jsonl\n"
                    f"alerts_output: alerts.jsonl\nhttp: {{listen: '127.0.0.1:0'}}\n"
                    f"reload: {{watch: 0s, token: {TOKEN}}}\n")

        monitor = Monitor(slawatch, config, work)
        try:
            api = monitor.url + "/api/v1"

            def firing_breaches():
                status, _, body = get(api + "/alerts?state=firing&limit=1000")
                return {a["alert_id"] for a in body["alerts"]} if status == 200 else set()

            def k2_settled():
                # K-2's events come last in the file; the monitor may fire its stages on the wall clock
                # before it reads the acknowledgement, and then retracts them.
                status, _, body = get(api + "/cases/K-2")
                return status == 200 and len(body["events"]) == 3 and all(
                    a["state"] != "firing" for a in body["alerts"] if a["alert_id"].startswith("K-2/first-response/"))

            wanted = {f"{c}/first-response/1/breach" for c in OPEN_CASES}
            wait_for(lambda: wanted <= firing_breaches() and k2_settled(), "the whole input committed", monitor)

            # 1. The case, at the generatorURL address.
            status, content_type, case = get(generator_url(monitor.url, "K-1"))
            check(status == 200 and content_type == "application/json", f"case answered {status} {content_type}")
            check([e["id"] for e in case["events"]] == ["K-1-c", "K-1-d"], f"events not in time order: {case['events']}")
            check(case["events"][1]["data"]["department"] == "noise", f"event data {case['events'][1]}")
            rule = next(r for r in case["rules"] if r["rule"] == "first-response")
            cycle = rule["cycles"][0]
            stages = {s["stage"]: s for s in cycle["stages"]}
            check(cycle["closed_at"] is None and not cycle["paused_now"], f"cycle {cycle}")
            check(stages["breach"]["status"] == "due" and stages["breach"]["breached"], f"breach {stages['breach']}")
            check(stages["escalated"]["status"] == "due" and not stages["escalated"]["breached"],
                  f"escalated {stages['escalated']}")
            alerts = {a["alert_id"]: a for a in case["alerts"]}
            breach = alerts.get("K-1/first-response/1/breach")
            check(breach is not None and breach["state"] == "firing" and breach["department"] == "noise",
                  f"alerts {case['alerts']}")
            check(breach["event"]["type"] == "slawatch.alert.fired"
                  and breach["event"]["data"]["alert_id"] == "K-1/first-response/1/breach", f"alert event {breach}")
            status, _, closed = get(generator_url(monitor.url + "/", "K-2"))
            closed_cycle = next(r for r in closed["rules"] if r["rule"] == "first-response")["cycles"][0]
            check(status == 200 and closed_cycle["closed_by"] == "K-2-a"
                  and all(s["status"] == "met" for s in closed_cycle["stages"]), f"K-2: {closed_cycle}")
            check(all(a["state"] == "retracted" for a in closed["alerts"]
                      if a["alert_id"].startswith("K-2/first-response/")),
                  f"K-2 has standing first-response alerts: {closed['alerts']}")

            # 2. Unknown case.
            status, content_type, body = get(api + "/cases/" + urllib.parse.quote("NO-SUCH-CASE"))
            check(status == 404 and content_type == "application/json" and "NO-SUCH-CASE" in body["error"],
                  f"unknown case answered {status} {body}")

            # 3. Listing: filter, pages, bad parameters.
            status, _, noise = get(api + "/alerts?state=firing&department=noise")
            check(status == 200 and noise["alerts"]
                  and all(a["alert_id"].startswith("K-1/") and a["state"] == "firing" for a in noise["alerts"]),
                  f"department filter: {noise}")
            _, _, everything = get(api + "/alerts?limit=1000")
            check(everything["next_cursor"] is None, "one page of 1000 has a next cursor")
            paged, pages, query = [], 0, "limit=2"
            while True:
                status, _, page = get(api + "/alerts?" + query)
                check(status == 200 and len(page["alerts"]) <= 2, f"page {pages}: {status} {page}")
                paged += [a["alert_id"] for a in page["alerts"]]
                pages += 1
                if page["next_cursor"] is None:
                    break
                query = "limit=2&cursor=" + urllib.parse.quote(page["next_cursor"])
            check(paged == [a["alert_id"] for a in everything["alerts"]] and pages >= 3,
                  f"{pages} pages gave {paged}, one page {everything['alerts']}")
            for query, parameter in [("state=open", "state"), ("limit=0", "limit"), ("limit=1001", "limit"),
                                     ("cursor=xyz", "cursor"), ("colour=red", "colour")]:
                status, content_type, body = get(api + "/alerts?" + query)
                check(status == 400 and content_type == "application/json" and f"'{parameter}'" in body["error"],
                      f"{query} answered {status} {body}")

            # 4. The rules in force after a reload.
            set_target(rules, "45m")
            status, body = monitor.reload("Bearer " + TOKEN)
            check(status == 200 and body["result"] == "accepted", f"reload answered {status} {body}")
            _, _, reloaded = get(generator_url(monitor.url, "K-1"))
            cycle = next(r for r in reloaded["rules"] if r["rule"] == "first-response")["cycles"][0]
            breach = next(s for s in cycle["stages"] if s["stage"] == "breach")
            check(reloaded["rules_version"] == body["version"] and reloaded["rules_version"] != case["rules_version"]
                  and breach["due_at"] > stages["breach"]["due_at"] and not breach["breached"],
                  f"after the reload: {reloaded['rules_version']} {breach}")
        finally:
            if monitor.process.poll() is None:
                monitor.stop()
        print(f"case api: case view, 404, filters, {pages} pages of {len(paged)} alerts, 400s, reload")


if __name__ == "__main__":
    main(test)
