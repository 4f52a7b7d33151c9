"""Audit log (issue 5): `slawatch replay --audit` on a simulated hotline writes
a hash-chained log of the rule set and every delivered alert; `slawatch audit
verify` says OK, and after each kind of tampering (altered payload, altered
hash, entry removed from the middle or the end, entries reordered, an entry
inserted, a torn tail) exits 1 naming the first entry that is wrong. A rerun
cuts a torn tail off and continues the chain.

usage: audit.py SLAWATCH RULES_DIR
"""
import hashlib
import json
import os
import re
import signal
import subprocess
import time

from e2e_common import TempDir, check, main, parse_json_lines, read_lines, run, run_ok

OK_RE = re.compile(r"^audit OK: (\d+) entries, head ([0-9a-f]{64}) \(seq (\d+)\)")


def verify(slawatch, log, *extra):
    return run([slawatch, "audit", "verify", "--log", log, *extra])


def verify_ok(slawatch, log, *extra):
    completed = verify(slawatch, log, *extra)
    check(completed.returncode == 0, f"verify {extra}: expected exit 0, got {completed.returncode}: "
                                     f"{completed.stdout_text}{completed.stderr_text}")
    found = OK_RE.match(completed.stdout_text)
    check(found, f"verify printed {completed.stdout_text!r}, not 'audit OK: N entries, head H (seq N)'")
    return int(found.group(1)), found.group(2)


def write_lines(path, lines, tail=b""):
    with open(path, "wb") as f:
        f.write(b"".join(line + b"\n" for line in lines) + tail)


def expect_caught(slawatch, log, what, lines, tail, line_no, seq, words, *extra):
    """Writes the tampered copy and expects verify to exit 1 naming `line_no` (and `seq`)."""
    tampered = log + "." + re.sub(r"[^a-z]+", "-", what)
    write_lines(tampered, lines, tail)
    completed = verify(slawatch, tampered, *extra)
    out = completed.stdout_text
    check(completed.returncode == 1, f"{what}: expected exit 1, got {completed.returncode}: {out}"
                                     f"{completed.stderr_text}")
    named = f"line {line_no}" + (f" (seq {seq})" if seq is not None else "")
    check(f": {named}: " in out, f"{what}: expected the report to name {named!r}: {out!r}")
    for word in words:
        check(word in out, f"{what}: expected {word!r} in {out!r}")
    print(f"{what}: {out.strip()}")


def rehash(line):
    """The entry with its hash recomputed (a tamperer who knows the format)."""
    at = line.rindex(b',"hash":"')
    body = line[:at]
    return body + b',"hash":"' + hashlib.sha256(body).hexdigest().encode() + b'"}'


