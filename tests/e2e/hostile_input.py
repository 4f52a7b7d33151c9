"""Hostile input (issue 16, findings 1, 3, 8 and 9): nothing a producer or a
rule author sends crashes slawatch, holds unbounded memory, or depends on the
order records arrive in.

- An 800 MB line of NUL bytes (a sparse file: no disk, and the real size of
  the record that crashed it) between good events: dead-lettered as oversize
  with its size and first bytes, the events after it applied, memory bounded.
- Two records with one event id and different content: the same standing
  alerts and the same dead letter (reason conflicting_duplicate) in both
  arrival orders.
- An event dated in year 1 and a 2 KB department name: rejected with reasons.
- Rule sets past the size limits, a calendar with no working time and a
  symlink loop: `rules check` names file:line:column or the problem.

usage: hostile_input.py SLAWATCH RULES_DIR
"""
import json
import os
import resource
import subprocess

from e2e_common import TempDir, check, main, parse_json_lines, parse_rfc3339, replay_summary, run, run_ok, standing_alert_ids

HUGE = 800 << 20
MAX_RSS_KIB = 400 << 10  # well below the 800 MB record; the old reader held more than twice the line


def standing(path):
    """Standing alert ids of an alerts file."""
    return standing_alert_ids(obj for _, obj in parse_json_lines(path))


def event(event_id, case, kind, time, data):
    return json.dumps({"specversion": "1.0", "id": event_id, "source": "/e2e", "type": f"hotline.case.{kind}",
                       "subject": case, "time": time, "data": data}) + "\n"


def dead_letters(path):
    return [obj for _, obj in parse_json_lines(path)] if os.path.exists(path) else []


def replay(slawatch, rules, events, folder, name, extra=()):
    alerts = os.path.join(folder, f"{name}.alerts")
    dead = os.path.join(folder, f"{name}.dead")
    completed = run([slawatch, "replay", "--rules", rules, "--events", events, "--alerts", alerts,
                      "--dead-letter", dead, "--until", "2026-03-03T00:00:00Z", *extra])
    return completed, alerts, dead


def test_huge_nul_line(slawatch, rules, folder):
    events = os.path.join(folder, "huge.jsonl")
    with open(events, "wb") as f:
        f.write(event("h-1", "HK-1", "dispatched", "2026-03-02T08:00:00Z", {"department": "water"}).encode())
        start = f.tell()
        f.truncate(start + HUGE)  # sparse: 800 MB of NUL bytes
        f.seek(start + HUGE)
        f.write(b"\n")
        f.write(event("h-2", "HK-2", "dispatched", "2026-03-02T08:00:00Z", {"department": "roads"}).encode())
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    completed, alerts, dead = replay(slawatch, rules, events, folder, "huge",
                                     ["--state", os.path.join(folder, "huge.state")])
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    check(completed.returncode == 0, f"huge line: exit {completed.returncode}: {completed.stderr_text[-1000:]}")
    summary = replay_summary(completed.stderr_text)
    check(summary == (3, 2, 0, 1), f"huge line: expected 3 records, 2 applied, 1 dead-lettered, got {summary}")
    letters = dead_letters(dead)
    check(len(letters) == 1, f"huge line: expected one dead letter, got {len(letters)}")
    letter = letters[0]
    check(letter["reason"] == f"record too large ({HUGE} bytes, limit 1048576); the dead letter keeps its first "
                              "4096 bytes", f"huge line: reason {letter['reason']!r}")
    check(letter["original_size"] == HUGE and letter["original"] == "\0" * 4096,
          "huge line: the dead letter must carry the size and the first 4096 bytes")
    check(letter["origin"].endswith("huge.jsonl:2"), f"huge line: origin {letter['origin']!r}")
    check(any(a.startswith("HK-2/") for a in standing(alerts)),
          "huge line: the event after the huge line was not applied")
    check(max(rss, before) < MAX_RSS_KIB, f"huge line: peak memory {rss} KiB")
    # The same file through stdin with a smaller limit.
    with open(events, "rb") as stdin:
        piped = subprocess.run([slawatch, "replay", "--rules", rules, "--events", "-", "--alerts", os.devnull,
                                "--max-record-bytes", "4096", "--dead-letter", os.path.join(folder, "pipe.dead")],
                               stdin=stdin, capture_output=True, timeout=300)
    check(piped.returncode == 0, f"huge line on stdin: exit {piped.returncode}")
    check(replay_summary(piped.stderr.decode()) == (3, 2, 0, 1), "huge line on stdin: wrong summary")


