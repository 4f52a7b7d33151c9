"""Conformance: every folder in spec/examples/ that has an expected-standing.txt
is replayed exactly as its README says, and the standing alerts, dead letters,
retractions and alert format are checked against the contract.

usage: conformance.py SLAWATCH EXAMPLES_DIR
"""
import json
import os
import re

from e2e_common import (TempDir, check, check_alert_cloudevent, main, parse_json_lines, read_lines,
                        replay_summary, run_ok, standing_alert_ids)

NUMBER_WORDS = {"no": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10}


def replay_command(readme_path):
    """The `slawatch replay ...` command of the example's README, as a list of words."""
    with open(readme_path, encoding="utf-8") as f:
        text = f.read()
    found = re.search(r"^\s*slawatch (replay .*)$", text.replace("\\\n", " "), re.MULTILINE)
    check(found is not None, f"{readme_path}: no 'slawatch replay' command found")
    return found.group(1).split(), text


def option(words, name):
    return words[words.index(name) + 1] if name in words else None


def expected_dead_letter_count(readme_text):
    found = re.search(r"(\w+) malformed lines", readme_text)
    if not found:
        return None
    word = found.group(1).lower()
    return int(word) if word.isdigit() else NUMBER_WORDS.get(word)


def run_example(slawatch, example_dir, out_dir, words):
    """Runs the README's command in the example folder with the outputs redirected to out_dir."""
    words = list(words)
    alerts = os.path.join(out_dir, "alerts.jsonl")
    dead = os.path.join(out_dir, "dead.jsonl")
    words[words.index("--alerts") + 1] = alerts
    words[words.index("--dead-letter") + 1] = dead
    completed = run_ok([slawatch] + words, f"replay in {example_dir}", cwd=example_dir)
    return alerts, dead, completed


def check_example(slawatch, example_dir):
    name = os.path.basename(example_dir)
    words, readme_text = replay_command(os.path.join(example_dir, "README.md"))
    check("--alerts" in words and "--dead-letter" in words,
          f"{name}: README command must name --alerts and --dead-letter files")
    events_path = os.path.join(example_dir, option(words, "--events"))
    input_lines = read_lines(events_path)
    expected = {line.decode() for line in read_lines(os.path.join(example_dir, "expected-standing.txt"))
                if line.strip()}

    with TempDir(f"conformance-{name}-a") as first, TempDir(f"conformance-{name}-b") as second:
        alerts_path, dead_path, completed = run_example(slawatch, example_dir, first, words)
        alerts = parse_json_lines(alerts_path)
        for number, (_, obj) in enumerate(alerts, start=1):
            check_alert_cloudevent(obj, f"{name}: alerts line {number}")
        objs = [obj for _, obj in alerts]

        standing = standing_alert_ids(objs)
        missing, extra = sorted(expected - standing), sorted(standing - expected)
        check(not missing and not extra,
              f"{name}: standing alerts differ from expected-standing.txt\n  missing: {missing}\n"
              f"  unexpected: {extra}")
        print(f"{name}: {len(standing)} standing alerts match expected-standing.txt")

        # Dead letters: exactly the malformed lines, with their original bytes.
        dead = parse_json_lines(dead_path)
        originals = []
        for number, (_, obj) in enumerate(dead, start=1):
            check("original" in obj, f"{name}: dead letter {number} has no 'original' field: {obj}")
            check(isinstance(obj.get("reason"), str) and obj["reason"],
                  f"{name}: dead letter {number} has no reason")
            originals.append(obj["original"].encode("utf-8"))
        for original in originals:
            check(original in input_lines,
                  f"{name}: dead letter original is not byte-identical to any input line: {original[:200]!r}")
        check(len(set(originals)) == len(originals), f"{name}: a malformed line was dead-lettered twice")
        wanted = expected_dead_letter_count(readme_text)
        if wanted is not None:
            check(len(dead) == wanted, f"{name}: README says {wanted} malformed lines, dead-letter file has "
                                       f"{len(dead)}: {[o[:120] for o in originals]}")
        summary = replay_summary(completed.stderr_text)
        check(summary is not None, f"{name}: no 'replayed N records' summary on stderr")
        check(summary[0] == len(input_lines),
              f"{name}: replayed {summary[0]} records, input has {len(input_lines)} lines")
        check(summary[3] == len(dead), f"{name}: summary says {summary[3]} dead-lettered, file has {len(dead)}")
        print(f"{name}: {len(dead)} dead letters carry their original bytes; summary {summary}")

        if name == "basic":
            check_basic_specifics(objs, summary, originals)

        # Determinism: a second run gives byte-identical output.
        alerts2, dead2, _ = run_example(slawatch, example_dir, second, words)
        for path_a, path_b in ((alerts_path, alerts2), (dead_path, dead2)):
            with open(path_a, "rb") as a, open(path_b, "rb") as b:
                check(a.read() == b.read(), f"{name}: {os.path.basename(path_a)} differs between two runs")

        # The same events on stdin give the same alerts.
        stdin_words = list(words)
        stdin_words[stdin_words.index("--events") + 1] = "-"
        stdin_words[stdin_words.index("--alerts") + 1] = "-"
        stdin_words[stdin_words.index("--dead-letter") + 1] = os.path.join(second, "dead-stdin.jsonl")
        with open(events_path, "rb") as f:
            piped = run_ok([slawatch] + stdin_words, f"{name}: replay from stdin", cwd=example_dir,
                           stdin_bytes=f.read())
        with open(alerts_path, "rb") as f:
            check(piped.stdout == f.read(), f"{name}: alerts from stdin differ from alerts from the file")
        print(f"{name}: deterministic across runs and between file and stdin input")


