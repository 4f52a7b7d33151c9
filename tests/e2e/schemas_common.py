"""The published JSON Schemas (schemas/*.schema.json) as validators, for the
e2e tests that check the records they produce and consume against them. Uses
python3-jsonschema (installed by scripts/setup), the one library beyond the
standard library the e2e tests use: validating JSON Schema by hand would be a
second implementation to trust.
"""
import json
import os

import jsonschema

try:  # jsonschema >= 4.18 resolves references through `referencing`; older ones through RefResolver
    from referencing import Registry, Resource
except ImportError:
    Registry = Resource = None

from e2e_common import check

SCHEMAS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "schemas")
BASE = "https://slawatch.example/schemas/"


class Schemas:
    def __init__(self, schemas_dir=SCHEMAS_DIR):
        self.by_id = {}
        # The formats of records (draft 2020-12, with an $id); the config schemas are others' business.
        for name in ("case-event", "case-event-binary", "alert", "dead-letter"):
            name += ".schema.json"
            with open(os.path.join(schemas_dir, name), encoding="utf-8") as f:
                schema = json.load(f)
            jsonschema.Draft202012Validator.check_schema(schema)
            check(schema["$id"] == BASE + name, f"{name}: $id {schema['$id']}")
            self.by_id[schema["$id"]] = schema
        self.validators = {}

    def schema(self, file_name):
        return self.by_id[BASE + file_name]

    def validator(self, name):
        if name not in self.validators:
            schema = self.schema(name + ".schema.json")
            checker = jsonschema.FormatChecker()
            if Registry is not None:
                registry = Registry().with_resources(
                    (uri, Resource.from_contents(contents)) for uri, contents in self.by_id.items())
                validator = jsonschema.Draft202012Validator(schema, registry=registry, format_checker=checker)
            else:
                resolver = jsonschema.RefResolver(schema["$id"], schema, store=dict(self.by_id))
                validator = jsonschema.Draft202012Validator(schema, resolver=resolver, format_checker=checker)
            self.validators[name] = validator
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