def test_conflicting_duplicates(slawatch, rules, folder):
    dispatch = event("d-1", "HK-7", "dispatched", "2026-03-02T08:00:00Z", {"department": "water"})
    # Same id, other content: acknowledged in time in one version, never in the other.
    first = event("a-1", "HK-7", "acknowledged", "2026-03-02T08:10:00Z", {"department": "water"})
    second = event("a-1", "HK-7", "acknowledged", "2026-03-02T09:50:00Z", {"department": "water"})
    outcomes = []
    for name, order in (("ab", [dispatch, first, second]), ("ba", [dispatch, second, first])):
        events = os.path.join(folder, f"dup-{name}.jsonl")
        with open(events, "w") as f:
            f.writelines(order)
        completed, alerts, dead = replay(slawatch, rules, events, folder, f"dup-{name}")
        check(completed.returncode == 0, f"duplicates {name}: exit {completed.returncode}")
        letters = dead_letters(dead)
        check(len(letters) == 1 and letters[0]["reason"].startswith("conflicting duplicate: event id a-1"),
              f"duplicates {name}: expected one conflicting_duplicate dead letter, got {letters}")
        loser = json.loads(letters[0]["original"])
        outcomes.append((sorted(standing(alerts)), parse_rfc3339(loser["time"])))
    check(outcomes[0] == outcomes[1], f"conflicting duplicates depend on arrival order: {outcomes}")


def test_rejected_fields(slawatch, rules, folder):
    events = os.path.join(folder, "fields.jsonl")
    with open(events, "w") as f:
        f.write(event("y-1", "HK-8", "dispatched", "0001-03-02T08:00:00Z", {"department": "water"}))
        f.write(event("y-2", "HK-8", "dispatched", "2026-03-02T08:00:00Z", {"department": "x" * 2048}))
        f.write(event("y-3", "HK-8", "dispatched", "2026-03-02T08:00:00Z", {"department": "x" * 128}))
    completed, _, dead = replay(slawatch, rules, events, folder, "fields")
    check(completed.returncode == 0, f"fields: exit {completed.returncode}")
    reasons = [letter["reason"] for letter in dead_letters(dead)]
    check(reasons == ["field 'time': '0001-03-02T08:00:00Z' is outside the supported range (years 1900 to 2399)",
                      "field 'data.department': longer than 128 bytes (2048)"], f"fields: reasons {reasons}")


def test_rules_check(slawatch, folder):
    rules = os.path.join(folder, "rules")
    os.makedirs(rules)
    stages = "".join(f"  - {{name: s{i}, after: {i + 1}m, severity: minor}}\n" for i in range(21))
    with open(os.path.join(rules, "many.yaml"), "w") as f:
        f.write("id: many\nkind: deadline\ntitle: t\nstart: [dispatched]\nstop: [acknowledged]\ntarget: 30m\n"
                "stages:\n" + stages)
    completed = run([slawatch, "rules", "check", rules])
    check(completed.returncode == 1, "21 stages: expected exit 1")
    check(f"{rules}/many.yaml:28:5: more than 20 stages in one rule" in completed.stderr_text,
          f"21 stages: {completed.stderr_text}")
    os.remove(os.path.join(rules, "many.yaml"))
    with open(os.path.join(rules, "ok.yaml"), "w") as f:
        f.write("id: ok\nkind: deadline\ntitle: t\nstart: [dispatched]\nstop: [acknowledged]\ntarget: 30m\n"
                "calendar: mondays\nstages:\n  - {name: breach, at: 100%, severity: major}\n")
    mondays = ", ".join(f"2027-{m:02d}-{d:02d}" for m, d in monday_dates(2027))
    with open(os.path.join(rules, "mondays.yaml"), "w") as f:
        f.write("kind: calendar\nid: mondays\ntime_zone: UTC\nworking_hours: ['09:00-17:00']\n"
                f"working_days: [mon]\nholidays: [{mondays}]\n")
    completed = run([slawatch, "rules", "check", rules])
    check(completed.returncode == 0, f"calendar warning: expected exit 0, got {completed.stderr_text}")
    check("warning: calendar 'mondays' has no working time in 2027" in completed.stderr_text,
          f"calendar warning missing: {completed.stderr_text}")
    os.symlink("loop-b.yaml", os.path.join(rules, "loop-a.yaml"))
    os.symlink("loop-a.yaml", os.path.join(rules, "loop-b.yaml"))
    completed = run([slawatch, "rules", "check", rules])
    check(completed.returncode == 1 and "loop-a.yaml: symlink loop" in completed.stderr_text,
          f"symlink loop: {completed.stderr_text}")


def monday_dates(year):
    import datetime
    day = datetime.date(year, 1, 1)
    while day.weekday() != 0:
        day += datetime.timedelta(days=1)
    while day.year == year:
        yield day.month, day.day
        day += datetime.timedelta(days=7)


def test(argv):
    slawatch, rules = argv[0], argv[1]
    with TempDir("hostile") as folder:
        test_huge_nul_line(slawatch, rules, folder)
        test_conflicting_duplicates(slawatch, rules, folder)
        test_rejected_fields(slawatch, rules, folder)
        test_rules_check(slawatch, folder)


if __name__ == "__main__":
    main(test)
