"""schemas/roster.schema.json and `slawatch roster check` agree: the shipped
config/roster.yaml and a minimal roster pass both; invalid rosters (an empty
rotation, a misspelt key and a bad handover, a period with both a person and
shifts), each otherwise complete, fail both.

usage: roster_schema.py PROJECT_SOURCE_DIR SLAWATCH
"""
import json
import os
import subprocess
import sys
import tempfile

import jsonschema
import yaml

DEFAULTS = 'defaults: {time_zone: Asia/Shanghai, handover: "08:30", period: 1d, starts: 2026-01-05}\n'
VALID = DEFAULTS + """
city: {hotline_office: Hu Min, discipline_inspection: {order: [A, B], period: 7d}}
departments:
  - {id: water, head: Liu Jun, duty_officers: {order: [X, Y]}}
"""
INVALID = {
    "empty rotation": DEFAULTS + """
city: {hotline_office: Hu Min}
departments:
  - {id: water, duty_officers: {order: []}}
""",
    "misspelt key and bad handover": """
defaults: {time_zone: Asia/Shanghai, handover: "25:00", period: 1d, starts: 2026-01-05}
city: {hotline_office: Hu Min}
departments:
  - {id: water, haed: Liu Jun}
""",
    "period with both person and shifts": DEFAULTS + """
city: {hotline_office: {order: [A], periods: [{from: 2026-02-15, to: 2026-02-16, person: B, shifts: [{from: 2026-02-15, to: 2026-02-16, person: C}]}]}}
departments: [{id: water, head: H}]
""",
}


def roster_check(slawatch, root, text):
    """Exit code of `slawatch roster check` on the roster text, against the shipped rules."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(text)
    try:
        return subprocess.run([slawatch, "roster", "check", "--roster", f.name, "--rules", os.path.join(root, "rules")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    finally:
        os.unlink(f.name)


def main(root, slawatch):
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
    with open(os.path.join(root, "config", "roster.yaml"), encoding="utf-8") as f:
        shipped_text = f.read()
    failed = 0
    for name, text in {"shipped": shipped_text, "minimal": VALID}.items():
        if not validator.is_valid(yaml.load(text, Loader=yaml.BaseLoader)):
            print(f"FAIL: valid roster '{name}' fails the schema")
            failed += 1
        if roster_check(slawatch, root, text) != 0:
            print(f"FAIL: valid roster '{name}' fails roster check")
            failed += 1
    for name, text in INVALID.items():
        if validator.is_valid(yaml.load(text, Loader=yaml.BaseLoader)):
            print(f"FAIL: invalid sample '{name}' passes the schema")
            failed += 1
        if roster_check(slawatch, root, text) != 1:
            print(f"FAIL: invalid sample '{name}' passes roster check")
            failed += 1
    passed = 2 * (2 + len(INVALID)) - failed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
