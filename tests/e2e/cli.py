"""Command line (contract section 5): `rules check` diagnostics with
file:line:column, and exit codes 0 ok, 1 bad input/rules/config, 2 usage.

usage: cli.py SLAWATCH RULES_DIR EXAMPLE_DIR
"""
import os
import re

from e2e_common import TempDir, check, main, run, run_ok

RULE_HEAD = "kind: deadline\ntitle: A test rule\n"
RULE_TAIL = ("calendar: always\n"
             "stages:\n"
             "  - {name: breach, at: 100%, severity: major, notify: [department.head]}\n")

# file name -> (content, line of the mistake, words the message must contain)
BROKEN_RULES = {
    "unknown-key.yaml": ("id: unknown-key\n" + RULE_HEAD +                     # lines 1-3
                         "colour: red\n"                                       # line 4
                         "start: [dispatched]\nstop: [acknowledged]\ntarget: 30m\n" + RULE_TAIL,
                         4, ["colour"]),
    "bad-duration.yaml": ("id: bad-duration\n" + RULE_HEAD +
                          "start: [dispatched]\nstop: [acknowledged]\n"
                          "target: 30 minutes\n" + RULE_TAIL,                  # line 6
                          6, []),
    "unknown-event.yaml": ("id: unknown-event\n" + RULE_HEAD +
                           "start: [dispatched]\n"
                           "stop: [acknowledged, teleported]\n"                # line 5
                           "target: 30m\n" + RULE_TAIL,
                           5, ["teleported"]),
    "dup-a.yaml": ("id: same-id\n" + RULE_HEAD +
                   "start: [dispatched]\nstop: [acknowledged]\ntarget: 30m\n" + RULE_TAIL, 1, []),
    "dup-b.yaml": ("id: same-id\n" + RULE_HEAD +
                   "start: [dispatched]\nstop: [acknowledged]\ntarget: 45m\n" + RULE_TAIL, 1, []),
}


def expect_exit(args, code, what, **kwargs):
    completed = run(args, **kwargs)
    check(completed.returncode == code,
          f"{what}: expected exit {code}, got {completed.returncode}\n  command: {' '.join(args)}\n"
          f"  stderr: {completed.stderr_text[-1500:]}")
    return completed


def test(argv):
    check(len(argv) == 3, "usage: cli.py SLAWATCH RULES_DIR EXAMPLE_DIR")
    slawatch, rules, example = os.path.abspath(argv[0]), os.path.abspath(argv[1]), os.path.abspath(argv[2])
    events = os.path.join(example, "events.jsonl")

    shipped = run_ok([slawatch, "rules", "check", rules], "rules check on the shipped rules")
    check("rules OK" in shipped.stdout_text, f"rules check printed no 'rules OK' line: {shipped.stdout_text!r}")
    print(f"shipped rules: {shipped.stdout_text.strip()}")

    with TempDir("cli") as work:
        bad = os.path.join(work, "bad-rules")
        os.mkdir(bad)
        for name, (content, _, _) in BROKEN_RULES.items():
            with open(os.path.join(bad, name), "w", encoding="utf-8") as f:
                f.write(content)
        checked = expect_exit([slawatch, "rules", "check", bad], 1, "rules check on broken rules")
        diagnostics = checked.stderr_text.splitlines()
        for name, (_, line, words) in BROKEN_RULES.items():
            if name.startswith("dup-"):
                continue
            pattern = re.compile(re.escape(name) + rf":{line}:(\d+): ")
            found = [d for d in diagnostics if pattern.search(d) and int(pattern.search(d).group(1)) >= 1]
            check(found, f"rules check names no '{name}:{line}:COLUMN' error; stderr:\n{checked.stderr_text}")
            for word in words:
                check(any(word in d for d in found), f"the error for {name} does not mention '{word}': {found}")
        duplicate = [d for d in diagnostics
                     if re.search(r"dup-[ab]\.yaml:1:\d+: ", d) and "duplicate" in d and "same-id" in d]
        check(duplicate, f"rules check names no duplicate id 'same-id' at dup-?.yaml:1:COLUMN; stderr:\n"
                         f"{checked.stderr_text}")
        print("broken rules: each mistake named with file:line:column")

        expect_exit([slawatch, "replay", "--rules", bad, "--events", events, "--alerts",
                     os.path.join(work, "a.jsonl")], 1, "replay with broken rules")
        expect_exit([slawatch, "rules", "check", os.path.join(work, "no-such-rules")], 1,
                    "rules check on a missing path")

        expect_exit([slawatch, "replay", "--events", events], 2, "replay without --rules")
        expect_exit([slawatch, "replay", "--rules", rules, "--events", events, "--no-such-option"], 2,
                    "replay with an unknown option")
        expect_exit([slawatch], 2, "no command")
        expect_exit([slawatch, "frobnicate"], 2, "unknown command")
        expect_exit([slawatch, "replay", "--rules", rules, "--events", events, "--batch", "0"], 2,
                    "replay with --batch 0")
        for until in ("yesterday", "2026-03-04", "2026-03-04T00:00:00", "2026-02-30T00:00:00+08:00"):
            expect_exit([slawatch, "replay", "--rules", rules, "--events", events, "--until", until,
                         "--alerts", os.path.join(work, "a.jsonl")], 2, f"replay with --until {until!r}")
        expect_exit([slawatch, "replay", "--rules", rules, "--events", os.path.join(work, "missing.jsonl"),
                     "--alerts", os.path.join(work, "a.jsonl")], 1, "replay with a missing events file")
        print("exit codes: 2 for usage, 1 for bad rules and missing input")


if __name__ == "__main__":
    main(test)
