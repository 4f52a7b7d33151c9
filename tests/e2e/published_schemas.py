"""Published formats: every record slawatch reads and writes in the e2e runs
here matches the JSON Schemas in schemas/, and the AsyncAPI document names
the topics, keys and headers slawatch uses.

- simulated case events (late, reordered, duplicated, malformed) and the
  conformance examples: every event slawatch accepts matches
  case-event.schema.json, and in Kafka binary mode case-event-binary; every
  record it dead-letters for its content fails the schema too;
- the alerts (fired, resolved, retracted) and dead letters of replaying them
  match alert.schema.json and dead-letter.schema.json;
- schemas/asyncapi.yaml is AsyncAPI 3.0.0, its channels are the topics of
  config/kafka.yaml, and every schema file it refers to exists.

usage: published_schemas.py SLAWATCH RULES_DIR PROJECT_DIR SHARED_DIR
"""
import json
import os

import jsonschema
import yaml

from e2e_common import TempDir, check, main, parse_json_lines, read_lines, run_ok
from schemas_common import Schemas, binary_mode

# Dead-letter reasons a schema cannot see: the bytes are a well-formed event.
NOT_SCHEMA_REASONS = ("record too large", "has reached its event limit")
# Real calendar dates are the date-time format's to check, which needs a
# validator package the Python at hand may lack (then only the shape is checked).
if "date-time" not in jsonschema.FormatChecker().checkers:
    NOT_SCHEMA_REASONS += ("field 'time': bad time",)


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def check_asyncapi(project, schemas):
    with open(os.path.join(project, "schemas", "asyncapi.yaml"), encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    check(doc.get("asyncapi") == "3.0.0", f"asyncapi version {doc.get('asyncapi')!r}")
    with open(os.path.join(project, "config", "kafka.yaml"), encoding="utf-8") as f:
        topics = yaml.safe_load(f)["kafka"]["topics"]
    addresses = {name: channel["address"] for name, channel in doc["channels"].items()}
    check(addresses == {"caseEvents": topics["events"], "alerts": topics["alerts"],
                        "deadLetters": topics["dead_letter"]},
          f"AsyncAPI channels {addresses} are not the topics of config/kafka.yaml {topics}")
    for ref in refs(doc):
        target, _, pointer = ref.partition("#")
        if target:
            check(os.path.exists(os.path.join(project, "schemas", target)), f"AsyncAPI refers to missing {target}")
            node = schemas.schema(target)
        else:
            node = doc
        for part in [p for p in pointer.split("/") if p]:
            check(isinstance(node, dict) and part in node, f"AsyncAPI reference {ref} does not resolve")
            node = node[part]
    for name in ("alertStructured", "caseEventStructured"):
        check(doc["components"]["messages"][name]["contentType"] == "application/cloudevents+json",
              f"{name}: structured mode is application/cloudevents+json")


def check_events(schemas, events_path, dead_path, where):
    """Accepted events match (structured and binary mode); content rejects do not."""
    rejected = {}
    for _, letter in parse_json_lines(dead_path):
        schemas.check("dead-letter", letter, f"{where}: dead letter")
        if "original" in letter:
            rejected[letter["origin"]] = letter
    accepted = 0
    for number, line in enumerate(read_lines(events_path), start=1):
        origin = f"{events_path}:{number}"
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        letter = rejected.get(origin)
        if letter is None:
            schemas.check("case-event", obj, f"{where}: accepted event {origin}")
            schemas.check("case-event-binary", binary_mode(obj), f"{where}: accepted event {origin} in binary mode")
            accepted += 1
        elif not letter["reason"].startswith(NOT_SCHEMA_REASONS) and obj is not None:
            check(schemas.errors("case-event", obj),
                  f"{where}: {origin} was dead-lettered ({letter['reason']}) but matches the schema")
    return accepted, len(rejected)


def test(argv):
    check(len(argv) == 4, "usage: published_schemas.py SLAWATCH RULES_DIR PROJECT_DIR SHARED_DIR")
    slawatch, rules, project, shared = (os.path.abspath(a) for a in argv)
    schemas = Schemas(os.path.join(project, "schemas"))
    check_asyncapi(project, schemas)
    with TempDir("schemas") as work:
        runs = []
        events = os.path.join(work, "events.jsonl")
        run_ok([slawatch, "simulate", "--seed", "77", "--cases", "800", "--span", "48h", "--out", events,
                "--late", "0.05", "--reorder", "0.05", "--duplicates", "0.02", "--malformed", "0.02"], "simulate")
        runs.append(("simulated", events, rules))
        examples = os.path.join(shared, "spec", "examples")
        if not os.path.isdir(examples):
            print(f"note: no conformance examples at {examples} (a worktree outside the project folder)")
        for name in sorted(os.listdir(examples)) if os.path.isdir(examples) else []:
            example = os.path.join(examples, name)
            if os.path.exists(os.path.join(example, "events.jsonl")):
                runs.append((f"example {name}", os.path.join(example, "events.jsonl"), os.path.join(example, "rules")))
        kinds = set()
        for where, events_path, rules_path in runs:
            alerts, dead = os.path.join(work, "alerts.jsonl"), os.path.join(work, "dead.jsonl")
            for path in (alerts, dead):
                if os.path.exists(path):
                    os.remove(path)
            run_ok([slawatch, "replay", "--rules", rules_path, "--events", events_path, "--alerts", alerts,
                    "--dead-letter", dead, "--until", "2027-01-01T00:00:00Z"], f"replay of {where}")
            open(dead, "a").close()
            accepted, dead_count = check_events(schemas, events_path, dead, where)
            alert_count = 0
            for number, (_, alert) in enumerate(parse_json_lines(alerts), start=1):
                schemas.check("alert", alert, f"{where}: alert line {number}")
                kinds.add(alert["type"])
                alert_count += 1
            print(f"{where}: {accepted} events, {alert_count} alerts, {dead_count} dead letters match")
        check(kinds == {"slawatch.alert.fired", "slawatch.alert.resolved", "slawatch.alert.retracted"},
              f"the runs produced only {sorted(kinds)}; every alert type should be checked")


if __name__ == "__main__":
    main(test)