def test(argv):
    check(len(argv) == 2, "usage: audit.py SLAWATCH RULES_DIR")
    slawatch, rules = os.path.abspath(argv[0]), os.path.abspath(argv[1])
    with TempDir("audit") as work:
        events = os.path.join(work, "events.jsonl")
        run_ok([slawatch, "simulate", "--cases", "400", "--span", "12h", "--seed", "5", "--late", "0.05",
                "--out", events], "simulate")
        alerts = os.path.join(work, "alerts.jsonl")
        log = os.path.join(work, "audit.jsonl")
        state = os.path.join(work, "state")
        replay = [slawatch, "replay", "--rules", rules, "--events", events, "--until", "2026-03-04T00:00:00Z",
                  "--alerts", alerts, "--state", state, "--batch", "200", "--audit", log, "--quiet"]
        run_ok(replay, "replay --audit")

        # The log holds the rule set, then exactly the delivered alerts with their bytes.
        entries = parse_json_lines(log)
        delivered = read_lines(alerts)
        check(len(delivered) > 50, f"only {len(delivered)} alerts: the simulation should breach more")
        check(entries[0][1]["kind"] == "rules.loaded", f"first entry is {entries[0][1]['kind']}, not rules.loaded")
        check(len(entries) == len(delivered) + 1, f"{len(entries)} audit entries for {len(delivered)} alerts")
        kinds = set()
        for (line, entry), alert in zip(entries[1:], delivered):
            check(line.endswith(b'"cloudevent":' + alert + b'},"prev":"' + entry["prev"].encode() + b'","hash":"' +
                                entry["hash"].encode() + b'"}'),
                  f"audit seq {entry['seq']} does not carry the delivered alert's exact bytes")
            alert_obj = json.loads(alert)
            check(entry["kind"] == alert_obj["type"].removeprefix("slawatch."), f"kind {entry['kind']}")
            check(entry["payload"]["alert_id"] == alert_obj["data"]["alert_id"], "alert_id differs")
            kinds.add(entry["kind"])
        check({"alert.fired", "alert.resolved"} <= kinds, f"kinds seen: {kinds}")
        count, head = verify_ok(slawatch, log)
        check(count == len(entries), f"verify counted {count} entries, the file has {len(entries)}")
        with open(log + ".head", encoding="utf-8") as f:
            check(json.load(f) == {"seq": count, "hash": head}, "the head file does not name the last entry")
        verify_ok(slawatch, log, "--head-file", log + ".head")
        verify_ok(slawatch, log, "--expect-head", head)
        check(verify(slawatch, log, "--expect-head", "abc").returncode == 2, "a malformed --expect-head is not usage")
        check(verify(slawatch, log + ".missing").returncode == 1, "a missing log does not exit 1")
        print(f"replay --audit: {count} entries ({sorted(kinds)}), verify OK, head {head}")

        # Resuming the durable replay with the same rules does not record them again.
        run_ok(replay, "replay --audit (resumed)")
        check(verify_ok(slawatch, log)[0] == count, "a resumed run with the same rules added entries")

        lines = [line for line, _ in entries]
        n = len(lines)

        altered = list(lines)
        altered[9] = altered[9].replace(b'"severity":"', b'"severity":"x', 1)
        check(altered[9] != lines[9], "no severity in line 10 to alter")
        expect_caught(slawatch, log, "altered payload", altered, b"", 10, 10, ["altered"])

        altered = list(lines)
        altered[14] = altered[14][:-3] + (b"0" if altered[14][-3:-2] != b"0" else b"1") + b'"}'
        expect_caught(slawatch, log, "altered hash", altered, b"", 15, 15, ["altered"])

        rehashed = list(lines)
        rehashed[19] = rehash(rehashed[19].replace(b'"severity":"', b'"severity":"x', 1))
        expect_caught(slawatch, log, "altered and rehashed", rehashed, b"", 20, 20, ["altered or replaced"])

        expect_caught(slawatch, log, "removed middle", lines[:24] + lines[25:], b"", 25, 26,
                      ["removed", "seq 25 missing"])

        # Removing the last entry keeps a valid chain: only an anchor shows it.
        shortened = log + ".removed-last"
        write_lines(shortened, lines[:-1])
        verify_ok(slawatch, shortened)
        expect_caught(slawatch, log, "removed last", lines[:-1], b"", n - 1, n - 1, ["removed"],
                      "--head-file", log + ".head")
        expect_caught(slawatch, log, "removed last, expected head", lines[:-1], b"", n - 1, n - 1, ["removed"],
                      "--expect-head", head)

        reordered = list(lines)
        reordered[29], reordered[30] = reordered[30], reordered[29]
        expect_caught(slawatch, log, "reordered", reordered, b"", 30, 31, ["reordered", "line 31 (seq 30)"])

        expect_caught(slawatch, log, "inserted copy", lines[:35] + [lines[4]] + lines[35:], b"", 36, 5,
                      ["inserted", "copy of line 5"])

        forged_body = (b'{"seq":41,"time":null,"kind":"alert.retracted","payload":{"alert_id":"forged"},"prev":"' +
                       entries[39][1]["hash"].encode() + b'"')
        forged = rehash(forged_body + b',"hash":"' + b"0" * 64 + b'"}')
        expect_caught(slawatch, log, "inserted forged", lines[:40] + [forged] + lines[40:], b"", 41, 41,
                      ["inserted", "line 42 (seq 41) chains to line 40"])

        torn_tail = lines[n - 1][:57]
        expect_caught(slawatch, log, "torn tail", lines[:-1], torn_tail, n, None, ["torn entry"])

        # A crash mid-append: the next run cuts the torn entry off and continues the chain.
        write_lines(log, lines, b'{"seq":' + str(n + 1).encode() + b',"time":"2026-03-0')
        completed = run_ok([slawatch, "replay", "--rules", rules, "--events", events, "--alerts",
                            os.path.join(work, "again.jsonl"), "--audit", log, "--quiet"], "replay after a torn tail")
        check("cut off a torn trailing entry at line " + str(n + 1) in completed.stderr_text,
              f"no notice of the torn tail: {completed.stderr_text!r}")
        again = verify_ok(slawatch, log)[0]
        check(again > n, f"the chain did not continue after the cut: {again} entries")
        check(parse_json_lines(log)[n][1]["prev"] == head, "the first entry after the cut does not chain to the head")
        print(f"torn tail cut on reopen; chain continued to {again} entries")
        forged_after_head(slawatch, rules, events, work, log)
        crash_and_resume(slawatch, rules, work)


