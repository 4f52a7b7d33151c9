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
import os
import re
import shutil
import signal
from datetime import datetime, timedelta, timezone

from e2e_common import TempDir, check, main
from live_monitor import TOKEN, Monitor, case_event, history, kinds, set_target, wait_for

BREACH = "R-1/first-response/1/breach"
WARNING = "R-1/first-response/1/warning"


def test(argv):
    check(len(argv) == 2, "usage: rule_reload.py SLAWATCH RULES_DIR")
    slawatch, shipped_rules = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    with TempDir("reload") as work:
        rules = os.path.join(work, "rules")
        shutil.copytree(shipped_rules, rules)
        now = datetime.now(timezone.utc)
        with open(os.path.join(work, "events.jsonl"), "w", encoding="utf-8") as f:
            f.write(case_event("r-1", "created", "R-1", now - timedelta(minutes=41),
                          {"category": "noise", "priority": "normal", "channel": "phone"}) + "\n")
            f.write(case_event("r-2", "dispatched", "R-1", now - timedelta(minutes=40), {"department": "noise"}) + "\n")
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
