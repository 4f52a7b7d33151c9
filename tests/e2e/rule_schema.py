"""The JSON Schemas (schemas/rules.schema.json, schemas/calendar.schema.json)
and `slawatch rules check` agree: every shipped rule and calendar file (rules/,
config/calendars/, the contract examples) is accepted by both, and every
sample in tests/rules/invalid/ (one mistake each) is rejected by both.

Needs Debian's python3-jsonschema and python3-yaml (scripts/setup).
usage: rule_schema.py SLAWATCH REPO_DIR SHARED_DIR
"""
import glob
import json
import os
import pathlib
import shutil
import warnings

import jsonschema
import yaml

from e2e_common import TempDir, check, main, run

# Calendar-only files need a rule beside them: `rules check` wants at least one.
HELPER_RULE = ("id: schema-test-helper\nkind: deadline\ntitle: Helper\nstart: [dispatched]\n"
               "stop: [acknowledged]\ntarget: 30m\nstages:\n  - {name: breach, at: 100%, severity: major}\n")


class PlainLoader(yaml.SafeLoader):
    """YAML as editors see it (YAML 1.2 core): 2026-01-01 stays a string."""


PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def validators(repo):
    schemas = os.path.join(repo, "schemas")
    loaded = {}
    for name in ("rules.schema.json", "calendar.schema.json"):
        with open(os.path.join(schemas, name), encoding="utf-8") as f:
            loaded[name] = json.load(f)
        jsonschema.Draft7Validator.check_schema(loaded[name])
    base = pathlib.Path(schemas).as_uri() + "/"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # RefResolver: deprecated in newer jsonschema
        store = {base + name: schema for name, schema in loaded.items()}
        resolver = jsonschema.RefResolver(base_uri=base + "rules.schema.json", referrer=loaded["rules.schema.json"],
                                          store=store)
        return (jsonschema.Draft7Validator(loaded["rules.schema.json"], resolver=resolver),
                jsonschema.Draft7Validator(loaded["calendar.schema.json"]))


def schema_errors(rules_validator, calendar_validator, path):
    """Every schema violation of every document in the file, as text."""
    with open(path, encoding="utf-8") as f:
        try:
            documents = [d for d in yaml.load_all(f, Loader=PlainLoader) if d is not None]
        except yaml.YAMLError as e:
            return [f"not YAML: {e}"]
    errors = []
    for document in documents:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            errors += [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                       for e in rules_validator.iter_errors(document)]
            if isinstance(document, dict) and document.get("kind") == "calendar":
                errors += [f"(calendar) {e.message}" for e in calendar_validator.iter_errors(document)]
    return errors


def is_calendar_only(path):
    with open(path, encoding="utf-8") as f:
        documents = [d for d in yaml.load_all(f, Loader=PlainLoader) if isinstance(d, dict)]
    return documents and all(d.get("kind") == "calendar" for d in documents)


def rules_check(slawatch, path, work):
    """(exit code, stderr) of `rules check` on one file (with a helper rule for calendar-only files)."""
    if is_calendar_only(path):
        folder = os.path.join(work, "check-" + os.path.basename(path))
        shutil.rmtree(folder, ignore_errors=True)
        os.mkdir(folder)
        shutil.copy(path, folder)
        with open(os.path.join(folder, "helper.yaml"), "w", encoding="utf-8") as f:
            f.write(HELPER_RULE)
        path = folder
    completed = run([slawatch, "rules", "check", path])
    return completed.returncode, completed.stderr_text


def test(argv):
    check(len(argv) == 3, "usage: rule_schema.py SLAWATCH REPO_DIR SHARED_DIR")
    slawatch, repo, shared = (os.path.abspath(a) for a in argv)
    rules_validator, calendar_validator = validators(repo)

    shipped = sorted(set(
        glob.glob(os.path.join(repo, "rules", "**", "*.yaml"), recursive=True)
        + glob.glob(os.path.join(repo, "config", "calendars", "**", "*.yaml"), recursive=True)
        + glob.glob(os.path.join(shared, "spec", "examples", "*", "rules", "**", "*.yaml"), recursive=True)))
    check(len(shipped) >= 10, f"expected the shipped rule files, found {shipped}")
    invalid = sorted(glob.glob(os.path.join(repo, "tests", "rules", "invalid", "*.yaml")))
    check(len(invalid) >= 8, f"expected at least 8 invalid samples, found {len(invalid)}")

    with TempDir("schema") as work:
        # Whole rule sets as the monitor loads them.
        for folder in [os.path.join(repo, "rules")] + glob.glob(os.path.join(shared, "spec", "examples", "*", "rules")):
            completed = run([slawatch, "rules", "check", folder])
            check(completed.returncode == 0, f"rules check {folder}: {completed.stderr_text}")
        for path in shipped:
            errors = schema_errors(rules_validator, calendar_validator, path)
            check(not errors, f"schema rejects shipped {path}:\n  " + "\n  ".join(errors))
            if is_calendar_only(path):  # rule files were checked with their folder above
                code, err = rules_check(slawatch, path, work)
                check(code == 0, f"rules check rejects shipped {path}: {err}")
            with open(path, encoding="utf-8") as f:
                first = f.readline()
            if path.startswith(repo):
                check(first.startswith("# yaml-language-server: $schema="),
                      f"{path}: no yaml-language-server modeline on the first line")
        print(f"accepted by both: {len(shipped)} shipped files")

        for path in invalid:
            name = os.path.basename(path)
            errors = schema_errors(rules_validator, calendar_validator, path)
            check(errors, f"schema accepts invalid sample {name}")
            code, err = rules_check(slawatch, path, work)
            check(code == 1, f"rules check accepts invalid sample {name} (exit {code})")
            check(any(name + ":" in line for line in err.splitlines()),
                  f"rules check's diagnostics do not name {name}: {err}")
            print(f"rejected by both: {name}: {errors[0][:100]}")


if __name__ == "__main__":
    main(test)