def is_marked_malformed(line):
    """The basic example's malformed lines: not JSON, or an event id starting 'ex-bad-'."""
    try:
        return json.loads(line).get("id", "").startswith("ex-bad-")
    except ValueError:
        return True


def check_basic_specifics(objs, summary, dead_originals):
    wrong = [o[:200] for o in dead_originals if not is_marked_malformed(o)]
    check(not wrong, f"basic: good events were dead-lettered: {wrong}")
    retracted = [o["data"] for o in objs if o["type"] == "slawatch.alert.retracted"]
    check(retracted, "basic: HK-9's late acknowledgement retracted nothing")
    others = [r["alert_id"] for r in retracted if r["case_id"] != "HK-9"]
    check(not others, f"basic: only HK-9's stages may be retracted, also retracted: {others}")
    hk9_fired = {o["data"]["alert_id"] for o in objs
                 if o["type"] == "slawatch.alert.fired" and o["data"]["case_id"] == "HK-9"}
    hk9_retracted = {r["alert_id"] for r in retracted}
    check(hk9_fired and hk9_fired == hk9_retracted,
          f"basic: HK-9 fired {sorted(hk9_fired)} but retracted {sorted(hk9_retracted)}")
    for r in retracted:
        check(r["event_id"] == "ex-034",
              f"basic: {r['alert_id']} retracted by event {r['event_id']!r}, expected the late ack ex-034")
    hk11_cycles = {o["data"]["cycle"] for o in objs
                   if o["data"]["case_id"] == "HK-11" and o["data"]["rule"] == "first-response"}
    check(hk11_cycles == {1}, f"basic: HK-11 first-response cycles {sorted(hk11_cycles)}, expected only [1]")
    check(summary[2] >= 1, f"basic: the duplicated event ex-039 was not counted as a duplicate: {summary}")
    print(f"basic: HK-9 fired and retracted {sorted(hk9_fired)}; HK-11 has one first-response cycle")


def test(argv):
    check(len(argv) == 2, "usage: conformance.py SLAWATCH EXAMPLES_DIR")
    slawatch, examples_dir = os.path.abspath(argv[0]), argv[1]
    examples = sorted(os.path.join(examples_dir, d) for d in os.listdir(examples_dir)
                      if os.path.isfile(os.path.join(examples_dir, d, "expected-standing.txt")))
    check(examples, f"no example with an expected-standing.txt under {examples_dir}")
    for example_dir in examples:
        check_example(slawatch, example_dir)


if __name__ == "__main__":
    main(test)
