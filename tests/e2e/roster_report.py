"""Duty roster and accountability report through the real binary:
`roster check` (shipped roster OK, mistakes as file:line:column, exit 1),
`replay --roster` names people (without it `person` stays null, same alerts),
and `report accountability` in md, csv and html agreeing on every number.

usage: roster_report.py SLAWATCH PROJECT_SOURCE_DIR
"""
import csv
import io
import json
import os
import re

from e2e_common import TempDir, check, main, run, run_ok

BROKEN_ROSTER = """\
defaults: {time_zone: Asia/Shanghai, handover: "08:30", period: 1d, starts: 2026-01-05}
city: {hotline_office: Hu Min, discipline_inspection: Zhou Bo}
departments:
  - id: water
    head: Liu Jun
    duty_officers:
      order: [Chen Wei, Li Na]
      periods:
        - {from: 2026-02-15, to: 2026-02-18, person: Li Na}
        - {from: 2026-02-17, to: 2026-02-20, person: Chen Wei}
  - id: roads
    duty_officers: {order: []}
  - id: water
    head: Wu Gang
"""


def alerts_of(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test(argv):
    check(len(argv) == 2, "usage: roster_report.py SLAWATCH PROJECT_SOURCE_DIR")
    slawatch, root = argv
    roster = os.path.join(root, "config", "roster.yaml")
    rules = os.path.join(root, "rules")

    ok = run_ok([slawatch, "roster", "check", "--roster", roster, "--rules", rules], "roster check")
    check(ok.stdout_text.startswith("roster OK: 91 departments, 2 city roles"), f"summary: {ok.stdout_text!r}")

    with TempDir("roster") as tmp:
        broken = os.path.join(tmp, "broken.yaml")
        with open(broken, "w") as f:
            f.write(BROKEN_ROSTER)
        bad = run([slawatch, "roster", "check", "--roster", broken])
        check(bad.returncode == 1, f"broken roster: exit {bad.returncode}, stderr {bad.stderr_text}")
        for expected in [f"{broken}:10:11: period 2026-02-17 .. 2026-02-20 overlaps the one at line 9",
                         f"{broken}:12:28: empty rotation 'roads.duty_officers'",
                         f"{broken}:13:9: duplicate department 'water' (first listed at line 4)"]:
            check(expected in bad.stderr_text, f"missing {expected!r} in:\n{bad.stderr_text}")

        events = os.path.join(tmp, "events.jsonl")
        run_ok([slawatch, "simulate", "--cases", "1500", "--span", "24h", "--seed", "7", "--out", events], "simulate")
        until = "2026-03-03T12:00:00+08:00"
        named, plain = os.path.join(tmp, "named.jsonl"), os.path.join(tmp, "plain.jsonl")
        run_ok([slawatch, "replay", "--rules", rules, "--events", events, "--until", until, "--alerts", named,
                "--roster", roster, "--quiet"], "replay --roster")
        run_ok([slawatch, "replay", "--rules", rules, "--events", events, "--until", until, "--alerts", plain,
                "--quiet"], "replay without roster")
        with_people, without = alerts_of(named), alerts_of(plain)
        check([a["data"]["alert_id"] for a in with_people] == [a["data"]["alert_id"] for a in without],
              "the roster changed which alerts fire")
        fired = [a for a in with_people if a["type"] == "slawatch.alert.fired"]
        check(len(fired) > 100, f"only {len(fired)} fired alerts")
        for a in fired:
            for target in a["data"]["notify"]:
                check(isinstance(target["person"], str) and target["person"],
                      f"{a['data']['alert_id']}: {target['role']} names nobody")
        for a in without:
            for target in a["data"].get("notify", []):
                check(target["person"] is None, "without a roster person must be null")

        outputs = {}
        for fmt in ("md", "csv", "html"):
            out = os.path.join(tmp, f"report.{fmt}")
            run_ok([slawatch, "report", "accountability", "--events", events, "--rules", rules, "--roster", roster,
                    "--from", "2026-03-02T00:00:00+08:00", "--to", "2026-03-03T00:00:00+08:00",
                    "--format", fmt, "--out", out], f"report {fmt}")
            with open(out, encoding="utf-8") as f:
                outputs[fmt] = f.read()

        rows = list(csv.DictReader(io.StringIO(outputs["csv"])))
        total = [r for r in rows if r["level"] == "total"]
        check(len(total) == 1, "csv has no single total row")
        total = total[0]
        breaches = int(total["breaches"])
        check(breaches > 0, "no breaches in a simulated day")
        for level in ("department", "person"):
            level_rows = [r for r in rows if r["level"] == level]
            for column in ("breaches", "returns", "transfers", "discipline_inspection", "overdue_total_seconds"):
                summed = sum(int(r[column]) for r in level_rows)
                # Seconds are rounded down per row, so their sum may fall short by under a second a row.
                slack = len(level_rows) if column == "overdue_total_seconds" else 0
                check(0 <= int(total[column]) - summed <= slack,
                      f"{level} rows sum {column} to {summed}, total says {total[column]}")
        headline = re.search(r"(\d+) cases, (\d+) person-times: (\d+) breached stages \((\d+) escalated", outputs["md"])
        check(headline is not None, f"md headline missing:\n{outputs['md'][:500]}")
        check(headline.group(1) == total["cases"] and headline.group(3) == total["breaches"] and
              headline.group(4) == total["discipline_inspection"], f"md headline {headline.group(0)} vs csv {total}")
        check(headline.group(0) in outputs["html"], "html headline differs from md")
        check(outputs["html"].count("<svg") == 2 and "<script" not in outputs["html"], "html charts")
        print(f"report: {headline.group(0)}")

        # The same report from a durable replay's state directory instead of the events.
        state = os.path.join(tmp, "state")
        run_ok([slawatch, "replay", "--rules", rules, "--events", events, "--until", "2026-03-03T00:00:00+08:00",
                "--alerts", os.path.join(tmp, "state-alerts.jsonl"), "--state", state, "--quiet"], "replay --state")
        from_state = run_ok([slawatch, "report", "accountability", "--state", state, "--rules", rules, "--roster", roster,
                             "--from", "2026-03-02T00:00:00+08:00", "--to", "2026-03-03T00:00:00+08:00",
                             "--format", "csv"], "report --state")
        check(from_state.stdout_text == outputs["csv"],
              f"report from --state differs from --events:\n{from_state.stdout_text[:800]}\n---\n{outputs['csv'][:800]}")

        usage = run([slawatch, "report", "accountability", "--events", events, "--rules", rules, "--roster", roster,
                     "--from", "2026-03-03T00:00:00+08:00", "--to", "2026-03-02T00:00:00+08:00"])
        check(usage.returncode == 2, f"--to before --from: exit {usage.returncode}")
        neither = run([slawatch, "report", "accountability", "--rules", rules, "--roster", roster,
                       "--from", "2026-03-02T00:00:00+08:00", "--to", "2026-03-03T00:00:00+08:00"])
        check(neither.returncode == 2, f"neither --events nor --state: exit {neither.returncode}")


if __name__ == "__main__":
    main(test)
