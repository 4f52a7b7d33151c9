"""Order independence (contract section 3) through the real binary: the same
events replayed in arrival order, shuffled and reversed leave the same set of
fired-and-not-retracted alerts at the same final clock (--until).

usage: order_independence.py SLAWATCH RULES_DIR [CASES]
"""
import os
import random
from datetime import timedelta

from e2e_common import (TempDir, check, event_times, main, parse_json_lines, read_lines, run_ok,
                        standing_alert_ids)

SHUFFLE_SEED = 1234


def replay(slawatch, rules, events, until, alerts):
    completed = run_ok([slawatch, "replay", "--rules", rules, "--events", events, "--until", until,
                        "--alerts", alerts, "--quiet"], f"replay of {os.path.basename(events)}")
    return standing_alert_ids(obj for _, obj in parse_json_lines(alerts)), completed


def test(argv):
    check(len(argv) in (2, 3), "usage: order_independence.py SLAWATCH RULES_DIR [CASES]")
    slawatch, rules = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    cases = argv[2] if len(argv) == 3 else "3000"
    with TempDir("order") as work:
        in_order = os.path.join(work, "in-order.jsonl")
        run_ok([slawatch, "simulate", "--seed", "99", "--cases", cases, "--span", "24h", "--out", in_order,
                "--late", "0.05", "--reorder", "0.05", "--duplicates", "0.02", "--malformed", "0.005"],
               "simulate")
        lines = read_lines(in_order)
        last_event = max(event_times(in_order))
        # The final clock: two days after the last event's day starts, whatever order the events come in.
        until_time = last_event.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=2)
        until = until_time.isoformat(timespec="milliseconds")

        shuffled_lines = list(lines)
        random.Random(SHUFFLE_SEED).shuffle(shuffled_lines)
        check(shuffled_lines != lines, "the shuffle left the events in order")
        variants = {"shuffled": shuffled_lines, "reversed": list(reversed(lines))}

        reference, _ = replay(slawatch, rules, in_order, until, os.path.join(work, "alerts-in-order.jsonl"))
        check(reference, "the in-order replay fired no alerts, so order independence is not exercised")
        print(f"in order: {len(lines)} records, {len(reference)} standing alerts at --until {until}")
        for name, variant_lines in variants.items():
            path = os.path.join(work, f"{name}.jsonl")
            with open(path, "wb") as f:
                f.write(b"\n".join(variant_lines) + b"\n")
            standing, completed = replay(slawatch, rules, path, until, os.path.join(work, f"alerts-{name}.jsonl"))
            missing, extra = sorted(reference - standing), sorted(standing - reference)
            check(not missing and not extra,
                  f"{name} input: standing alerts differ from the in-order replay: {len(missing)} missing "
                  f"{missing[:10]}, {len(extra)} extra {extra[:10]}")
            print(f"{name}: the same {len(standing)} standing alerts")


if __name__ == "__main__":
    main(test)