def forged_after_head(slawatch, rules, events, work, log):
    """An entry appended with a correctly recomputed hash passes the chain but not
    the head: verify with the head fails and the writer refuses, leaving the log
    as found. A log cut short with its head deleted is refused unless accepted."""
    entries = parse_json_lines(log)
    lines = [line for line, _ in entries]
    last = entries[-1][1]
    forged = rehash(b'{"seq":' + str(last["seq"] + 1).encode() +
                    b',"time":null,"kind":"alert.retracted","payload":{"alert_id":"forged"},"prev":"' +
                    last["hash"].encode() + b'","hash":"' + b"0" * 64 + b'"}')
    write_lines(log, lines + [forged])
    verify_ok(slawatch, log)  # the chain alone cannot tell
    for anchor in (["--head-file", log + ".head"], ["--expect-head", last["hash"]]):
        completed = verify(slawatch, log, *anchor)
        check(completed.returncode == 1 and "appended after the anchored head" in completed.stdout_text,
              f"verify {anchor[0]} passed a forged appended entry: {completed.stdout_text}")
    with open(log, "rb") as f:
        tampered = f.read()
    replay = [slawatch, "replay", "--rules", rules, "--events", events, "--alerts", os.path.join(work, "forged.jsonl"),
              "--audit", log, "--quiet"]
    completed = run(replay)
    check(completed.returncode == 1 and "appended after the anchored head" in completed.stderr_text,
          f"replay --audit adopted a forged entry: exit {completed.returncode}: {completed.stderr_text}")
    with open(log, "rb") as f:
        check(f.read() == tampered, "replay --audit changed a log it refused")
    print(f"forged entry after the head: verify and replay --audit refuse it")

    write_lines(log, lines[:-1])
    os.remove(log + ".head")
    completed = run(replay)
    check(completed.returncode == 1 and "no head file" in completed.stderr_text,
          f"replay --audit accepted a log cut short with its head deleted: {completed.stderr_text}")
    run_ok(replay + ["--audit-accept-missing-head"], "replay --audit-accept-missing-head")
    verify_ok(slawatch, log, "--head-file", log + ".head")
    print("log cut short, head deleted: refused; accepted with --audit-accept-missing-head")


def crash_and_resume(slawatch, rules, work):
    """SIGKILL a durable replay while it appends, rerun it: the chain verifies, and
    the log deduplicated by (alert_id, kind) is exactly the delivered alerts."""
    events = os.path.join(work, "crash-events.jsonl")
    run_ok([slawatch, "simulate", "--cases", "6000", "--span", "48h", "--seed", "9", "--out", events], "simulate")
    alerts = os.path.join(work, "crash-alerts.jsonl")
    log = os.path.join(work, "crash-audit.jsonl")
    command = [slawatch, "replay", "--rules", rules, "--events", events, "--alerts", alerts, "--batch", "20",
               "--state", os.path.join(work, "crash-state"), "--audit", log, "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        if os.path.exists(log) and os.path.getsize(log) > 200_000:
            break
        time.sleep(0.01)
    killed = process.poll() is None
    if killed:
        process.send_signal(signal.SIGKILL)
    process.wait()
    run_ok(command, "replay resumed after SIGKILL")
    verify_ok(slawatch, log)
    audited = [entry for _, entry in parse_json_lines(log) if entry["kind"].startswith("alert.")]
    pairs = {(e["payload"]["alert_id"], e["kind"]) for e in audited}
    delivered = {(a["data"]["alert_id"], a["type"].removeprefix("slawatch.")) for _, a in parse_json_lines(alerts)}
    check(pairs == delivered, f"audit and delivered alerts differ: {len(pairs ^ delivered)} (alert_id, kind) pairs")
    rules_loaded = sum(1 for _, e in parse_json_lines(log) if e["kind"] == "rules.loaded")
    check(rules_loaded == 1, f"rules.loaded recorded {rules_loaded} times for one rule set")
    print(f"SIGKILL {'mid-run' if killed else '(run had already finished)'}, resumed: chain OK, "
          f"{len(audited)} alert entries, {len(audited) - len(pairs)} repeated with the same alert_id")


if __name__ == "__main__":
    main(test)
