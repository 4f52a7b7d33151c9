"""The published JSON Schemas (schemas/*.schema.json) as validators, for the
e2e tests that check the records they produce and consume against them. Uses
python3-jsonschema (installed by scripts/setup), the one library beyond the
standard library the e2e tests use: validating JSON Schema by hand would be a
second implementation to trust.
"""
import json
import os

import jsonschema
from referencing import Registry, Resource

from e2e_common import check

SCHEMAS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "schemas")
BASE = "https://slawatch.example/schemas/"


class Schemas:
    def __init__(self, schemas_dir=SCHEMAS_DIR):
        resources = []
        # The formats of records (draft 2020-12, with an $id); the config schemas are others' business.
        for name in ("case-event", "case-event-binary", "alert", "dead-letter"):
            name += ".schema.json"
            with open(os.path.join(schemas_dir, name), encoding="utf-8") as f:
                schema = json.load(f)
            jsonschema.Draft202012Validator.check_schema(schema)
            check(schema["$id"] == BASE + name, f"{name}: $id {schema['$id']}")
            resources.append((schema["$id"], Resource.from_contents(schema)))
        self.registry = Registry().with_resources(resources)
        self.validators = {}

    def validator(self, name):
        if name not in self.validators:
            schema = self.registry.contents(BASE + name + ".schema.json")
            self.validators[name] = jsonschema.Draft202012Validator(
                schema, registry=self.registry, format_checker=jsonschema.FormatChecker())
        return self.validators[name]

    def errors(self, name, obj):
        return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
                for e in self.validator(name).iter_errors(obj)]

    def check(self, name, obj, where):
        problems = self.errors(name, obj)
        check(not problems, f"{where} does not match schemas/{name}.schema.json: {problems[:3]}\n{obj}")


def binary_mode(event):
    """The Kafka binary-mode record ({key, headers, value}) of a structured-mode case event."""
    headers = {"ce_" + k: v for k, v in event.items() if k != "data" and isinstance(v, str)}
    headers["content-type"] = "application/json"
    return {"key": event.get("subject"), "headers": headers, "value": event.get("data")}
