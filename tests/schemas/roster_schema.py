"""schemas/roster.schema.json: the shipped config/roster.yaml validates, and
invalid rosters (an empty rotation, a misspelt key, a bad handover) do not.

usage: roster_schema.py PROJECT_SOURCE_DIR
"""
import json
import os
import sys

import jsonschema
import yaml

INVALID = {
    "empty rotation": """
city: {hotline_office: Hu Min}
departments:
  - {id: water, duty_officers: {order: []}}
""",
    "misspelt key and bad handover": """
defaults: {handover: "25:00"}
city: {hotline_office: Hu Min}
departments:
  - {id: water, haed: Liu Jun}
""",
    "period with both person and shifts": """
city: {hotline_office: {order: [A], periods: [{from: 2026-02-15, to: 2026-02-16, person: B, shifts: [{from: 2026-02-15, to: 2026-02-16, person: C}]}]}}
departments: [{id: water, head: H}]
""",
}


def main(root):
    with open(os.path.join(root, "schemas", "roster.schema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    # BaseLoader keeps every scalar a string (as slawatch reads them), so 2026-01-05 stays a date text.
    with open(os.path.join(root, "config", "roster.yaml"), encoding="utf-8") as f:
        shipped = yaml.load(f, Loader=yaml.BaseLoader)
    errors = sorted(validator.iter_errors(shipped), key=str)
    if errors:
        print(f"FAIL: config/roster.yaml does not match the schema: {errors[0].message} at {list(errors[0].path)}")
        return 1
    if len(shipped["departments"]) != 91:
        print(f"FAIL: expected 91 departments, got {len(shipped['departments'])}")
        return 1
    failed = 0
    for name, text in INVALID.items():
        if validator.is_valid(yaml.load(text, Loader=yaml.BaseLoader)):
            print(f"FAIL: invalid sample '{name}' passes the schema")
            failed += 1
    passed = 1 + len(INVALID) - failed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
