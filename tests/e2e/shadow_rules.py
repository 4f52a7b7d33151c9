"""Shadow rules on the live monitor (`slawatch run --config` with `shadow:`).

The active rules are the shipped ones (first response within 30 minutes); the
candidate moves that target to 34 minutes. Two cases of the water department
were dispatched 40 minutes and 33 minutes 50 seconds ago and never
acknowledged.
  1. Without a shadow, the monitor fires both cases' warning and breach.
  2. Restarted with the shadow, the candidate's state is seeded from the
     active state (2 cases) and repaired as a promotion would: the shadow
     file carries retractions of the 30-minute stages and the 34-minute ones
     that are already overdue; then R-2's breach fires on the shadow's own
     timer about 10 seconds later. The active file does not change. Shadow
     alerts name nobody (person null) although the active ones name the
     roster's people; shadow metrics carry ruleset="shadow". The candidate
     edited to 36 minutes and reloaded with POST /-/reload/shadow (the
     reload token) repairs the shadow only: R-2's breach is retracted again.
  3. Promoting the candidate (copy it over the active rules, SIGHUP) gives
     the active output the same standing alerts, with the same due times, as
     the shadow's.

usage: shadow_rules.py SLAWATCH PROJECT_SOURCE_DIR
"""
import os
import re
import shutil
import signal
from datetime import datetime, timedelta, timezone

from e2e_common import TempDir, check, main, parse_json_lines
from live_monitor import TOKEN, Monitor, case_event, history, kinds, set_target, wait_for

BREACH_1 = "R-1/first-response/1/breach"
BREACH_2 = "R-2/first-response/1/breach"


def standing(path):
    """{alert_id: due_at} of the alerts fired and neither retracted nor resolved, in file order."""
    out = {}
    for kind, alert_id, due in history(path):
        if kind == "fired":
            out[alert_id] = due
        else:
            out.pop(alert_id, None)
    return out


