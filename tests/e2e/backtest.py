"""`slawatch backtest` end to end: simulated traffic replayed through the
shipped rules (baseline) and a copy with first response moved from 30 to 45
minutes (candidate), in md, json and html. The json is checked against what
`slawatch replay` itself reports for each rule set, breach by breach.

usage: backtest.py SLAWATCH RULES_DIR
"""
import json
import os
import re
import shutil
from collections import Counter

from e2e_common import TempDir, check, main, parse_json_lines, run, run_ok, standing_alert_ids


def standing_by_stage(slawatch, rules, events, work, name):
    """(rule, stage) -> set of case ids with a standing breach, from `slawatch replay`."""
    alerts = os.path.join(work, f"{name}-alerts.jsonl")
    run_ok([slawatch, "replay", "--rules", rules, "--events", events, "--alerts", alerts, "--quiet"],
           f"replay with {name} rules")
    by_id = {obj["data"]["alert_id"]: obj["data"] for _, obj in parse_json_lines(alerts)}
    standing = {}
    for alert_id in standing_alert_ids(obj for _, obj in parse_json_lines(alerts)):
        data = by_id[alert_id]
        standing.setdefault((data["rule"], data["stage"]), Counter())[data["department"]] += 1
    return standing


def test(argv):
    check(len(argv) == 2, "usage: backtest.py SLAWATCH RULES_DIR")
    slawatch, rules = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    with TempDir("backtest") as work:
        events = os.path.join(work, "events.jsonl")
        run_ok([slawatch, "simulate", "--seed", "11", "--cases", "3000", "--span", "24h", "--out", events],
               "simulate")
        candidate = os.path.join(work, "candidate")
        shutil.copytree(rules, candidate, symlinks=False)  # follows rules/calendars
        path = os.path.join(candidate, "first-response.yaml")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        check("target: 30m" in text, "shipped first-response.yaml no longer says target: 30m")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace("target: 30m", "target: 45m"))

        outputs = {}
        for fmt in ("md", "json", "html"):
            out = os.path.join(work, f"report.{fmt}")
            store = "memory" if fmt == "md" else "rocksdb"
            done = run_ok([slawatch, "backtest", "--baseline", rules, "--candidate", candidate, "--events", events,
                           "--format", fmt, "--out", out, "--store", store, "--temp-dir", work],
                          f"backtest --format {fmt}")
            check("first-response/breach: 30m -> 45m" in done.stderr_text,
                  f"no headline on stderr: {done.stderr_text[-800:]}")
            with open(out, encoding="utf-8") as f:
                outputs[fmt] = f.read()
        leftovers = [n for n in os.listdir(work) if n.startswith("slawatch-backtest-")]
        check(not leftovers, f"temporary state left behind: {leftovers}")

        report = json.loads(outputs["json"])
        baseline = standing_by_stage(slawatch, rules, events, work, "baseline")
        cand = standing_by_stage(slawatch, candidate, events, work, "candidate")
        for rule in report["rules"]:
            for stage in rule["stages"]:
                key = (rule["id"], stage["name"])
                b, c = baseline.get(key, Counter()), cand.get(key, Counter())
                check(stage["baseline"] == sum(b.values()) and stage["candidate"] == sum(c.values()),
                      f"{key}: report says {stage['baseline']} -> {stage['candidate']}, "
                      f"replay says {sum(b.values())} -> {sum(c.values())}")
                for dept, counts in stage["departments"].items():
                    check(counts["baseline"] == b[dept] and counts["candidate"] == c[dept],
                          f"{key} {dept}: report {counts['baseline']} -> {counts['candidate']}, "
                          f"replay {b[dept]} -> {c[dept]}")
                if rule["id"] != "first-response":
                    check(stage["gone"] == 0 and stage["added"] == 0, f"{key} changed without a rule change")
        fr = next(r for r in report["rules"] if r["id"] == "first-response")
        breach = next(s for s in fr["stages"] if s["name"] == "breach")
        check(breach["added"] == 0 and breach["gone"] > 0, f"30m -> 45m must only remove breaches: {breach}")
        check(breach["gone"] == breach["baseline"] - breach["candidate"], f"gone does not add up: {breach}")
        check(len(breach["gone_cases_sample"]) == min(20, breach["gone"]), "sample size")
        check(breach["gone_cases_sample"] == sorted(breach["gone_cases_sample"]), "sample not sorted")
        times = fr["response_times"]["baseline"]
        check(times["closed_cycles"] > 0 and times["within_candidate_target"] >= times["within_baseline_target"],
              f"response times: {times}")
        check(sum(times["buckets"]) == times["closed_cycles"], "histogram does not count every closed cycle")
        check(times["p50_ms"] <= times["p90_ms"] <= times["p99_ms"] <= times["max_ms"], "percentiles out of order")
        check(report["summary"] and report["summary"][0].startswith("first-response/breach: 30m -> 45m, "
                                                                      f"{breach['gone']:,} of {breach['baseline']:,}"),
              f"summary: {report['summary']}")
        print(report["summary"][0])

        md, html = outputs["md"], outputs["html"]
        check(report["summary"][0] in md, "markdown lacks the headline")
        check(f"| breach | 30m -> 45m | {breach['baseline']:,} | {breach['candidate']:,} |" in md,
              "markdown stage table")
        check(re.search(r"<title>Backtest: first-response/breach: 30m -&gt; 45m, [\d,]+ of [\d,]+", html),
              "html title lacks the answer")
        check(html.count("<svg") >= 2 and "stroke-dasharray" in html, "html lacks the charts")
        check(">baseline 30m: " in html and ">candidate 45m: " in html, "html lacks the threshold lines")
        check("<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', ""),
              "html must be self-contained")

        # Usage and input errors.
        bad = run([slawatch, "backtest", "--baseline", rules, "--candidate", candidate, "--events", "-"])
        check(bad.returncode == 2, f"--events - must be a usage error, got {bad.returncode}")
        broken = os.path.join(work, "broken")
        os.mkdir(broken)
        with open(os.path.join(broken, "x.yaml"), "w", encoding="utf-8") as f:
            f.write("id: x\nkind: deadline\n")
        bad = run([slawatch, "backtest", "--baseline", rules, "--candidate", broken, "--events", events])
        check(bad.returncode == 1 and "x.yaml:" in bad.stderr_text, f"broken candidate: {bad.returncode} {bad.stderr_text}")


if __name__ == "__main__":
    main(test)