def test(argv):
    check(len(argv) == 2, "usage: shadow_rules.py SLAWATCH PROJECT_SOURCE_DIR")
    slawatch, root = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    with TempDir("shadow") as work:
        rules = os.path.join(work, "rules")
        candidate = os.path.join(work, "candidate")
        shutil.copytree(os.path.join(root, "rules"), rules)
        shutil.copytree(os.path.join(root, "rules"), candidate)
        set_target(candidate, "34m")
        now = datetime.now(timezone.utc)
        with open(os.path.join(work, "events.jsonl"), "w", encoding="utf-8") as f:
            for case_id, ago in (("R-1", timedelta(minutes=40)), ("R-2", timedelta(minutes=33, seconds=50))):
                f.write(case_event(case_id + "-c", "created", case_id, now - ago - timedelta(minutes=1),
                              {"category": "water", "priority": "normal", "channel": "phone"}) + "\n")
                f.write(case_event(case_id + "-d", "dispatched", case_id, now - ago, {"department": "water"}) + "\n")
        alerts = os.path.join(work, "alerts.jsonl")
        shadow_alerts = os.path.join(work, "shadow-alerts.jsonl")
        roster = os.path.join(root, "config", "roster.yaml")

        def config(with_shadow):
            path = os.path.join(work, "slawatch.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(f"rules: rules\nstate_dir: state\ngrace: 0s\ninput: events.jsonl\nroster: {roster}\n"
                        f"alerts_output: alerts.jsonl\nhttp: {{listen: '127.0.0.1:0'}}\nreload: {{watch: 0s, token: {TOKEN}}}\n")
                if with_shadow:
                    f.write("shadow: {rules: candidate, alerts_output: shadow-alerts.jsonl}\n")
            return path

        # 1. The active rules alone.
        monitor = Monitor(slawatch, config(False), work)
        try:
            wait_for(lambda: kinds(alerts, BREACH_1) == ["fired"] and kinds(alerts, BREACH_2) == ["fired"],
                     "both breaches under 30 minutes", monitor)
        finally:
            monitor.stop()
        active_before = history(alerts)
        check(len(active_before) == 4, f"active alerts: {active_before}")

        # 2. The shadow starts beside it, seeded from the active state.
        monitor = Monitor(slawatch, config(True), work)
        try:
            wait_for(lambda: kinds(shadow_alerts, BREACH_2) == ["retracted", "fired"],
                     "R-2's breach retracted at the seed, then fired by the shadow's timer", monitor, seconds=30)
            check("seeded from the active state (2 case(s) copied)" in monitor.stderr(),
                  f"the seed is not logged:\n{monitor.stderr()}")
            check(kinds(shadow_alerts, BREACH_1) == ["retracted", "fired"], f"R-1: {history(shadow_alerts)}")
            due_30 = {aid: due for kind, aid, due in active_before}
            due_34 = {aid: due for kind, aid, due in history(shadow_alerts) if kind == "fired"}
            for alert_id in (BREACH_1, BREACH_2):
                check(due_34[alert_id] != due_30[alert_id], f"{alert_id} kept its due time in the shadow")
            check(history(alerts) == active_before, "the shadow changed the active output")
            for line, obj in parse_json_lines(shadow_alerts):
                for target in obj["data"].get("notify", []):
                    check(target["person"] is None, f"the shadow named someone: {line}")
            active_people = [t["person"] for _, obj in parse_json_lines(alerts)
                             for t in obj["data"].get("notify", [])]
            check(any(person for person in active_people), "the active alerts name nobody: roster not applied?")
            versions = {obj["data"]["rule_version"] for _, obj in parse_json_lines(shadow_alerts)}
            check(len(versions) == 1 and versions != {obj["data"]["rule_version"] for _, obj in parse_json_lines(alerts)},
                  f"shadow rule versions: {versions}")
            check(monitor.metric("slawatch_alerts_total", {"ruleset": "shadow", "stage": "breach", "kind": "fired",
                                                           "department": "water"}) == 2,
                  "slawatch_alerts_total{ruleset=\"shadow\"} does not count the shadow's breaches")

            # The candidate edited and reloaded over HTTP: only the shadow is repaired.
            active_now = history(alerts)
            set_target(candidate, "36m")
            status, body = monitor.reload("Bearer wrong-token-0123456789", path="/-/reload/shadow")
            check(status == 403, f"shadow reload with a wrong token answered {status} {body}")
            status, body = monitor.reload("Bearer " + TOKEN, path="/-/reload/shadow")
            check(status == 200 and body["result"] == "accepted", f"shadow reload answered {status} {body}")
            wait_for(lambda: kinds(shadow_alerts, BREACH_2) == ["retracted", "fired", "retracted"],
                     "R-2's breach retracted under 36 minutes", monitor)
            check(history(alerts) == active_now, "the shadow reload changed the active output")
            check(monitor.metric("slawatch_rules_reloads_total", {"ruleset": "shadow", "result": "accepted"}) == 1,
                  "the shadow reload is not counted under ruleset=\"shadow\"")

            # 3. Promotion is a reload of the active rules with the candidate's content.
            shutil.rmtree(rules)
            shutil.copytree(candidate, rules)
            monitor.process.send_signal(signal.SIGHUP)
            wait_for(lambda: standing(alerts) == standing(shadow_alerts),
                     "the active output standing where the shadow's stands", monitor)
            check(re.search(r"\] rules reload \(SIGHUP\): version \w+ -> \w+ in force", monitor.stderr()),
                  "the promotion is not logged as an accepted reload of the active rules")
        finally:
            if monitor.process.poll() is None:
                monitor.stop()
        print(f"shadow: seeded 2 cases, {len(history(shadow_alerts))} shadow alerts, promotion matched "
              f"{len(standing(alerts))} standing alerts")


if __name__ == "__main__":
    main(test)
